/**
 * The dialect matrix: every data suite runs once per database from one source. PostgreSQL
 * runs when CIMIENTO_TEST_POSTGRES_URL is set, and is reported as skipped (with the reason)
 * when it is not.
 */
import pg from "pg";
import type { LogConfig } from "kysely";
import { describe, inject } from "vitest";
import type { DatabaseAdapter } from "../../src/dialects/dialect.js";
import { sqlite } from "../../src/dialects/sqlite/index.js";
import { postgres } from "../../src/dialects/postgres/index.js";
import type { DialectName } from "../../src/define/types.js";

/** Options of a fresh test database. */
export interface FreshOptions {
  readonly log?: LogConfig;
}

/** A fresh, empty database for one test, and how to throw it away. */
export interface TestDatabase<D extends DialectName = DialectName> {
  readonly dialect: D;
  /**
   * Makes a new, empty database (SQLite: in memory; PostgreSQL: a new schema). On PostgreSQL,
   * `reopen` opens the same schema again, with its own pool: for several backends on one database.
   */
  fresh(options?: FreshOptions): Promise<{ database: DatabaseAdapter<D>; drop(): Promise<void>; reopen?: () => DatabaseAdapter<D> }>;
}

let counter = 0;

/** Runs one statement on the PostgreSQL server at `url` with a connection of its own (schemas made and dropped). */
export async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function postgresUrl(): string | null {
  return inject("postgresUrl");
}

const sqliteDatabase: TestDatabase<"sqlite"> = {
  dialect: "sqlite",
  async fresh(options = {}) {
    return { database: sqlite({ file: ":memory:", ...options }), drop: async () => {} };
  },
};

function postgresDatabase(url: string): TestDatabase<"postgres"> {
  return {
    dialect: "postgres",
    async fresh(options = {}) {
      const schema = `s_${process.pid}_${Date.now().toString(36)}_${counter++}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`create schema "${schema}"`);
      await admin.end();
      return {
        database: postgres({ connectionString: url, schema, max: 5, ...options }),
        reopen: () => postgres({ connectionString: url, schema, max: 5, ...options }),
        drop: async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`drop schema if exists "${schema}" cascade`);
          await client.end();
        },
      };
    },
  };
}

/**
 * Runs `suite` once per database: `describe("sqlite", ...)` and `describe("postgres", ...)`,
 * the latter skipped with its reason when no PostgreSQL URL is configured.
 */
export function describeEachDatabase(name: string, suite: (db: TestDatabase) => void): void {
  describe(`${name} [sqlite]`, () => suite(sqliteDatabase));
  const url = postgresUrl();
  if (url === null) {
    describe.skip(`${name} [postgres] (skipped: CIMIENTO_TEST_POSTGRES_URL is not set)`, () => {
      suite(postgresDatabase("postgres://unset"));
    });
  } else {
    describe(`${name} [postgres]`, () => suite(postgresDatabase(url)));
  }
}
