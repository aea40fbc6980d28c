/**
 * The seam between cimiento and a SQL database: what `sqlite()` and `postgres()` return.
 * @module
 */
import type { Logger } from "../define/logger.js";
import type { CompiledQuery, Expression, Kysely, QueryResult, SqlBool } from "kysely";
import type { ColumnKind, ColumnModel } from "../model/model.js";
import type { DialectName } from "../define/types.js";
import type { Introspector } from "./live-schema.js";

/**
 * A database for `createBackend({ database })`, made by `sqlite()` (from `cimiento/sqlite`) or
 * `postgres()` (from `cimiento/postgres`). Its dialect decides the column types of `backend.db`.
 *
 * @example
 * ```ts
 * import { sqlite } from "cimiento/sqlite";
 * const backend = createBackend({ database: sqlite({ file: "./data/app.db" }), collections: { posts } });
 * ```
 */
export interface DatabaseAdapter<D extends DialectName = DialectName> {
  /** Which SQL dialect this database speaks. */
  readonly dialect: D;
  /**
   * @internal Opens the database (lazily where the driver allows) for one backend, loading its
   * driver then: importing cimiento loads none. What no statement's caller can be told (a pooled
   * connection lost while idle) goes to `logger`.
   */
  readonly open: (logger?: Logger) => DialectRuntime;
}

/** @internal What a constraint violation or driver error means to cimiento. */
export type ErrorClass =
  | { readonly kind: "unique"; readonly columns: readonly string[] | undefined; readonly constraint: string | undefined }
  | { readonly kind: "foreignKey"; readonly column: string | undefined }
  | { readonly kind: "retry" }
  /** A written row does not fit an index (PostgreSQL's B-tree rows hold about 2,700 bytes). */
  | { readonly kind: "indexRowTooLarge" }
  /**
   * The database cannot serve the statement now, through no fault of the request: it cannot be
   * reached or dropped the connection (`unreachable`), it has no space left (`full`), it stayed
   * locked past the busy timeout (`busy`), or the backend closed its connections (`closed`).
   */
  | { readonly kind: "unavailable"; readonly reason: UnavailableReason };

/** @internal Why the database cannot serve a statement now (see {@link ErrorClass}). */
export type UnavailableReason = "unreachable" | "full" | "busy" | "closed";

/**
 * @internal Whether `error` is Kysely's refusal to run a statement on a destroyed instance
 * (`backend.close()` has closed the connections), in every dialect.
 */
export function isDestroyedError(error: unknown): boolean {
  return error instanceof Error && error.message === "driver has already been destroyed";
}

/**
 * @internal Why a dialect cannot add a column to a table that holds rows: refused as `kind`,
 * described as `add column table.column: reason`.
 */
export interface AddColumnLimit {
  readonly kind: "addForeignKey" | "addRequiredColumn";
  readonly reason: string;
}

/** @internal How the schema sync writes a dialect's DDL, and what its `ALTER TABLE` can do. */
export interface DialectDdl {
  /** The database's name, as refusals give it ("SQLite cannot ..."). */
  readonly displayName: string;
  /** The SQL type of a column kind, spelled as introspection reads it back. */
  columnType(kind: ColumnKind): string;
  /** Whether a live column's type, as introspection read it, is the one `kind` needs. */
  sameType(kind: ColumnKind, liveType: string): boolean;
  /**
   * The SQL literal of a column default of `kind`, stored as `encode` stores the value; `where`
   * (`table.column`) names the column in errors.
   */
  literal(kind: ColumnKind, value: unknown, where: string): string;
  /** The default of `createdAt` and `updatedAt`: the current time, stored as `encode` stores a datetime. */
  readonly currentTime: string;
  /** What follows the column list of `CREATE TABLE` (SQLite: ` STRICT`, which refuses a value of the wrong type). */
  readonly tableOptions: string;
  /**
   * Whether `ALTER TABLE` can add a foreign key to an existing table. Where it can, tables are
   * created without their keys, which are added once every table exists; where it cannot
   * (SQLite), keys are declared inline in `CREATE TABLE` and `ADD COLUMN`, and a key missing on an
   * existing column is refused.
   */
  readonly supportsAddForeignKey: boolean;
  /**
   * Why `column`, whose SQL default is `fallback`, cannot be added to `table` while it holds
   * rows, beyond what no database can do (fill a required column that has no default);
   * `undefined` when it can.
   */
  addColumnLimit(table: string, column: ColumnModel, fallback: string | undefined): AddColumnLimit | undefined;
}

