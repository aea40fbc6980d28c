/**
 * The types of collection hooks: code that runs around writes, inside their transaction.
 * @module
 */
import type { Kysely } from "kysely";
import type { Principal } from "./principal.js";
import type { RegisteredSchema } from "./types.js";
import type { TransactionScope } from "./scope.js";
import type { Enqueue } from "./enqueue.js";
import type { RegisteredJobs } from "./handles.js";
import type { Fields } from "./types.js";
import type { DB, DialectName, InferFields, UpdateInputOf } from "./types.js";

// `system` and `db` are typed from the registered collections, among which is the collection
// whose hooks these are, while `collection()` infers its type. TypeScript gives a hook's
// destructured parameters their types at once: had `system` been typed
// `TransactionScope<RegisteredSchema, ...>`, that would ask for the registered collections
// there, which would make the collection `any` (TS2456, "RegisteredSchema circularly references
// itself"). An alias of a class or interface type resolves its type arguments only when a member
// is used, in the hook's body, which is checked once the collection's type is known.
type HookSystem = TransactionScope<RegisteredSchema, DialectName, {}, "system", RegisteredJobs>;
type HookDb = Kysely<DB<RegisteredSchema, DialectName>>;

/** What every hook is given. */
export interface HookContext {
  /** The caller whose write runs the hook (`null` when anonymous, or for the system scope). */
  readonly user: Principal | null;
  /** The system scope, bound to the write's transaction. */
  readonly system: HookSystem;
  /** Kysely, bound to the write's transaction. */
  readonly db: HookDb;
  /**
   * Runs `fn` once the outermost transaction has committed, never after a rollback. Its failure
   * is reported to the backend's logger.
   */
  afterCommit(fn: () => void | Promise<void>): void;
  /**
   * Enqueues a job in the write's transaction: it exists only if the write commits. Typed from
   * `Register["jobs"]` when declared.
   * @example
   * ```ts
   * afterCreate: async ({ record, enqueue }) => {
   *   await enqueue("indexPost", { id: record.id });
   * },
   * ```
   */
  readonly enqueue: Enqueue<RegisteredJobs>;
}

/** What a write did, for `afterCommit` hooks. */
export interface CommittedChange<F extends Fields> {
  readonly operation: "create" | "update" | "delete";
  /** The record as written (for a delete: as it was). */
  readonly record: InferFields<F>;
  /** The record before an update; `null` for create and delete. */
  readonly previous: InferFields<F> | null;
  readonly user: Principal | null;
}

/**
 * Hooks of a collection. `before*` and `after*` hooks run inside the write's transaction: a
 * throw rolls the write back. `beforeCreate` and `beforeUpdate` get the data as sent (types
 * checked, required fields not yet) and may return changed data, which is then validated.
 * `afterCommit` runs once the outermost transaction has committed.
 *
 * @example
 * ```ts
 * hooks: {
 *   beforeCreate: ({ data, user }) => ({ ...data, author: user!.id }),
 *   afterCommit: ({ operation, record }) => console.log(operation, record.id),
 * }
 * ```
 */
export interface CollectionHooks<F extends Fields> {
  beforeCreate?(
    context: HookContext & { readonly data: UpdateInputOf<F> },
  ): UpdateInputOf<F> | void | Promise<UpdateInputOf<F> | void>;
  afterCreate?(context: HookContext & { readonly record: InferFields<F> }): void | Promise<void>;
  beforeUpdate?(
    context: HookContext & { readonly data: UpdateInputOf<F>; readonly previous: InferFields<F> },
  ): UpdateInputOf<F> | void | Promise<UpdateInputOf<F> | void>;
  afterUpdate?(
    context: HookContext & { readonly record: InferFields<F>; readonly previous: InferFields<F> },
  ): void | Promise<void>;
  beforeDelete?(context: HookContext & { readonly record: InferFields<F> }): void | Promise<void>;
  afterDelete?(context: HookContext & { readonly record: InferFields<F> }): void | Promise<void>;
  afterCommit?(change: CommittedChange<F>): void | Promise<void>;
}
