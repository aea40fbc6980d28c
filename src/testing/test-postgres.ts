/**
 * `testPostgres()`: a PostgreSQL schema of its own for one test backend, dropped when the backend
 * closes, so that test files can share one database and never see each other's tables.
 * @module
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { DatabaseAdapter } from "../dialects/dialect.js";
import { postgres, type PostgresOptions } from "../dialects/postgres/index.js";

/**
 * Options of {@link testPostgres}: those of `postgres()`, with a connection string and without
 * a schema or pool (the schema is made for the test).
 * @example
 * ```ts
 * const options: TestPostgresOptions = { connectionString: "postgres://postgres@localhost:5432/test", max: 2 };
 * ```
 */
export interface TestPostgresOptions extends Omit<PostgresOptions, "schema" | "pool" | "connectionString"> {
  /** The database to make the schema in, e.g. `postgres://postgres@localhost:5432/test`. */
  readonly connectionString: string;
  /**
   * The most connections the backend's pool opens: few, so that many test files can run at once
   * under PostgreSQL's default limit of 100 connections.
   * @default 5
   */
  readonly max?: number;
}

/**
 * Makes a new, empty schema (`cimiento_test_<random>`) in a PostgreSQL database and returns the
 * database adapter of one backend that works in it: pass it to `createTestBackend({ database })`
 * (or `createBackend`). Closing that backend drops the schema with everything in it. Each call
 * is a schema of its own, for one backend.
 *
 * @example
 * ```ts
 * import { createTestBackend, testPostgres } from "cimiento/testing";
 *
 * const backend = await createTestBackend({
 *   collections: { posts },
 *   database: await testPostgres({ connectionString: process.env.TEST_DATABASE_URL! }),
 * });
 * await backend.system.data.posts.create({ title: "Hello" });
 * await backend.close(); // drops the schema
 * ```
 */
export async function testPostgres(options: TestPostgresOptions): Promise<DatabaseAdapter<"postgres">> {
  const { connectionString, max = 5, ...rest } = options ?? ({} as TestPostgresOptions);
  if (typeof connectionString !== "string" || connectionString.length === 0) {
    throw new TypeError("testPostgres({ connectionString }) needs the URL of a database, e.g. postgres://postgres@localhost:5432/test.");
  }
  const schema = `cimiento_test_${randomUUID().replaceAll("-", "")}`;
  const admin = postgres({ connectionString, max: 1 }).open();
  try {
    await sql`create schema ${sql.id(schema)}`.execute(admin.kysely);
  } finally {
    await admin.close();
  }
  const adapter = postgres({ ...rest, connectionString, schema, max });
  let opened = false;
  return {
    dialect: "postgres",
    open: () => {
      // A second backend would share the schema, and lose it when the first one closes.
      if (opened) throw new TypeError("testPostgres(): its schema is for one backend; call testPostgres() again for another.");
      opened = true;
      const runtime = adapter.open();
      return {
        ...runtime,
        close: async () => {
          try {
            await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(runtime.kysely);
          } finally {
            await runtime.close();
          }
        },
      };
    },
  };
}
