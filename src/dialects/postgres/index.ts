/**
 * `cimiento/postgres`: PostgreSQL through `pg` (loaded when a database is opened), for
 * applications that outgrow one machine.
 * @module
 */
import type pg from "pg";
import { Kysely, PostgresDialect, sql, type Expression, type LogConfig, type SqlBool } from "kysely";
import { isDestroyedError, type DatabaseAdapter, type DialectRuntime, type ErrorClass } from "../dialect.js";
import { loadPackage } from "../../support/load-package.js";
import type { Logger } from "../../define/logger.js";
import type { ColumnKind } from "../../model/model.js";
import { postgresDdl } from "./postgres-ddl.js";
import { introspectPostgres } from "./postgres-introspector.js";
import { namingPool, StatementNames } from "./named-statements.js";
import { postgresMessages } from "./postgres-messages.js";

/** Options of {@link postgres}. */
export interface PostgresOptions {
  /**
   * Logs statements: Kysely's `log` option, e.g. `(event) => console.log(event.query.sql)` or
   * `["query", "error"]`.
   */
  log?: LogConfig;
  /** A connection string, e.g. `postgres://user@localhost:5432/app`. */
  connectionString?: string;
  /**
   * A pool of your own (its `int8` values should be parsed as numbers, as cimiento's pool does).
   * Give it an `error` listener, as pg asks: without one, an idle connection that the server
   * ends ends the process. cimiento's own pool has one, which logs a warning.
   */
  pool?: pg.Pool;
  /**
   * The schema to use (sets `search_path`); the database's default when absent.
   */
  schema?: string;
  /**
   * The most connections the pool opens.
   * @default 10
   */
  max?: number;
  /**
   * How many times a transaction that failed with a serialization failure or a deadlock is
   * run again before its error is thrown.
   * @default 3
   */
  transactionRetries?: number;
  /**
   * How many SQL texts run as named prepared statements, parsed and planned once per connection
   * instead of on every execution. A text is named the second time it runs; past this many,
   * texts run unnamed. `0` runs every statement unnamed, as a connection pooler in transaction
   * mode needs (such as PgBouncer before 1.21, which cannot keep prepared statements).
   * @default 500
   */
  statementCacheSize?: number;
}

const RETRY = new Set(["40001", "40P01"]);
const INT8_OID = 20;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseInt8(value: string): number {
  return Number(value);
}

function typesOf(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: "text" | "binary") {
      if (oid === INT8_OID && format !== "binary") return parseInt8;
      return driver.types.getTypeParser(oid, format as "text");
    },
  } as pg.CustomTypesConfig;
}

function ownPool(options: PostgresOptions, logger: Logger | undefined): pg.Pool {
  const driver = loadPackage<typeof pg>("pg", "Install pg to use PostgreSQL: npm install pg");
  const pool = new driver.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    types: typesOf(driver),
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle connection that the server ends (a restart, pg_terminate_backend, a network cut) is
  // an 'error' of the pool, which would end the process unheard; the pool drops the connection
  // and opens another when one is next needed.
  pool.on("error", (error) => {
    const report = logger?.warn ?? logger?.error;
    report?.call(logger, "An idle PostgreSQL connection was lost; the pool will open another.", { error });
  });
  return pool;
}

function classify(error: unknown): ErrorClass | undefined {
  const { code, constraint, detail } = (error ?? {}) as { code?: unknown; constraint?: unknown; detail?: unknown };
  if (code === "23505") {
    return { kind: "unique", columns: undefined, constraint: typeof constraint === "string" ? constraint : undefined };
  }
  if (code === "23503") {
    // detail: Key (author)=(0190...) is not present in table "users".
    const column = typeof detail === "string" ? /^Key \("?([^)"]+)"?\)=/.exec(detail)?.[1] : undefined;
    return { kind: "foreignKey", column };
  }
  if (typeof code === "string" && RETRY.has(code)) return { kind: "retry" };
  // program_limit_exceeded: "index row requires 12016 bytes, maximum size is 8191" and alike.
  if (code === "54000" && /index row/.test(String((error as { message?: unknown }).message))) return { kind: "indexRowTooLarge" };
  return unavailable(error, code);
}

/** Node's codes of a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** What pg says of a connection it lost or could not make in time. */
const CONNECTION_MESSAGES = /^(?:Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect|Cannot use a pool after calling end)/;

/**
 * Whether the server could not serve a statement through no fault of the request: a lost or
 * refused connection (class 08), a shutting-down or starting server (57P01-57P03), too many
 * connections (53300), a full disk (53100), or a closed backend.
 */
