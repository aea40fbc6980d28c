/**
 * `cimiento/sqlite`: the embedded SQLite database, through better-sqlite3 (loaded when a database
 * is opened, so that importing cimiento does not load it).
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  Transaction,
  sql,
  type Dialect,
  type Expression,
  type LogConfig,
  type SqlBool,
} from "kysely";
import { isDestroyedError, type DatabaseAdapter, type DialectRuntime, type ErrorClass, type TransactionExecute } from "../dialect.js";
import { loadPackage } from "../../support/load-package.js";
import type { ColumnKind } from "../../model/model.js";
import { sqliteDdl } from "./sqlite-ddl.js";
import { introspectSqlite } from "./sqlite-introspector.js";
import { BEGIN_IMMEDIATE, SqliteDriver } from "./sqlite-driver.js";
import { dateOf } from "../../support/iso-date.js";
import { isoString } from "../../support/iso-json.js";

/** Options of {@link sqlite}. */
export interface SqliteOptions {
  /**
   * Logs statements: Kysely's `log` option, e.g. `(event) => console.log(event.query.sql)` or
   * `["query", "error"]`.
   */
  log?: LogConfig;
  /**
   * The database file; its folder is created when missing. `":memory:"` keeps everything in
   * memory (lost when the process ends).
   * @default "./data/cimiento.db"
   */
  file?: string;
  /**
   * How long a write waits for another connection's (or process's) write to finish, and how
   * long a query waits for a transaction of this process that holds the connection, in ms.
   * @default 5000
   */
  busyTimeout?: number;
  /**
   * SQLite's `synchronous` setting. `"normal"` is safe from corruption in WAL mode and much
   * faster; `"full"` also keeps the last transactions through a power loss.
   * @default "normal"
   */
  synchronous?: "normal" | "full";
  /**
   * How many prepared statements to keep for reuse.
   * @default 500
   */
  statementCacheSize?: number;
}

function globPattern(operator: "contains" | "startsWith" | "endsWith", value: string): string {
  // GLOB is case-sensitive (unlike LIKE); its metacharacters match themselves inside [].
  const escaped = value.replace(/[*?[]/g, (char) => `[${char}]`);
  if (operator === "startsWith") return `${escaped}*`;
  if (operator === "endsWith") return `*${escaped}`;
  return `*${escaped}*`;
}

function classify(error: unknown): ErrorClass | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    // "UNIQUE constraint failed: posts.slug, posts.title"
    const message = String((error as Error).message);
    const list = message.split(": ")[1];
    const columns = list?.split(", ").map((qualified) => qualified.slice(qualified.indexOf(".") + 1));
    return { kind: "unique", columns, constraint: undefined };
  }
  // ON DELETE RESTRICT fails as a trigger constraint, with the foreign key message.
  const foreignKey =
    code === "SQLITE_CONSTRAINT_FOREIGNKEY" ||
    (code === "SQLITE_CONSTRAINT_TRIGGER" && String((error as Error).message).startsWith("FOREIGN KEY"));
  if (foreignKey) return { kind: "foreignKey", column: undefined };
  if (code === "SQLITE_FULL") return { kind: "unavailable", reason: "full" };
  if (typeof code === "string" && (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED")) {
    return { kind: "unavailable", reason: "busy" };
  }
  if (typeof code === "string" && (code.startsWith("SQLITE_IOERR") || code === "SQLITE_CANTOPEN")) return { kind: "unavailable", reason: "unreachable" };
  // better-sqlite3 once the connection is closed; Kysely once the backend is closed.
  if (isDestroyedError(error) || (error instanceof TypeError && error.message === "The database connection is not open")) {
    return { kind: "unavailable", reason: "closed" };
  }
  return undefined;
}

