/**
 * @internal A Kysely driver for better-sqlite3 that reuses prepared statements and begins
 * transactions `IMMEDIATE`.
 * @module
 */
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from "kysely";
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

/** @internal The one connection of a SQLite database. */
export class SqliteConnection implements DatabaseConnection {
  readonly #statements: StatementCache;

  constructor(db: SqliteDatabase, cacheSize: number) {
    this.#statements = new StatementCache(db, cacheSize);
  }

  /** Runs one statement; synchronous underneath, so it never interleaves with another. */
  run<R>(sql: string, parameters: readonly unknown[]): QueryResult<R> {
    const statement = this.#statements.get(sql);
    const bound = parameters.length === 0 ? parameters : parameters.map(bindable);
    if (statement.reader) return { rows: statement.all(bound) as R[] };
    const { changes, lastInsertRowid } = statement.run(bound);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
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
    this.#connection.reset();
    if (this.#db.open) this.#db.close();
  }
}
