/**
 * What the jobs suites share: a database several backends (or processes) can open at once, and a
 * quiet logger that keeps what it was told.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import type { DatabaseAdapter, Logger } from "cimiento";
import type { TestDatabase } from "../setup/dialects.js";

import { open, type Connection } from "./programs/connection.js";

export { open, type Connection };

/** A database that several backends and processes can open: a file on SQLite, a schema on PostgreSQL. */
export interface SharedDatabase {
  readonly connection: Connection;
  /** A new adapter of the database (each backend opens its own connections). */
  adapter(): DatabaseAdapter<"sqlite" | "postgres">;
  drop(): Promise<void>;
}

let counter = 0;

export async function sharedDatabase(db: TestDatabase): Promise<SharedDatabase> {
  if (db.dialect === "sqlite") {
    const folder = mkdtempSync(join(tmpdir(), "cimiento-jobs-"));
    const connection: Connection = { dialect: "sqlite", file: join(folder, "jobs.db") };
    return { connection, adapter: () => open(connection), drop: async () => rmSync(folder, { recursive: true, force: true }) };
  }
  const url = inject("postgresUrl")!;
  const schema = `jobs_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const connection: Connection = { dialect: "postgres", url, schema };
  return {
    connection,
    adapter: () => open(connection),
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    },
  };
}

/** A logger that keeps messages instead of printing them. */
export function quietLogger(): Logger & { readonly errors: string[]; readonly warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return { errors, warnings, error: (message) => void errors.push(message), warn: (message) => void warnings.push(message) };
}
