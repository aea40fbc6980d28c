/**
 * `action()`: a business function with validated input and output, an access rule and one
 * transaction.
 * @module
 */
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { Principal } from "./principal.js";
import type { RegisteredSchema } from "./types.js";
import type { AuthApi, SessionInfo } from "./auth-api.js";
import type { DefaultUsers } from "./users.js";
import type { AnyCollection } from "./types.js";
import type { TransactionScope } from "./scope.js";
import type { DataApi } from "./scope.js";
import type { Enqueue } from "./enqueue.js";
import type { RegisteredJobs } from "./handles.js";
import type { CreateInput, DB, DialectName, Infer } from "./types.js";

/** The HTTP methods an action can be bound to. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Where an action answers over HTTP, besides `POST /actions/:name`. */
export interface ActionHttp {
  /** @default "POST" */
  method?: HttpMethod;
  /** A path with `:params`, merged into the input, e.g. `/posts/:id/publish`. */
  path: string;
  /**
   * The status of a success.
   * @default 200
   */
  status?: number;
}

/** The `users` collection of `Register["collections"]`, or the built-in one. */
export type RegisteredUsers = RegisteredSchema extends { users: infer U extends AnyCollection } ? U : DefaultUsers;

/**
 * What `auth.signUp` takes in an action: an e-mail address, the user's own fields, and a
 * password only when `requireEmailVerification` is off (with it on, the password is chosen with
 * `auth.verifyEmail`, by whoever follows the mailed link).
 */
export type SignUpInput<U extends AnyCollection = RegisteredUsers> = Omit<CreateInput<U, "caller">, "email"> & {
  email: string;
  password?: string;
};

/**
 * Built-in authentication in an action: `backend.auth`, with the call's client address and user
 * agent given to the rate limits and sessions, plus sign-up and the call's own token (but
 * `session(request)`: an action's caller is its `user`). Its
 * methods work in actions with `transaction: false` only (inside a transaction they throw):
 * what they write (accounts, sessions, failed-sign-in counters) commits at once, whatever the
 * action does next. `token` works in every action.
 *
 * @example
 * ```ts
 * const login = action({
 *   input: z.object({ email: z.string(), password: z.string() }),
 *   transaction: false,
 *   access: () => true,
 *   async handler({ input, auth }) {
 *     const { user, token } = await auth.signIn(input.email, input.password); // 401 INVALID_CREDENTIALS, 429
 *     return { id: user.id, token };
 *   },
 * });
 * ```
 */
export interface ActionAuth<U extends AnyCollection = RegisteredUsers> extends Omit<AuthApi<U>, "signIn" | "session"> {
  /**
   * Checks an e-mail address and password as `POST /auth/sign-in` does (the per-account and
   * per-address limits count, and failures are counted even when the action then fails): the
   * user's record and a new session, or 401 `INVALID_CREDENTIALS` / 429 `RATE_LIMITED`.
   */
  signIn(
    email: string,
    password: string,
    client?: { address?: string; userAgent?: string },
  ): Promise<{ user: Infer<U>; token: string; session: SessionInfo }>;
  /**
   * Signs up as `POST /auth/sign-up` does (the per-address limit counts; the user's fields are
   * written as an anonymous caller writes them, field rules included). With
   * `requireEmailVerification` off, `{ email, password, ...fields }` creates the account and a
   * session: `{ user, token, session }`, or 409 `EMAIL_TAKEN`. With it on, `{ email, ...fields }`
   * (a password is refused, 422) mails the link and returns `null`, for a taken address too.
   */
  signUp(input: SignUpInput<U>): Promise<{ user: Infer<U>; token: string; session: SessionInfo } | null>;
  /**
   * Follows a verification link as `POST /auth/verify-email` does, and signs in: a pending
   * sign-up's token creates the account with `password` (required), an existing account's token
   * marks its address verified (no password). 400 `INVALID_TOKEN` for a used or expired token.
   */
  verifyEmail(input: { token: string; password?: string }): Promise<{ user: Infer<U>; token: string; session: SessionInfo }>;
  /**
   * The session token or API key this call came with (an `Authorization` header or the session
   * cookie); `null` for anonymous and in-process calls.
   */
  readonly token: string | null;
}

