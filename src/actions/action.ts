/**
 * `action()`: a business function with validated input and output, an access rule and one
 * transaction.
 * @module
 */
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { Principal, RegisteredSchema } from "../access/principal.js";
import type { TransactionScope } from "../backend/scope.js";
import type { DataApi } from "../data/collection-api.js";
import type { Enqueue } from "../jobs/enqueue-types.js";
import type { RegisteredJobs } from "../jobs/job.js";
import type { DB, DialectName } from "../schema/types.js";

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
  /** The HTTP request, when the action was called over HTTP. */
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

/** Any action. */
export type AnyAction = Action<never, unknown>;

/** The input an action takes (before validation). */
export type ActionInput<A> = A extends { readonly "~types"?: { readonly input: (input: infer I) => void } } ? I : never;
/** What an action returns. */
export type ActionOutput<A> = A extends { readonly "~types"?: { readonly output: () => infer O } } ? O : never;

/** The actions of a scope, called by name. */
export type ActionsApi<A extends Record<string, AnyAction>> = {
  readonly [K in keyof A]: (input: ActionInput<A[K]>) => Promise<ActionOutput<A[K]>>;
};

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
