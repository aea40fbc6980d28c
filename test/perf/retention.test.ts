/**
 * What a call leaves behind once it is over: nothing its work made may outlive it, without
 * timing anything. Each operation runs many times, each time on a task of its own (as requests
 * come), in a process of its own (programs/retention.ts); V8's GC profiler reports how much each
 * young-generation collection meanwhile moved to the old generation. An object made per call
 * that lives on (as Node 20's V8 makes of an object literal with getters, or of a spread copy
 * with properties added to it) is moved there: two thousand calls then move hundreds of
 * kilobytes (one field added to a copy) to megabytes, where calls that leave nothing behind move
 * a few kilobytes. What moves there costs every request twice: copied by the young collection,
 * then marked and swept by a full one.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { adminQuery } from "../setup/dialects.js";
import { bundleProgram } from "../setup/programs.js";

/** Far above what calls that leave nothing behind move (a few kilobytes), below what one object per call moves (a few hundred kilobytes for one added field, megabytes for more). */
const ALLOWED = 100_000;

let program: Awaited<ReturnType<typeof bundleProgram>>;
beforeAll(async () => {
  program = await bundleProgram(join(import.meta.dirname, "programs", "retention.ts"));
});
afterAll(() => program.remove());

type Left = { list: number; action: number; create: number; hooks: number; computed: number };

async function measure(...args: string[]): Promise<Left> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--single-threaded", "--expose-gc", program.file, ...args]);
  return JSON.parse(stdout) as Left;
}

function expectLittleLeft(left: Left, inTransaction = ALLOWED): void {
  expect(left.list).toBeLessThan(ALLOWED);
  expect(left.action).toBeLessThan(inTransaction);
  expect(left.create).toBeLessThan(ALLOWED);
  expect(left.hooks).toBeLessThan(inTransaction);
  expect(left.computed).toBeLessThan(ALLOWED);
}

/**
 * On PostgreSQL, what a transaction holds while it waits on the network (Kysely's `Transaction`,
 * pg's queries) lives through a young collection now and then: about 290 KB for 2,000 actions
 * and 240 KB for 2,000 writes with hooks, each time. Before their rows were read through a
 * callback, they moved 2.8 MB and 1.3 MB.
 */
const POSTGRES_TRANSACTIONS = 600_000;

/** The measuring programs make thousands of requests each: on a busy 2-core machine that can take a minute. */
const MEASURING = 180_000;

test("a page of records, an action (its context), a create (its new record), a write's hooks (their contexts) and a write that returns a computed field leave almost nothing", async () => {
  expectLittleLeft(await measure());
}, MEASURING);

// On PostgreSQL the rows come from pg: read through its own promise, 2,000 pages of 20 records
// moved 18 MB to the old generation, and 2,000 creates 1.3 MB.
const postgresUrl = inject("postgresUrl");
test.skipIf(postgresUrl === null)(
  `on PostgreSQL, where the rows come from pg: a page, a create and a computed field leave almost nothing, an action and hooks no more than their transaction holds while it waits${postgresUrl === null ? " (skipped: CIMIENTO_TEST_POSTGRES_URL is not set)" : ""}`,
  async () => {
    const schema = `retention_${process.pid}_${Date.now().toString(36)}`;
    await adminQuery(postgresUrl!, `create schema "${schema}"`);
    try {
      expectLittleLeft(await measure("postgres", postgresUrl!, schema), POSTGRES_TRANSACTIONS);
    } finally {
      await adminQuery(postgresUrl!, `drop schema if exists "${schema}" cascade`);
    }
  },
  MEASURING,
);
