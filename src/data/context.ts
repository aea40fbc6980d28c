/**
 * @internal Where the data layer runs its statements: the root connection or a transaction.
 * @module
 */
import type { CompiledQuery, Kysely, QueryResult } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Model } from "../schema/model.js";
import type { CompiledQueryCache } from "./compiled-query-cache.js";

/** Everything a data operation needs, bound to one connection or transaction. */
export interface DataContext {
  readonly runtime: DialectRuntime;
  readonly model: Model;
  readonly cache: CompiledQueryCache;
  /** The root Kysely instance, or the transaction statements run in. */
  readonly db: Kysely<any>;
  /** Whether `db` is a transaction. */
  readonly inTransaction: boolean;
  /** Runs `fn` in this transaction, or in a new one when there is none. */
  atomic<T>(fn: (ctx: DataContext) => Promise<T>): Promise<T>;
}

/** Runs one compiled statement in the context's connection. */
export function execute<R = Record<string, unknown>>(ctx: DataContext, query: CompiledQuery): Promise<QueryResult<R>> {
  return ctx.db.executeQuery(query as CompiledQuery<R>);
}

/** The context of the root connection; `atomic` opens a transaction bound to the same runtime. */
export function rootContext(runtime: DialectRuntime, model: Model, cache: CompiledQueryCache): DataContext {
  const root: DataContext = {
    runtime,
    model,
    cache,
    db: runtime.kysely,
    inTransaction: false,
    atomic: (fn) => runtime.transaction((trx) => fn(transactionContext(root, trx))),
  };
  return root;
}

/** The context of an open transaction; nested `atomic` calls join it. */
export function transactionContext(root: DataContext, trx: Kysely<any>): DataContext {
  const ctx: DataContext = {
    runtime: root.runtime,
    model: root.model,
    cache: root.cache,
    db: trx,
    inTransaction: true,
    atomic: (fn) => fn(ctx),
  };
  return ctx;
}
