/**
 * @internal A Kysely driver for better-sqlite3 that reuses prepared statements and begins
 * transactions `IMMEDIATE`.
 * @module
 */
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { CompiledQuery, type ConnectionProvider, type DatabaseConnection, type Driver, type QueryResult } from "kysely";
import { ConnectionMutex } from "./connection-mutex.js";

/**
 * Prepared statements kept per connection. better-sqlite3 runs a statement to completion
 * synchronously, so one statement object can safely serve every call with the same SQL.
 */
class StatementCache {
  readonly #db: SqliteDatabase;
  readonly #statements = new Map<string, Statement>();
  readonly #size: number;

  constructor(db: SqliteDatabase, size: number) {
    this.#db = db;
    this.#size = size;
  }

  get(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= this.#size) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  clear(): void {
    this.#statements.clear();
  }
}

/**
 * @internal How SQLite write transactions begin. IMMEDIATE takes the write lock up front, so two
 * writers never deadlock halfway through (a DEFERRED transaction that later writes fails with
 * SQLITE_BUSY instead of waiting).
 */
export const BEGIN_IMMEDIATE = "begin immediate";

function bindable(value: unknown): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** The parameters as SQLite binds them: the same array when none needs converting (the usual case: the data layer encodes its values). */
function bindAll(parameters: readonly unknown[]): readonly unknown[] {
  for (const value of parameters) if (typeof value === "boolean" || value instanceof Date) return parameters.map(bindable);
  return parameters;
}

/** @internal The one connection of a SQLite database. */
export class SqliteConnection implements DatabaseConnection {
  readonly #statements: StatementCache;

  constructor(db: SqliteDatabase, cacheSize: number) {
    this.#statements = new StatementCache(db, cacheSize);
  }

  /** Runs one statement; synchronous underneath, so it never interleaves with another. */
  run<R>(sql: string, parameters: readonly unknown[]): QueryResult<R> {
    const statement = this.#statements.get(sql);
    const bound = bindAll(parameters);
    if (statement.reader) return { rows: statement.all(bound) as R[] };
    const { changes, lastInsertRowid } = statement.run(bound);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /** Runs a statement without parameters for its effect alone (`begin`, `commit`, `rollback`). */
  exec(sql: string): void {
    this.#statements.get(sql).run();
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return Promise.resolve(this.run<R>(query.sql, query.parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error("Streaming is not supported on SQLite.");
  }

  /** Drops cached statements (they pin the schema they were prepared against). */
  reset(): void {
    this.#statements.clear();
  }
}

/**
 * @internal A write transaction of the driver's own on the one connection: what its function is
 * handed. It provides the connection to a Kysely `Transaction` bound to it, and runs statements
 * directly; both refuse once the transaction has ended, with the errors of Kysely's own
 * transaction.
 */
export class SqliteTransaction implements ConnectionProvider {
  #status: "active" | "committed" | "rolled back" = "active";
  readonly #connection: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#connection = connection;
  }

  /** Runs one statement in the transaction, without Kysely's executor. */
  readonly execute = <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
    if (this.#status !== "active") return Promise.reject(this.#ended());
    return this.#connection.executeQuery<R>(query);
  };

  async provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    if (this.#status !== "active") throw this.#ended();
    return await consumer(this.#connection);
  }

  /** @internal Marks the transaction ended: every statement after this is refused. */
  end(status: "committed" | "rolled back"): void {
    this.#status = status;
  }

  #ended(): Error {
    return new Error(this.#status === "committed" ? "Transaction is already committed" : "Transaction is already rolled back");
  }
}

/** @internal */
export interface SqliteDriverOptions {
  readonly busyTimeout: number;
  readonly statementCacheSize: number;
}

/** @internal */
export class SqliteDriver implements Driver {
  readonly #db: SqliteDatabase;
  readonly #connection: SqliteConnection;
  readonly #mutex: ConnectionMutex;
  #destroyed = false;

  constructor(db: SqliteDatabase, options: SqliteDriverOptions) {
    this.#db = db;
    this.#connection = new SqliteConnection(db, options.statementCacheSize);
    this.#mutex = new ConnectionMutex(options.busyTimeout);
  }

  /**
   * Runs a statement at once when no one holds the connection: the statement runs to completion
   * synchronously, so this is what acquiring, running and releasing would do, without their
   * round trips through the event loop. `undefined` when the connection is held (by a
   * transaction): the caller then waits for it as usual.
   */
  executeIfFree<R>(query: CompiledQuery): Promise<QueryResult<R>> | undefined {
    if (this.#mutex.locked) return undefined;
    return this.#connection.executeQuery<R>(query);
  }

  /**
   * Runs `fn` in a write transaction on the one connection: held for it under the mutex, as
   * Kysely's transaction holds it, begun `IMMEDIATE`, committed when `fn` resolves and rolled
   * back when it throws (or when the commit fails), with no round trip through Kysely's
   * executor or connection provider.
   */
  async transaction<T>(fn: (transaction: SqliteTransaction) => Promise<T>): Promise<T> {
    if (this.#destroyed) throw new Error("driver has already been destroyed");
    if (!this.#mutex.tryLock()) await this.#mutex.lock();
    try {
      const connection = this.#connection;
      connection.exec(BEGIN_IMMEDIATE);
      const transaction = new SqliteTransaction(connection);
      try {
        const result = await fn(transaction);
        connection.exec("commit");
        transaction.end("committed");
        return result;
      } catch (error) {
        // SQLite rolls back by itself on some errors (a full disk, an I/O error): then there is
        // nothing left to roll back, and the error is what the caller is told.
        transaction.end("rolled back");
        if (this.#db.inTransaction) connection.exec("rollback");
        throw error;
      }
    } finally {
      this.#mutex.unlock();
    }
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(BEGIN_IMMEDIATE));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#connection.reset();
    if (this.#db.open) this.#db.close();
  }
}
