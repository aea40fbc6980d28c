/**
 * What user code holds: a scope (`backend.system`, `backend.as(user)`, the `tx` of a transaction,
 * the scope of a hook, an action or a job) and the typed operations on each collection. Declared
 * here, below everything that implements them.
 * @module
 */
import type { Kysely } from "kysely";
import type { ActionsApi, AnyAction } from "./handles.js";
import type { Enqueue, EnqueueMany } from "./enqueue.js";
import type { AnyJob } from "./handles.js";
import type { Principal } from "./principal.js";
import type {
  CreateInput,
  DB,
  DialectName,
  Infer,
  ListOptions,
  Page,
  ReadOptions,
  RecordOf,
  Schema,
  SubscribeOptions,
  SubscriptionEvent,
  UpdateInput,
  Privilege,
  Where,
} from "./types.js";

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
  V extends Privilege = "system",
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
  /**
   * Enqueues jobs of one name, one per input, with one `INSERT` (up to 2,730 jobs on SQLite and
   * 5,461 on PostgreSQL; at most 10,000 per call), each input checked as `enqueue` checks it
   * (`VALIDATION_FAILED` with the index of the input in the path: nothing is enqueued). In a
   * transaction, written by the transaction. Resolves to the jobs' ids, in the inputs' order.
   * @example
   * ```ts
   * await backend.system.transaction(async (tx) => {
   *   const users = await tx.data.users.list({ where: { welcomed: false } });
   *   await tx.enqueueMany("sendWelcome", users.map((user) => ({ userId: user.id })));
   * });
   * ```
   */
  readonly enqueueMany: EnqueueMany<J>;
}

/** A scope bound to an open transaction. */
export interface TransactionScope<
  S extends Schema,
  D extends DialectName,
  A extends Record<string, AnyAction> = {},
  V extends Privilege = "system",
  J extends Record<string, AnyJob> = {},
> extends Scope<S, D, A, V, J> {
  /** Kysely, bound to this transaction. */
  readonly db: Kysely<DB<S, D>>;
  /** Runs `fn` once the outermost transaction has committed, never after a rollback. */
  afterCommit(fn: () => void | Promise<void>): void;
}

type Counted<O> = O extends { count: true } ? true : false;

/**
 * The operations on collection `N`. Every filter, sort, selection and include is checked against
 * the schema (unknown names are errors), and every write is validated.
 *
 * @example
 * ```ts
 * const posts = backend.system.data.posts;
 * const post = await posts.create({ title: "Hello", slug: "hello", author: alice.id });
 * const page = await posts.list({
 *   where: { published: true },
 *   orderBy: [{ createdAt: "desc" }],
 *   limit: 20,
 *   include: { author: true },
 * });
 * ```
 */
