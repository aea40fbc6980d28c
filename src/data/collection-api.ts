/**
 * The typed operations on one collection: `backend.system.data.posts.list()` and the rest.
 * @module
 */
import type {
  CreateInput,
  Infer,
  ListOptions,
  Page,
  ReadOptions,
  RecordOf,
  Schema,
  UpdateInput,
  Visibility,
  Where,
} from "../schema/types.js";
import type { CollectionModel, Model } from "../schema/model.js";
import type { DataContext } from "./context.js";
import { countRecords, getRecord, listRecords } from "./read.js";
import { createManyRecords } from "./create-many.js";
import { createRecord } from "./create.js";
import { deleteRecord } from "./delete.js";
import { deleteManyRecords, updateManyRecords } from "./many-writes.js";
import { updateRecord } from "./update.js";
import { upsertRecord } from "./upsert.js";

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
export interface CollectionApi<S extends Schema, N extends keyof S & string, V extends Visibility = "system"> {
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
}

/** The operations on every collection of a backend, by collection name, for a reader `V`. */
export type DataApi<S extends Schema, V extends Visibility = "system"> = {
  readonly [N in keyof S & string]: CollectionApi<S, N, V>;
};

class Operations {
  readonly #ctx: DataContext;
  readonly #collection: CollectionModel;

  constructor(ctx: DataContext, collection: CollectionModel) {
    this.#ctx = ctx;
    this.#collection = collection;
  }

  list(options?: unknown) {
    return listRecords(this.#ctx, this.#collection, options);
  }
  get(id: unknown, options?: unknown) {
    return getRecord(this.#ctx, this.#collection, id, options);
  }
  count(options?: unknown) {
    return countRecords(this.#ctx, this.#collection, options);
  }
  create(data: unknown, options?: unknown) {
    return createRecord(this.#ctx, this.#collection, data, options);
  }
  createMany(data: unknown, options?: unknown) {
    return createManyRecords(this.#ctx, this.#collection, data, options);
  }
  update(id: unknown, data: unknown, options?: unknown) {
    return updateRecord(this.#ctx, this.#collection, id, data, options);
  }
  updateMany(args: unknown) {
    return updateManyRecords(this.#ctx, this.#collection, args);
  }
  delete(id: unknown) {
    return deleteRecord(this.#ctx, this.#collection, id);
  }
  deleteMany(args: unknown) {
    return deleteManyRecords(this.#ctx, this.#collection, args);
  }
  upsert(args: unknown, options?: unknown) {
    return upsertRecord(this.#ctx, this.#collection, args, options);
  }
}

const CONTEXT = Symbol("context");

type DataApiClass = new (ctx: DataContext) => DataApi<Schema, Visibility>;

/**
 * One class per model, with a getter per collection: a data API is made per caller and per
 * request, so it costs one small object whatever the number of collections, and a collection's
 * operations are made the first time they are used.
 */
const classes = new WeakMap<Model, DataApiClass>();

function classOf(model: Model): DataApiClass {
  let DataApiOfModel = classes.get(model);
  if (DataApiOfModel !== undefined) return DataApiOfModel;
  class Api {
    readonly [CONTEXT]: DataContext;
    constructor(ctx: DataContext) {
      this[CONTEXT] = ctx;
    }
  }
  for (const collection of model.collections.values()) {
    Object.defineProperty(Api.prototype, collection.name, {
      enumerable: true,
      get(this: Api) {
        const operations = new Operations(this[CONTEXT], collection);
        Object.defineProperty(this, collection.name, { value: operations, enumerable: true });
        return operations;
      },
    });
  }
  Object.freeze(Api.prototype);
  DataApiOfModel = Api as unknown as DataApiClass;
  classes.set(model, DataApiOfModel);
  return DataApiOfModel;
}

/** @internal The data API of one context (the root connection or a transaction). */
export function createDataApi(ctx: DataContext, model: Model): DataApi<Schema, Visibility> {
  return new (classOf(model))(ctx);
}