/** What an action's handler is given. Everything in it is bound to the action's transaction. */
export interface ActionContext<Input> {
  /** The validated input. */
  readonly input: Input;
  /** The caller (`null` when anonymous, and for the system scope). */
  readonly user: Principal | null;
  /** The caller's data: its rules apply. */
  readonly data: DataApi<RegisteredSchema, "caller">;
  /** The system scope: no rules. */
  readonly system: TransactionScope<RegisteredSchema, DialectName, {}, "system", RegisteredJobs>;
  /** Kysely, bound to the transaction. */
  readonly db: Kysely<DB<RegisteredSchema, DialectName>>;
  /**
   * The HTTP request, when the action was called over HTTP, with whatever mount carried it: its
   * method, URL and headers as the client sent them, and its body, which the backend read already
   * (the input is its parsed value) but which can be read again.
   */
  readonly request: Request | undefined;
  /**
   * Calls another action as the same caller, in the same transaction.
   * @example
   * ```ts
   * await call(notify, { userId: post.author });
   * ```
   */
  call<I, O>(action: Action<I, O>, input: I): Promise<O>;
  /** Runs `fn` once the outermost transaction has committed, never after a rollback. */
  afterCommit(fn: () => void | Promise<void>): void;
  /**
   * Enqueues a job in the action's transaction: it exists only if the action succeeds. Typed from
   * `Register["jobs"]` when declared.
   * @example
   * ```ts
   * await enqueue("sendWelcome", { to: input.email });
   * ```
   */
  readonly enqueue: Enqueue<RegisteredJobs>;
  /**
   * Built-in authentication: its methods in actions with `transaction: false` (they throw inside
   * a transaction), `token` in every action. Reading it without built-in auth throws. See
   * {@link ActionAuth}.
   */
  readonly auth: ActionAuth;
}

/** What `action()` takes. */
export interface ActionDefinition<I extends z.ZodType, O extends z.ZodType | undefined, R> {
  /** The input schema; a call with input it refuses fails with `VALIDATION_FAILED`. */
  input: I;
  /** The output schema: the handler's result is parsed with it (a mismatch is a server error). */
  output?: O;
  /**
   * Who may call it, given the validated input. Absent: only the system scope.
   * @default () => false
   */
  access?: (context: { readonly user: Principal | null; readonly input: z.output<I> }) => boolean | Promise<boolean>;
  /** An HTTP route of its own (used by the HTTP handler). */
  http?: ActionHttp;
  /**
   * Whether the handler runs in one transaction. With `false`, each write through `data`,
   * `system` and `enqueue` commits on its own (`scope.transaction()` groups some), `afterCommit`
   * work runs at once, and `auth` is available. Called inside a transaction (through `call`, or
   * `tx.actions`), an action joins it either way.
   * @default true
   */
  transaction?: boolean;
  /** The business logic; it runs in one transaction, which a throw rolls back. */
  handler(context: ActionContext<z.output<I>>): R | Promise<R>;
}

/** A defined action: its input type `I` and output type `O`. */
export interface Action<I, O> {
  /** @internal */
  readonly definition: ActionDefinition<z.ZodType, z.ZodType | undefined, unknown>;
  /** @internal Type-level input (taken) and output (given); never set at runtime. */
  readonly "~types"?: { readonly input: (input: I) => void; readonly output: () => O };
}


/**
 * Defines an action: a business function with validated input (and output), an access rule,
 * an optional HTTP binding, and a handler that runs in one transaction.
 *
 * @example
 * ```ts
 * const publish = action({
 *   input: z.object({ id: z.string() }),
 *   http: { method: "POST", path: "/posts/:id/publish" },
 *   access: ({ user }) => user !== null,
 *   async handler({ input, data }) {
 *     const post = await data.posts.get(input.id);
 *     if (!post) throw new ApiError(404, "POST_NOT_FOUND", "No such post");
 *     return data.posts.update(post.id, { published: true });
 *   },
 * });
 *
 * const backend = createBackend({ collections, actions: { publish } });
 * await backend.as(user).actions.publish({ id });
 * ```
 */
export function action<I extends z.ZodType, R, O extends z.ZodType | undefined = undefined>(
  definition: ActionDefinition<I, O, R>,
): Action<z.input<I>, O extends z.ZodType ? z.output<O> : Awaited<R>> {
  return Object.freeze({ definition: definition as unknown as Action<unknown, unknown>["definition"] }) as never;
}
