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
import { afterAll, beforeAll, expect, test } from "vitest";
import { bundleProgram } from "../setup/programs.js";

/** Far above what calls that leave nothing behind move (a few kilobytes), below what one object per call moves (a few hundred kilobytes for one added field, megabytes for more). */
const ALLOWED = 100_000;

let program: Awaited<ReturnType<typeof bundleProgram>>;
beforeAll(async () => {
  program = await bundleProgram(join(import.meta.dirname, "programs", "retention.ts"));
});
afterAll(() => program.remove());

test("an action (its context), a create (its new record), a write's hooks (their contexts) and a write that returns a computed field leave almost nothing", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--single-threaded", "--expose-gc", program.file]);
  const left = JSON.parse(stdout) as { action: number; create: number; hooks: number; computed: number };
  expect(left.action).toBeLessThan(ALLOWED);
  expect(left.create).toBeLessThan(ALLOWED);
  expect(left.hooks).toBeLessThan(ALLOWED);
  expect(left.computed).toBeLessThan(ALLOWED);
});
