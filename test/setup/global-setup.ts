/**
 * Creates one PostgreSQL database for the whole run (when CIMIENTO_TEST_POSTGRES_URL is set) and
 * drops it at the end; each suite then works in schemas of its own inside it.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const base = process.env["CIMIENTO_TEST_POSTGRES_URL"];
  if (!base) {
    project.provide("postgresUrl", null);
    return async () => {};
  }
  const name = `cimiento_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  project.provide("postgresUrl", url.toString());
  return async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`drop database if exists "${name}" with (force)`);
    await client.end();
  };
}