function encode(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "boolean":
      return value ? 1 : 0;
    case "datetime":
      // The text toISOString() writes, sooner; an invalid Date still throws its RangeError.
      return isoString(value as Date) ?? (value as Date).toISOString();
    case "json":
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** What SQLite returns for the kinds it stores otherwise, as users see them (`null` stays `null`). */
const DECODERS: Readonly<Partial<Record<ColumnKind, (value: unknown) => unknown>>> = {
  boolean: (value) => (value === null ? null : value === 1),
  datetime: (value) => (value === null ? null : typeof value === "string" ? dateOf(value) : new Date(value as number)),
  json: (value) => (value === null ? null : JSON.parse(value as string)),
};

function decode(kind: ColumnKind, value: unknown): unknown {
  const decoder = DECODERS[kind];
  return decoder === undefined ? value : decoder(value);
}

/** `toISOString()`'s form, as datetimes are stored: `YYYY-MM-DDTHH:MM:SS.sssZ`. */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A stored datetime as the ISO text a JSON answer writes: as stored when in that form. */
function datetimeText(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === "string" && ISO.test(value)) return value;
  const date = new Date(value as string);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function open(options: SqliteOptions): DialectRuntime {
  const file = options.file ?? "./data/cimiento.db";
  const busyTimeout = options.busyTimeout ?? 5000;
  const Database = loadPackage<typeof BetterSqlite3>("better-sqlite3", "Install better-sqlite3 to use SQLite: npm install better-sqlite3");
  const memory = file === ":memory:" || file === "";
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: busyTimeout });
  if (!memory) db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  const driver = new SqliteDriver(db, {
    busyTimeout,
    statementCacheSize: options.statementCacheSize ?? 500,
  });
  const dialect: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  const config = { dialect, ...(options.log === undefined ? {} : { log: options.log }) };
  const kysely = new Kysely<any>(config);
  const executor = kysely.getExecutor();
  // The driver runs the transaction itself, and hands the function the statements' runner and
  // what makes a Kysely transaction bound to the connection, when the function asks for one.
  const transactionLazily = <T>(fn: (trx: () => Kysely<any>, execute: TransactionExecute) => Promise<T>): Promise<T> =>
    driver.transaction((transaction) => {
      let trx: Kysely<any> | undefined;
      const made = () => (trx ??= new Transaction<any>({ config, dialect, driver, executor: executor.withConnectionProvider(transaction) }));
      return fn(made, transaction.execute);
    });
  return {
    name: "sqlite",
    kysely,
    // Kysely's executor logs statements: with a log configured, every statement goes through it.
    executeDirectly: options.log === undefined ? (query) => driver.executeIfFree(query) : undefined,
    // Kysely's executor logs statements, and its transaction logs begin and commit: with a log
    // configured, transactions go through it. Without, the driver runs them itself.
    transaction:
      options.log === undefined ? (fn) => transactionLazily((trx, execute) => fn(trx(), execute)) : (fn) => kysely.transaction().execute(fn),
    transactionLazily: options.log === undefined ? transactionLazily : undefined,
    encode,
    decode,
    decoder: (kind) => DECODERS[kind],
    datetimeText,
    encodeList: (_kind, values) => JSON.stringify(values),
    inList: (column: Expression<unknown>, list: unknown): Expression<SqlBool> =>
      sql<SqlBool>`${column} in (select value from json_each(${list}))`,
    encodePattern: globPattern,
    match: (column, pattern) => sql<SqlBool>`${column} glob ${pattern}`,
    // Encoded values are stored as they are bound, and compare alike with or without a column.
    typed: (value) => sql`${value}`,
    relationFilters: "in",
    distinct: (column, value) => sql<SqlBool>`${column} is not ${value}`,
    maxParameters: 32_766,
    classify,
    ddl: sqliteDdl,
    introspect: introspectSqlite,
    // A write transaction begins IMMEDIATE, holding the whole database: no row needs a lock.
    concurrentWrites: false,
    // With synchronous = NORMAL in WAL mode, no commit waits for the disk; with FULL, every one
    // does, as the host asked.
    lazyCommit: "",
    indexedBy: (name) => ` indexed by "${name.replaceAll('"', '""')}"`,
    lock: async () => {},
    currentSchema: async () => undefined,
    migratorTransactions: false,
    begin: BEGIN_IMMEDIATE,
    dataVersion: async () => Number((await sql<{ data_version: number }>`pragma data_version`.execute(kysely)).rows[0]?.data_version ?? 0),
    // max() of several arguments is SQLite's greatest().
    greatest: (values) => sql`max(${sql.join(values)})`,
    backup: (target, onProgress) =>
      db.backup(target, {
        progress: (progress) => {
          onProgress?.({ totalPages: progress.totalPages, remainingPages: progress.remainingPages });
          return BACKUP_PAGES_PER_STEP;
        },
      }),
    // Kysely closes the driver only once it has run a statement through it; statements and
    // transactions that go around it leave that to the driver itself.
    close: async () => {
      await kysely.destroy();
      await driver.destroy();
    },
  };
}

/**
 * Pages a backup copies per step, between which the event loop runs (writes of this
 * connection go on and are copied too): 1 MB with 4 KB pages, a millisecond or two.
 */
const BACKUP_PAGES_PER_STEP = 256;

/**
 * The embedded SQLite database (better-sqlite3, loaded when the backend opens it): one file, no
 * server. It opens in WAL mode with foreign keys on and a busy timeout, and begins every write
 * transaction `IMMEDIATE`, so concurrent writers (also from other processes) wait for each other
 * instead of failing with `SQLITE_BUSY`.
 *
 * @example
 * ```ts
 * import { createBackend } from "cimiento";
 * import { sqlite } from "cimiento/sqlite";
 *
 * const backend = createBackend({
 *   database: sqlite({ file: "./data/app.db" }),
 *   collections: { posts },
 * });
 * ```
 */
export function sqlite(options: SqliteOptions = {}): DatabaseAdapter<"sqlite"> {
  return { dialect: "sqlite", open: () => open(options) };
}