/**
 * @internal Messages between the processes that share a database (and schema), best effort:
 * PostgreSQL's `NOTIFY`, heard by `LISTEN` on a connection of its own.
 */
export interface DialectMessages {
  /** Sends `message` (at most 7,000 bytes) to every listener of this database, outside any transaction. */
  send(message: string): Promise<void>;
  /**
   * Listens on a dedicated connection, made again (with growing pauses, up to 5 s) when it
   * breaks: `onMessage` gets each message, `onGap` is called each time a connection starts
   * listening, the first one too (messages sent before it listened were not heard), `onError`
   * when a connection fails. Returns what stops listening.
   */
  listen(handlers: {
    readonly onMessage: (message: string) => void;
    readonly onGap: () => void;
    readonly onError: (error: unknown) => void;
  }): () => Promise<void>;
}

/** @internal Runs a compiled statement in an open transaction, without Kysely's executor. */
export type TransactionExecute = (query: CompiledQuery) => Promise<QueryResult<unknown>>;

/** @internal An open database, as the data layer and migrations use it. */
export interface DialectRuntime {
  /**
   * Names the dialect (in statement-cache keys). Code outside `src/dialects/` asks the
   * capabilities and methods below instead of comparing it, so a new dialect is a new folder.
   */
  readonly name: DialectName;
  /** The root Kysely instance. */
  readonly kysely: Kysely<any>;
  /**
   * Runs a compiled statement outside any transaction without Kysely's executor, when the
   * driver can do so exactly as the executor would; `undefined` otherwise (then the executor
   * runs it).
   */
  readonly executeDirectly?: ((query: CompiledQuery) => Promise<QueryResult<unknown>> | undefined) | undefined;
  /**
   * Runs `fn` in a transaction on one connection: `BEGIN IMMEDIATE` on SQLite; on PostgreSQL
   * retried a bounded number of times on serialization failure or deadlock. `fn` gets the
   * transaction's Kysely instance and, where the driver can run a compiled statement in the
   * transaction exactly as the instance would without its executor, what does so (refusing
   * once the transaction has ended, as the instance does).
   */
  transaction<T>(fn: (trx: Kysely<any>, execute?: TransactionExecute) => Promise<T>): Promise<T>;
  /**
   * `transaction`, for a function that runs its statements with `execute` and may never need
   * the transaction's Kysely instance: `trx()` makes it on first call (then returns that one).
   * Where the driver has no `execute`, absent: `transaction` serves.
   */
  readonly transactionLazily?: (<T>(fn: (trx: () => Kysely<any>, execute: TransactionExecute) => Promise<T>) => Promise<T>) | undefined;
  /** Converts a value of a column kind to what the driver binds. `null` stays `null`. */
  encode(kind: ColumnKind, value: unknown): unknown;
  /** Converts what the driver returned for a column kind to the value users see. */
  decode(kind: ColumnKind, value: unknown): unknown;
  /**
   * What `decode` does for this kind, as a function of the value alone (for decoders planned
   * once per read shape); `undefined` where `decode` is the identity (so rows need no pass).
   */
  decoder(kind: ColumnKind): ((value: unknown) => unknown) | undefined;
  /**
   * What a datetime column holds, as the ISO text a JSON answer writes for it (`null` for
   * `null` and for an invalid one), without making a `Date`: where the database stores datetimes as that text
   * (SQLite). Absent where the driver returns `Date`s.
   */
  readonly datetimeText?: (value: unknown) => string | null;
  /** The bound value for an `in`/`notIn` list of already encoded values. */
  encodeList(kind: ColumnKind, values: readonly unknown[]): unknown;
  /** `column IN list`, for a list bound with `encodeList`. */
  inList(column: Expression<unknown>, list: unknown, kind: ColumnKind): Expression<SqlBool>;
  /** The bound value of a `contains` / `startsWith` / `endsWith` pattern. */
  encodePattern(operator: "contains" | "startsWith" | "endsWith", value: string): string;
  /** Case-sensitive match of `column` against a pattern bound with `encodePattern`. */
  match(column: Expression<unknown>, pattern: unknown): Expression<SqlBool>;
  /**
   * A bound value (encoded for `kind`) as a value of the column type of `kind`, for rows made of
   * bound values (PostgreSQL would take an untyped parameter there as text).
   */
  typed(value: unknown, kind: ColumnKind): Expression<unknown>;
  /**
   * How relation filters (`some`, `none`, `every`, a filter on a `belongsTo`) are written:
   * `"exists"`, as correlated `EXISTS` subqueries, which the planner turns into semi- and
   * anti-joins (PostgreSQL); `"in"`, as uncorrelated `IN (subquery)`, each evaluated once
   * (SQLite runs a correlated subquery again for every row, so nested relation filters would
   * multiply their cost).
   */
  readonly relationFilters: "exists" | "in";
  /** `column` is distinct from `value`, treating `NULL` as a value. */
  distinct(column: Expression<unknown>, value: unknown): Expression<SqlBool>;
  /** The most parameters one statement may bind. */
  readonly maxParameters: number;
  /** Classifies a driver error; `undefined` when it is none of the known kinds. */
  classify(error: unknown): ErrorClass | undefined;
  /** Reads the live tables among those named, in one shape for every dialect. */
  readonly introspect: Introspector;
  /** The DDL of the schema sync. */
  readonly ddl: DialectDdl;
  /**
   * Whether transactions write at the same time, so that rows read in order to change them must
   * be locked (`FOR UPDATE`, with `SKIP LOCKED` to claim work) and another transaction's write
   * can conflict with one's own until it commits. `false` where a write transaction holds the
   * whole database (SQLite, whose write transactions begin `IMMEDIATE`).
   */
  readonly concurrentWrites: boolean;
  /**
   * A condition, always true, that lets the transaction of the statement holding it commit
   * without waiting for its log to reach the disk (PostgreSQL's `synchronous_commit = off`, for
   * that transaction only); empty where commits do not wait for the disk one by one. For writes
   * whose loss in a crash of the database server changes nothing (a job's claim).
   */
  readonly lazyCommit: string;
  /**
   * What follows a table's name in `FROM` to make a query read it through the index `name`:
   * SQLite's `INDEXED BY` (without `ANALYZE` statistics, which SQLite does not gather by itself,
   * its planner may prefer another index and sort); empty where the planner has statistics.
   */
  indexedBy(name: string): string;
  /**
   * Holds the lock named `key`, in this database (and schema), until the transaction `trx` ends:
   * another transaction that asks for it waits until then. Nothing where a write transaction
   * holds the whole database already.
   */
  lock(trx: Kysely<any>, key: string): Promise<void>;
  /** The schema unqualified names resolve to; `undefined` where the database has no schemas. */
  currentSchema(db: Kysely<any>): Promise<string | undefined>;
  /**
   * Whether Kysely's `Migrator` runs the pending migrations in one transaction by itself (where
   * its adapter says DDL is transactional). Where it does not, cimiento runs them in one of its
   * own, begun with {@link DialectRuntime.begin}.
   */
  readonly migratorTransactions: boolean;
  /** The statement that begins a write transaction. */
  readonly begin: string;
  /** The largest of `values`. */
  greatest(values: readonly Expression<unknown>[]): Expression<unknown>;
  /**
   * Copies the database, as it is when the copy ends, into a new file (SQLite's online backup);
   * absent where the database is a server's (PostgreSQL).
   */
  backup?(file: string, onProgress: ((progress: BackupProgress) => void) | undefined): Promise<BackupProgress>;
  /** Messages to the other processes on this database, where the database carries them. */
  readonly messages?: DialectMessages;
  /**
   * A number that changes when another connection (another process) commits a write, cheap to
   * read (SQLite's `PRAGMA data_version`); absent where `messages` tells other processes.
   */
  readonly dataVersion?: () => Promise<number>;
  /** Closes the connections. */
  close(): Promise<void>;
}

/** How far a backup is: pages in all, and pages still to copy. */
export interface BackupProgress {
  readonly totalPages: number;
  readonly remainingPages: number;
}
