/**
 * @internal Running an action: validation, access, one transaction, output.
 * @module
 */
import { denied } from "../access/caller-access.js";
import type { DataContext } from "../data/context.js";
import { TransactionMembers } from "../data/hook-context.js";
import { publishAccessors } from "../support/accessors.js";
import { issuesOf, validationError } from "../errors/validation.js";
import type { EnqueuedJob, EnqueueManyOptions, EnqueueOptions } from "../define/enqueue.js";
import type { Action, ActionAuth, ActionContext } from "../define/action.js";

type Client = { address?: string; userAgent?: string };

/** What `auth` in actions calls: the backend's built-in auth, as actions see it. */
export interface AuthForActions {
  createUser(input: never): Promise<unknown>;
  signUp(body: Record<string, unknown>, client: Client): Promise<unknown>;
  verifyEmail(body: Record<string, unknown>, client: Client): Promise<unknown>;
  signIn(email: string, password: string, client: Client): Promise<unknown>;
  createSession: ActionAuth["createSession"];
  verifyToken: ActionAuth["verifyToken"];
  revokeSession: ActionAuth["revokeSession"];
  revokeSessions: ActionAuth["revokeSessions"];
  setPassword: ActionAuth["setPassword"];
  sendVerificationEmail: ActionAuth["sendVerificationEmail"];
  readonly apiKeys: ActionAuth["apiKeys"];
}

/**
 * What running actions needs besides the caller's context, given once when the backend is made:
 * the actions, the scope of a context, jobs and built-in auth.
 */
export interface ActionServices {
  readonly actions: Readonly<Record<string, Action<never, unknown>>>;
  /** The scope of a context (its data, actions, transactions), as handlers get it. */
  scopeOf(ctx: DataContext): { readonly data: unknown };
  enqueue(ctx: DataContext, name: string, input: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  enqueueMany(ctx: DataContext, name: string, inputs: readonly unknown[], options?: EnqueueManyOptions): Promise<EnqueuedJob[]>;
  /** Built-in auth; `undefined` when the backend has none. */
  readonly auth: AuthForActions | undefined;
}

/** What an HTTP call knows of its caller's credentials, for `auth` in actions. */
export interface CallCredentials {
  /** The session token or API key the request carried. */
  readonly token: string | null;
  /** The client's address and user agent, for the rate limits and sessions. */
  readonly client: { address?: string; userAgent?: string };
}

const IN_PROCESS: CallCredentials = { token: null, client: {} };

/**
 * `auth` of an action's context: the backend's, with the call's client. Its methods run their
 * own statements, which must commit whatever the action does: inside a transaction they throw.
 */
function actionAuth(services: ActionServices, ctx: DataContext, name: string, credentials: CallCredentials): ActionAuth {
  const auth = services.auth;
  if (auth === undefined) {
    throw new Error(`The action ${name} reads auth, but this backend has no built-in auth (createBackend({ auth: { password: {} } })).`);
  }
  const client = credentials.client;
  const outside =
    <F extends (...args: never[]) => unknown>(fn: F): F =>
    ((...args: Parameters<F>) => {
      if (ctx.transaction !== undefined) {
        throw new Error(
          `The action ${name} calls auth inside a transaction: give it transaction: false, so that what authentication writes (sessions, failed sign-ins) commits whatever the action does.`,
        );
      }
      return fn(...args);
    }) as F;
  return {
    createUser: outside((input) => auth.createUser(input as never) as never),
    signUp: outside((input) => auth.signUp(input as unknown as Record<string, unknown>, client) as never),
    verifyEmail: outside((input) => auth.verifyEmail(input as unknown as Record<string, unknown>, client) as never),
    signIn: outside((email, password, other = client) => auth.signIn(email, password, other) as never),
    createSession: outside((userId, other = client) => auth.createSession(userId, other)),
    verifyToken: outside((token) => auth.verifyToken(token)),
    revokeSession: outside((token) => auth.revokeSession(token)),
    revokeSessions: outside((userId, options) => auth.revokeSessions(userId, options)),
    setPassword: outside((userId, password) => auth.setPassword(userId, password)),
    sendVerificationEmail: outside((userId) => auth.sendVerificationEmail(userId)),
    apiKeys: {
      create: outside((input) => auth.apiKeys.create(input)),
      list: outside((userId) => auth.apiKeys.list(userId)),
      revoke: outside((id) => auth.apiKeys.revoke(id)),
    },
    token: credentials.token,
  };
}

/**
 * The HTTP request of an action called over HTTP, as a function that gives it: over Node, the
 * Fetch `Request` is made only when a handler reads `request`.
 */
export type RequestOf = () => Request;

/**
 * An action's context: a hook's members (`user`, `system`, `db`, `afterCommit`, `enqueue`), its
 * input as its own property, and its request, data, auth and `call` read through the prototype
 * and made when read (most handlers use `input` and `data` alone).
 */
class ActionContextOf extends TransactionMembers {
  readonly input: unknown;
  readonly #requestOf: RequestOf | undefined;
  readonly #services: ActionServices;
  readonly #tx: DataContext;
  readonly #name: string;
  readonly #credentials: CallCredentials;
  #data: unknown;
  #auth: ActionAuth | undefined;