export interface CollectionApi<S extends Schema, N extends keyof S & string, V extends Privilege = "system"> {
  /**
   * A page of records: `{ items, nextCursor }`, and `total` when `count: true`. Pass
   * `nextCursor` back as `cursor` for the next page; it is `null` on the last one.
   * @example
   * ```ts
   * const { items, nextCursor } = await posts.list({ where: { title: { contains: "SQL" } }, limit: 20 });
   * const next = await posts.list({ where: { title: { contains: "SQL" } }, limit: 20, cursor: nextCursor });
   * ```
   */
  list<const O extends ListOptions<S, N> = {}>(options?: O): Promise<Page<RecordOf<S, N, O, V>, Counted<O>>>;
  /**
   * One record by id, or `null` when there is none.
   * @example
   * ```ts
   * const post = await posts.get(id, { include: { author: true } });
   * ```
   */
  get<const O extends ReadOptions<S, N> = {}>(id: string, options?: O): Promise<RecordOf<S, N, O, V> | null>;
  /**
   * How many records match `where`.
   * @example
   * ```ts
   * const drafts = await posts.count({ where: { published: false } });
   * ```
   */
  count(options?: { where?: Where<S, N> }): Promise<number>;
  /**
   * Creates a record and returns it. Fails with `VALIDATION_FAILED` (each field's problem in
   * `issues`), `UNIQUE_VIOLATION` or `REFERENCE_NOT_FOUND`.
   * @example
   * ```ts
   * const post = await posts.create({ title: "Hello", slug: "hello", author: alice.id });
   * ```
   */
  create<const O extends ReadOptions<S, N> = {}>(data: CreateInput<S[N], V>, options?: O): Promise<RecordOf<S, N, O, V>>;
  /**
   * Creates several records in one transaction (all or none) and returns them in order.
   * @example
   * ```ts
   * await posts.createMany([{ title: "A", slug: "a", author }, { title: "B", slug: "b", author }]);
   * ```
   */
  createMany<const O extends ReadOptions<S, N> = {}>(
    data: readonly CreateInput<S[N], V>[],
    options?: O,
  ): Promise<RecordOf<S, N, O, V>[]>;
  /**
   * Changes the given fields of a record and returns it; `NOT_FOUND` when there is none.
   * @example
   * ```ts
   * await posts.update(post.id, { published: true });
   * ```
   */
  update<const O extends ReadOptions<S, N> = {}>(
    id: string,
    data: UpdateInput<S[N], V>,
    options?: O,
  ): Promise<RecordOf<S, N, O, V>>;
  /**
   * Changes every record matching `where` (`{}` for all) in one statement.
   * @example
   * ```ts
   * const { count } = await posts.updateMany({ where: { author: bob.id }, data: { published: false } });
   * ```
   */
  updateMany(args: { where: Where<S, N>; data: UpdateInput<S[N], V> }): Promise<{ count: number }>;
  /**
   * Deletes a record and returns it; `NOT_FOUND` when there is none, `STILL_REFERENCED` when
   * records point to it through a `belongsTo` with `onDelete: "restrict"`.
   * @example
   * ```ts
   * await posts.delete(post.id);
   * ```
   */
  delete(id: string): Promise<RecordOf<S, N, {}, V>>;
  /**
   * Deletes every record matching `where` (`{}` for all) in one statement.
   * @example
   * ```ts
   * await posts.deleteMany({ where: { published: false } });
   * ```
   */
  deleteMany(args: { where: Where<S, N> }): Promise<{ count: number }>;
  /**
   * Updates the record whose unique field (or id) has the given value, or creates it. The value
   * in `where` is also written on create.
   * @example
   * ```ts
   * await posts.upsert({ where: { slug: "hello" }, create: { title: "Hello", slug: "hello", author }, update: { title: "Hello" } });
   * ```
   */
  upsert<const O extends ReadOptions<S, N> = {}>(
    args: { where: Partial<Infer<S[N]>>; create: CreateInput<S[N], V>; update: UpdateInput<S[N], V> },
    options?: O,
  ): Promise<RecordOf<S, N, O, V>>;
  /**
   * Hears the committed changes of the records the caller may list that match `where`, each
   * record as the caller reads it (`select`, `include`): `created`, `updated`, `deleted`, and
   * `entered`/`left` when an update makes a record start or stop matching. Only for a collection
   * declared with `realtime: true`, outside a transaction. Resolves once the subscription is
   * live, to the function that ends it. Changes made on other instances sharing the database
   * are heard too.
   * @example
   * ```ts
   * const stop = await backend.as(alice).data.posts.subscribe({ where: { published: true } }, (event) => {
   *   if (event.type === "created" || event.type === "entered") console.log("new", event.record.title);
   * });
   * stop();
   * ```
   */
  subscribe<const O extends SubscribeOptions<S, N> = {}>(
    options: O,
    onEvent: (event: SubscriptionEvent<RecordOf<S, N, O, V>>) => void,
  ): Promise<() => void>;
  /**
   * The same, as an async iterator: `for await` hears the events; leaving the loop (or `close()`)
   * ends the subscription. A subscriber that lets more events wait than the backend keeps for it
   * (`realtime.maxBuffered`) hears `end` with the reason `"slow"`.
   * @example
   * ```ts
   * for await (const event of backend.as(alice).data.posts.subscribe({ where: { published: true } })) {
   *   if (event.type === "end") break;
   *   console.log(event.type);
   * }
   * ```
   */
  subscribe<const O extends SubscribeOptions<S, N> = {}>(options?: O): Subscription<RecordOf<S, N, O, V>>;
}

/** A subscription heard by iterating: its events, and what ends it. */
export interface Subscription<T> extends AsyncIterableIterator<SubscriptionEvent<T>> {
  /** Ends the subscription: the iteration ends (events not yet taken are dropped). */
  close(): void;
}

/** The operations on every collection of a backend, by collection name, for a reader `V`. */
export type DataApi<S extends Schema, V extends Privilege = "system"> = {
  readonly [N in keyof S & string]: CollectionApi<S, N, V>;
};
