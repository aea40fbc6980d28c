/**
 * Scopes: who is calling, and what it may reach. `backend.as(user)` and `backend.system`.
 * @module
 */
import type { Kysely } from "kysely";
import type { Principal } from "../access/principal.js";
import type { ActionsApi, AnyAction } from "../actions/action.js";
import { runAction, type ActionServices } from "../actions/run-action.js";
import { createDataApi, type DataApi } from "../data/collection-api.js";
import { afterCommit, type DataContext } from "../data/context.js";
import type { Enqueue, EnqueueOptions } from "../jobs/enqueue-types.js";
import type { AnyJob } from "../jobs/job.js";
import type { DB, DialectName, Schema, Visibility } from "../schema/types.js";

/**
 * What a caller reaches: the data of every collection (through its rules), the actions, and
 * transactions. `backend.system` is the scope that skips every rule: the one explicit bypass.
 *
 * @example
 * ```ts
 * const alice = backend.as({ id: aliceId, role: "member" });
 * await alice.data.posts.list();          // alice's rules apply
 * await alice.actions.publish({ id });
 * ```
 */
export interface Scope<
  S extends Schema,
  D extends DialectName,
  A extends Record<string, AnyAction> = {},
  V extends Visibility = "system",
  J extends Record<string, AnyJob> = {},
> {
  /** The caller; `null` when anonymous and for the system scope. */
  readonly user: Principal | null;
  /** The collections' operations, by name. */
  readonly data: DataApi<S, V>;
  /** The backend's actions, called as this caller. */
  readonly actions: ActionsApi<A>;
  /**
   * Runs `fn` in one database transaction: every write through `tx.data`, `tx.actions` and
   * `tx.db` commits together, or none does when `fn` throws (the error is rethrown). A
   * transaction started inside another joins it.
   * @example
   * ```ts
   * await backend.system.transaction(async (tx) => {
   *   const post = await tx.data.posts.create({ title: "Hello", slug: "hello", author });
   *   await tx.db.updateTable("users").set({ postCount: 1 }).where("id", "=", author).execute();
   * });
   * ```
   */
  transaction<T>(fn: (tx: TransactionScope<S, D, A, V, J>) => Promise<T>): Promise<T>;
  /**
   * Enqueues a job of the backend, its input checked against the job's schema (`VALIDATION_FAILED`
   * when it does not fit: nothing is enqueued). In a transaction, the job is written by the
   * transaction: it exists only if the transaction commits.
   * @example
   * ```ts
   * await backend.system.transaction(async (tx) => {
   *   const user = await tx.data.users.create({ email });
   *   await tx.enqueue("sendWelcome", { to: user.email }, { delay: 60_000 });
   * });
   * ```
   */
  readonly enqueue: Enqueue<J>;
}

/** A scope bound to an open transaction. */
export interface TransactionScope<
  S extends Schema,
  D extends DialectName,
  A extends Record<string, AnyAction> = {},
  V extends Visibility = "system",
  J extends Record<string, AnyJob> = {},
> extends Scope<S, D, A, V, J> {
  /** Kysely, bound to this transaction. */
  readonly db: Kysely<DB<S, D>>;
  /** Runs `fn` once the outermost transaction has committed, never after a rollback. */
  afterCommit(fn: () => void | Promise<void>): void;
}

/** @internal The scope of a context: its data, its actions, its transactions. */
export function createScope(ctx: DataContext, services: ActionServices): TransactionScope<Schema, DialectName> {
  let api: Record<string, (input: unknown) => Promise<unknown>> | undefined;
  const scope = {
    user: ctx.user,
    data: createDataApi(ctx, ctx.model),
    // Made on first use: most requests never call an action through the scope.
    get actions() {
      if (api === undefined) {
        api = {};
        for (const [name, definition] of Object.entries(services.actions)) {
          api[name] = (input) => runAction(services, ctx, name, definition, input);
        }
        Object.freeze(api);
      }
      return api;
    },
    db: ctx.db,
    transaction: <T>(fn: (tx: TransactionScope<Schema, DialectName>) => Promise<T>) =>
      ctx.atomic((tx) => fn(tx === ctx ? (scope as TransactionScope<Schema, DialectName>) : createScope(tx, services))),
    afterCommit: (fn: () => void | Promise<void>) => afterCommit(ctx, fn),
    enqueue: (name: string, input: unknown, options?: EnqueueOptions) => services.enqueue(ctx, name, input, options),
  };
  return scope as unknown as TransactionScope<Schema, DialectName>;
}