  constructor(services: ActionServices, tx: DataContext, name: string, input: unknown, requestOf: RequestOf | undefined, credentials: CallCredentials) {
    super(tx);
    this.input = input;
    this.#requestOf = requestOf;
    this.#services = services;
    this.#tx = tx;
    this.#name = name;
    this.#credentials = credentials;
  }

  get request(): Request | undefined {
    return this.#requestOf?.();
  }

  get data(): unknown {
    return (this.#data ??= this.#services.scopeOf(this.#tx).data);
  }

  get auth(): ActionAuth {
    return (this.#auth ??= actionAuth(this.#services, this.#tx, this.#name, this.#credentials));
  }

  get call(): ActionContext<unknown>["call"] {
    const services = this.#services;
    const tx = this.#tx;
    const requestOf = this.#requestOf;
    const credentials = this.#credentials;
    return (other, otherInput) => {
      const otherName = Object.entries(services.actions).find(([, known]) => known === (other as unknown))?.[0];
      return runAction(services, tx, otherName ?? "an unregistered action", other, otherInput, requestOf, credentials);
    };
  }
}
publishAccessors(ActionContextOf.prototype, ["request", "data", "auth", "call"]);

/**
 * Runs `action` for the caller of `ctx`, joining its transaction or opening one. The input is
 * validated first (`VALIDATION_FAILED`), then the access rule (absent: system scope only).
 */
export async function runAction<I, O>(
  services: ActionServices,
  ctx: DataContext,
  name: string,
  action: Action<I, O>,
  rawInput: unknown,
  requestOf?: RequestOf,
  credentials: CallCredentials = IN_PROCESS,
): Promise<O> {
  const definition = action.definition;
  const parsed = await definition.input.safeParseAsync(rawInput);
  if (!parsed.success) {
    throw validationError(`Invalid input of ${name}`, issuesOf(parsed.error, []));
  }
  const input = parsed.data;
  if (!ctx.trusted) {
    const allowed = definition.access === undefined ? false : await definition.access({ user: ctx.user, input });
    if (allowed !== true) throw denied(ctx.user, `You may not call ${name}.`);
  }
  const run = async (tx: DataContext): Promise<O> => {
    const context = new ActionContextOf(services, tx, name, input, requestOf, credentials) as unknown as ActionContext<unknown>;
    const result = await definition.handler(context);
    if (definition.output === undefined) return result as O;
    const output = await definition.output.safeParseAsync(result);
    if (!output.success) {
      throw new Error(`The action ${name} returned a value its output schema refuses: ${output.error.message}`);
    }
    return output.data as O;
  };
  return definition.transaction === false ? run(ctx) : ctx.atomic(run);
}
