/**
 * @internal Where an operation runs and for whom: the connection or transaction, the caller,
 * and what waits for the commit.
 * @module
 */
import type { CompiledQuery, Kysely, QueryResult } from "kysely";
import type { Principal } from "../define/principal.js";
import type { DialectRuntime, TransactionExecute } from "../dialects/dialect.js";
import type { Logger } from "../define/logger.js";
import type { HookContext } from "../define/hooks.js";
import type { EnqueuedJob, EnqueueOptions } from "../define/enqueue.js";
import type { CollectionModel, Model } from "../model/model.js";
import type { CompiledQueryCache } from "./compiled-query-cache.js";
import type { ResolvedLimits } from "./limits.js";

/**
 * What the data layer asks of the parts above it (scopes, jobs), for the context it gives hooks.
 * Given once, when the backend is made; the data layer knows nothing else of them.
 */
export interface EnginePorts {
  /** The system scope bound to a context's connection or transaction: hooks' `system`. */
  systemScope(ctx: DataContext): HookContext["system"];
  /** Enqueues a job with a context's connection or transaction. */
  enqueue(ctx: DataContext, name: string, input: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  /**
   * Writes a transaction's changes of realtime collections to the event log, in the
   * transaction, just before it commits (and queues, after the commit, what tells subscribers).
   */
  logChanges(ctx: DataContext, changes: readonly Change[]): Promise<void>;
  /**
   * Subscribes the context's caller to a collection's changes (`data.<name>.subscribe()`);
   * resolves, once it is live, to what ends it.
   */
  subscribe(ctx: DataContext, collection: CollectionModel, options: unknown, sink: SubscriptionSink): Promise<() => void>;
  /** The same, heard by iterating. */
  iterate(ctx: DataContext, collection: CollectionModel, options: unknown): AsyncIterableIterator<unknown> & { close(): void };
}

/**
 * A write of one record of a realtime collection: the record before and after it, each column's
 * value as the database is given it (what binds as a parameter, JSON-safe but for PostgreSQL's
 * `Date`s).
 */
export interface Change {
  readonly collection: CollectionModel;
  readonly id: string;
  readonly operation: "create" | "update" | "delete";
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
}

/** Where a subscription's events go. */
export interface SubscriptionSink {
  /**
   * An event; `false` when the subscriber is too slow to take more (the subscription then ends).
   * `shared` when other subscribers are given the same object: a sink that hands it to code
   * which may change it gives a copy.
   */
  push(event: Readonly<Record<string, unknown>>, shared: boolean): boolean;
  /** The last event, `end`, heard however slow the subscriber: the backend ended the subscription. */
  end(reason: string): void;
}

/** What every context of one backend shares; made once, never changed. */
export interface Shared {
  readonly runtime: DialectRuntime;
  readonly model: Model;
  readonly cache: CompiledQueryCache;
  readonly logger: Logger;
  /** What one operation of a caller (not the system scope) may ask for. */
  readonly limits: ResolvedLimits;
  readonly ports: EnginePorts;
}

/** An open transaction: the work that waits for its commit. */
export interface TransactionState {
  readonly afterCommit: (() => void | Promise<void>)[];
  /** The writes of realtime collections, for the event log. */
  readonly changes: Change[];
  /** Runs a compiled statement in the transaction without Kysely's executor, where the driver can. */
  readonly execute: TransactionExecute | undefined;
}

/** Everything a data operation needs, bound to one connection or transaction and one caller. */
export interface DataContext {
  readonly runtime: DialectRuntime;
  readonly model: Model;
  readonly cache: CompiledQueryCache;
  readonly shared: Shared;
  /** The root Kysely instance, or the transaction statements run in. */
  readonly db: Kysely<any>;
  /** The open transaction, if any. */
  readonly transaction: TransactionState | undefined;
  /** The caller; `null` when anonymous (and for the system scope). */
  readonly user: Principal | null;
  /** Whether rules are skipped: the context of the system scope (and of what it runs). */
  readonly trusted: boolean;
  /**
   * Whether reads keep datetimes as the ISO text the database holds (where it holds text), for
   * an answer written as JSON: the context of an HTTP read or write of records. Never that of
   * code users write (hooks run in a transaction's context, actions in their own), which gets
   * `Date`s.
   */
  readonly textDates: boolean;
  /** Runs `fn` in this transaction, or in a new one (then runs what waits for its commit). */
  atomic<T>(fn: (ctx: DataContext) => Promise<T>): Promise<T>;
  /** The same connection or transaction, for another caller. */
  as(user: Principal | null, trusted: boolean): DataContext;
}

/** Runs one compiled statement in the context's connection. */
export function execute<R = Record<string, unknown>>(ctx: DataContext, query: CompiledQuery): Promise<QueryResult<R>> {
  const transaction = ctx.transaction;
  if (transaction === undefined) {
    if (ctx.runtime.executeDirectly !== undefined) {
      const result = ctx.runtime.executeDirectly(query);
      if (result !== undefined) return result as Promise<QueryResult<R>>;
    }
  } else if (transaction.execute !== undefined) {
    return transaction.execute(query) as Promise<QueryResult<R>>;
  }
  return ctx.db.executeQuery(query as CompiledQuery<R>);
}

/** Queues `fn` to run after the context's transaction commits (at once when there is none). */
export function afterCommit(ctx: DataContext, fn: () => void | Promise<void>): void {
  if (ctx.transaction !== undefined) ctx.transaction.afterCommit.push(fn);
  else void runAfterCommit(ctx.shared.logger, [fn]);
}

async function runAfterCommit(logger: Logger, handlers: readonly (() => void | Promise<void>)[]): Promise<void> {
  for (const handler of handlers) {
    try {
      await handler();
    } catch (error) {
      logger.error("An afterCommit handler failed; the transaction had committed.", { error });
    }
  }
}

/**
 * The context of an open transaction for a caller. Its Kysely instance is made when first read:
 * the data layer runs its statements with the transaction's `execute` where the driver has one.
 */
class TransactionContext implements DataContext {
  readonly runtime: DialectRuntime;
  readonly model: Model;
  readonly cache: CompiledQueryCache;
  readonly textDates = false;