function unavailable(error: unknown, code: unknown): ErrorClass | undefined {
  if (code === "53100") return { kind: "unavailable", reason: "full" };
  const lost =
    (typeof code === "string" && (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300" || CONNECTION_CODES.has(code))) ||
    (error instanceof Error && CONNECTION_MESSAGES.test(error.message));
  if (lost) return { kind: "unavailable", reason: "unreachable" };
  if (isDestroyedError(error)) return { kind: "unavailable", reason: "closed" };
  return undefined;
}


function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function open(options: PostgresOptions, logger?: Logger): DialectRuntime {
  if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
    throw new Error(`postgres({ schema }) must be a plain identifier, got "${options.schema}".`);
  }
  // pg loads only for a pool cimiento makes: an app that passes its own pool has loaded it.
  const pool = options.pool ?? ownPool(options, logger);
  const closesPool = options.pool === undefined;
  const names = new StatementNames(options.statementCacheSize ?? 500);
  const kysely = new Kysely<any>({
    dialect: new PostgresDialect({ pool: namingPool(pool, names) }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  const retries = options.transactionRetries ?? 3;

  async function transaction<T>(fn: (trx: Kysely<any>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await kysely.transaction().execute(fn);
      } catch (error) {
        if (attempt >= retries || classify(error)?.kind !== "retry") throw error;
        // Exponential backoff with full jitter, so retried transactions do not collide again.
        await sleep(Math.random() * 10 * 2 ** attempt);
      }
    }
  }

  return {
    name: "postgres",
    kysely,
    transaction,
    encode: (kind, value) => (value === undefined ? null : kind === "json" && value !== null ? JSON.stringify(value) : value),
    decode: (_kind, value) => value,
    decoder: () => undefined,
    encodeList: (_kind, values) => values,
    inList: (column: Expression<unknown>, list: unknown, kind: ColumnKind): Expression<SqlBool> =>
      sql<SqlBool>`${column} = any(${list}::${sql.raw(`${postgresDdl.columnType(kind)}[]`)})`,
    encodePattern: (operator, value) => {
      const escaped = escapeLike(value);
      if (operator === "startsWith") return `${escaped}%`;
      if (operator === "endsWith") return `%${escaped}`;
      return `%${escaped}%`;
    },
    match: (column, pattern) => sql<SqlBool>`${column} like ${pattern}`,
    typed: (value, kind) => sql`cast(${value} as ${sql.raw(postgresDdl.columnType(kind))})`,
    relationFilters: "exists",
    distinct: (column, value) => sql<SqlBool>`${column} is distinct from ${value}`,
    maxParameters: 65_535,
    classify,
    ddl: postgresDdl,
    introspect: introspectPostgres,
    concurrentWrites: true,
    // Evaluated once, as an init plan; `true` makes it last until the transaction ends.
    lazyCommit: ` and (select set_config('synchronous_commit', 'off', true)) is not null`,
    // Autovacuum keeps statistics, and the claim's plan is tested under a generic plan too.
    indexedBy: () => "",
    lock: async (trx, key) => {
      await sql`select pg_advisory_xact_lock(hashtext(${key}), hashtext(coalesce(current_schema(), '')))`.execute(trx);
    },
    currentSchema: async (db) =>
      (await sql<{ name: string | null }>`select current_schema() as name`.execute(db)).rows[0]?.name ?? undefined,
    migratorTransactions: true,
    begin: "begin",
    greatest: (values) => sql`greatest(${sql.join(values)})`,
    // The listening client is made with the pool's settings (connection string, credentials).
    messages: postgresMessages(kysely, () => {
      const driver = loadPackage<typeof pg>("pg", "Install pg to use PostgreSQL: npm install pg");
      return new driver.Client(pool.options);
    }),
    close: async () => {
      if (closesPool) await kysely.destroy();
    },
  };
}

/**
 * PostgreSQL through a `pg` pool (install `pg` beside cimiento). The same schema and code run
 * unchanged on it; many app instances can share one database. A transaction that fails with a
 * serialization failure or a deadlock is retried (3 times by default).
 *
 * @example
 * ```ts
 * import { createBackend } from "cimiento";
 * import { postgres } from "cimiento/postgres";
 *
 * const backend = createBackend({
 *   database: postgres({ connectionString: process.env.DATABASE_URL }),
 *   collections: { posts },
 * });
 * ```
 */
export function postgres(options: PostgresOptions = {}): DatabaseAdapter<"postgres"> {
  return { dialect: "postgres", open: (logger) => open(options, logger) };
}
