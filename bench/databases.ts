/**
 * The benchmark's databases: seeded once per dialect, then one fresh copy per server process,
 * so that every server starts from the same 10,000 records. Everything is removed at the end.
 * @module
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { postgres, sqlite } from "./cimiento.js";
import { seed } from "./fixture.js";
import type { BenchCaller } from "./scenarios.js";

/** A seeded database and the copies made of it. */
export interface BenchDatabase {
  readonly dialect: "sqlite" | "postgres";
  /** The ids of the seeded records the caller may read. */
  readonly ids: readonly string[];
  /** The signed-in caller of the scenarios. */
  readonly caller: BenchCaller;
  /** A new copy of the seeded database: a SQLite file or a PostgreSQL connection string. */
  copy(): Promise<string>;
  /** Removes a copy (its connections must be closed). */
  discard(target: string): Promise<void>;
  /** Removes the seed and every copy left. */
  drop(): Promise<void>;
}

/** A seeded SQLite file in a temporary folder. */
export async function sqliteDatabase(): Promise<BenchDatabase> {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-bench-"));
  const file = join(folder, "seed.db");
  const { ids, userId, token } = await seed(sqlite({ file }));
  let copies = 0;
  return {
    dialect: "sqlite",
    ids,
    caller: { userId, token },
    copy: async () => {
      const target = join(folder, `copy-${copies++}.db`);
      copyFileSync(file, target);
      return target;
    },
    discard: async (target) => {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
    },
    drop: async () => rmSync(folder, { recursive: true, force: true }),
  };
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A seeded PostgreSQL database (a template), copied with `create database ... template`. */
export async function postgresDatabase(url: string): Promise<BenchDatabase> {
  const prefix = `cimiento_bench_${process.pid}`;
  const seedName = `${prefix}_seed`;
  await admin(url, (client) => client.query(`create database "${seedName}"`));
  const made = new Set<string>([seedName]);
  const { ids, userId, token } = await seed(postgres({ connectionString: withDatabase(url, seedName), max: 2 }));
  let copies = 0;
  const dropOne = (name: string) =>
    admin(url, async (client) => {
      await client.query(`drop database if exists "${name}" with (force)`);
      made.delete(name);
    });
  return {
    dialect: "postgres",
    ids,
    caller: { userId, token },
    copy: async () => {
      const name = `${prefix}_${copies++}`;
      await admin(url, (client) => client.query(`create database "${name}" template "${seedName}"`));
      made.add(name);
      return withDatabase(url, name);
    },
    discard: (target) => dropOne(new URL(target).pathname.slice(1)),
    drop: async () => {
      for (const name of [...made]) await dropOne(name);
    },
  };
}
