/**
 * The typed operations on one collection: `backend.system.data.posts.list()` and the rest.
 * @module
 */
import type { Schema, Privilege } from "../define/types.js";
import type { DataApi } from "../define/scope.js";
import type { CollectionModel, Model } from "../model/model.js";
import type { DataContext } from "./context.js";
import { countRecords, getRecord, listRecords } from "./read.js";
import { createManyRecords } from "./create-many.js";
import { createRecord } from "./create.js";
import { deleteRecord } from "./delete.js";
import { deleteManyRecords, updateManyRecords } from "./many-writes.js";
import { updateRecord } from "./update.js";
import { upsertRecord } from "./upsert.js";

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
  subscribe(options?: unknown, onEvent?: (event: unknown) => void) {
    const ports = this.#ctx.shared.ports;
    if (onEvent === undefined) return ports.iterate(this.#ctx, this.#collection, options);
    if (typeof onEvent !== "function") throw new TypeError("subscribe(options, onEvent): onEvent must be a function.");
    return ports.subscribe(this.#ctx, this.#collection, options, {
      push: (event, shared) => {
        onEvent(shared ? structuredClone(event) : event);
        return true;
      },
      end: (reason) => onEvent({ type: "end", reason }),
    });
  }
}

const CONTEXT = Symbol("context");
const OPERATIONS = Symbol("operations");

type DataApiClass = new (ctx: DataContext) => DataApi<Schema, Privilege>;

/**
 * One class per model, with a getter per collection: a data API is made per caller and per
 * request, so it costs one small object whatever the number of collections, and a collection's
 * operations are made the first time they are used (then kept in the API's slots, by the
 * collection's place in the model: the object's shape never changes).
 */
const classes = new WeakMap<Model, DataApiClass>();

function classOf(model: Model): DataApiClass {
  let DataApiOfModel = classes.get(model);
  if (DataApiOfModel !== undefined) return DataApiOfModel;
  const count = model.collections.size;
  class Api {
    readonly [CONTEXT]: DataContext;
    [OPERATIONS]: (Operations | undefined)[] | undefined;
    constructor(ctx: DataContext) {
      this[CONTEXT] = ctx;
      this[OPERATIONS] = undefined;
    }
  }
  let slot = 0;
  for (const collection of model.collections.values()) {
    const at = slot++;
    Object.defineProperty(Api.prototype, collection.name, {
      enumerable: true,
      get(this: Api) {
        const operations = (this[OPERATIONS] ??= new Array<Operations | undefined>(count));
        return (operations[at] ??= new Operations(this[CONTEXT], collection));
      },
    });
  }
  Object.freeze(Api.prototype);
  DataApiOfModel = Api as unknown as DataApiClass;
  classes.set(model, DataApiOfModel);
  return DataApiOfModel;
}

/** @internal The data API of one context (the root connection or a transaction). */
export function createDataApi(ctx: DataContext, model: Model): DataApi<Schema, Privilege> {
  return new (classOf(model))(ctx);
}