  constructor(
    readonly shared: Shared,
    readonly trx: () => Kysely<any>,
    readonly transaction: TransactionState,
    readonly user: Principal | null,
    readonly trusted: boolean,
  ) {
    this.runtime = shared.runtime;
    this.model = shared.model;
    this.cache = shared.cache;
  }

  get db(): Kysely<any> {
    return this.trx();
  }

  atomic<T>(fn: (ctx: DataContext) => Promise<T>): Promise<T> {
    return fn(this);
  }

  as(other: Principal | null, otherTrusted: boolean): DataContext {
    return new TransactionContext(this.shared, this.trx, this.transaction, other, otherTrusted);
  }
}

/**
 * The context of the root connection for a caller. A class, so that the context a request makes
 * is one object: its methods are shared, not closures made per caller.
 */
class RootContext implements DataContext {
  readonly runtime: DialectRuntime;
  readonly model: Model;
  readonly cache: CompiledQueryCache;
  readonly db: Kysely<any>;
  readonly transaction: undefined = undefined;

  constructor(
    readonly shared: Shared,
    readonly user: Principal | null,
    readonly trusted: boolean,
    readonly textDates: boolean,
  ) {
    this.runtime = shared.runtime;
    this.model = shared.model;
    this.cache = shared.cache;
    this.db = shared.runtime.kysely;
  }

  async atomic<T>(fn: (ctx: DataContext) => Promise<T>): Promise<T> {
    const { shared, user, trusted } = this;
    let state: TransactionState | undefined;
    const run = async (trx: () => Kysely<any>, execute: TransactionExecute | undefined) => {
      // A retried transaction starts over: what the failed attempt queued is dropped.
      const current: TransactionState = (state = { afterCommit: [], changes: [], execute });
      const ctx = new TransactionContext(shared, trx, current, user, trusted);
      const result = await fn(ctx);
      if (current.changes.length > 0) await shared.ports.logChanges(ctx, current.changes);
      return result;
    };
    const { runtime } = shared;
    const result =
      runtime.transactionLazily !== undefined
        ? await runtime.transactionLazily(run)
        : await runtime.transaction((trx, execute) => run(() => trx, execute));
    if (state !== undefined && state.afterCommit.length > 0) await runAfterCommit(shared.logger, state.afterCommit);
    return result;
  }

  as(other: Principal | null, otherTrusted: boolean): DataContext {
    return new RootContext(this.shared, other, otherTrusted, false);
  }
}

/**
 * The context of the root connection for a caller; `atomic` opens a transaction (whose context
 * has `Date`s, whatever `textDates`).
 */
export function rootContext(shared: Shared, user: Principal | null, trusted: boolean, textDates = false): DataContext {
  return new RootContext(shared, user, trusted, textDates);
}
