/**
 * Schedules: every cron tick enqueues its job exactly once, however many schedulers run, in the
 * schedule's time zone; a schedule that cannot work fails at definition.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, job, schedule, SchemaError } from "cimiento";
import { createTestBackend, drainJobs, testClock, type TestClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "./support.js";

const START = Date.parse("2030-01-07T10:00:00Z");

const ticks = collection("ticks", { fields: { label: field.text(), at: field.integer() } });
const record = job({
  input: z.object({ label: z.string() }),
  handler: async ({ input, system }) => {
    await system.data.ticks.create({ label: input.label, at: Date.now() });
  },
});

describeEachDatabase("schedules", (db) => {
  let shared: SharedDatabase;
  let clock: TestClock;

  beforeEach(async () => {
    shared = await sharedDatabase(db);
    clock = testClock(START);
  });
  afterEach(async () => {
    await shared.drop();
  });

  const instance = () =>
    createBackend({
      database: shared.adapter(),
      collections: { ticks },
      jobs: { record },
      schedules: [schedule("every-minute", "* * * * *", record, { label: "minute" }), schedule("quarter", "*/15 * * * *", "record", { label: "quarter" })],
      clock,
      logger: quietLogger(),
    });

  test("over a simulated hour, two schedulers enqueue each tick exactly once", async () => {
    const first = instance();
    await first.migrate();
    const second = instance();
    try {
      // Steps of 45 s, one jump of 5 minutes (ticks made up). On PostgreSQL both instances at once;
      // two SQLite connections of one process take turns (a write waiting for the file lock blocks
      // the thread that holds it).
      const both = () =>
        db.dialect === "postgres" ? Promise.all([drainJobs(first), drainJobs(second)]) : drainJobs(first).then(() => drainJobs(second));
      let step = 0;
      while (clock.now() < START + 3_600_000) {
        clock.advance(step === 20 ? 300_000 : 45_000);
        step++;
        await both();
      }
      clock.set(START + 3_600_000);
      await both();
      const jobs = await first.jobs.list({ limit: 1000 });
      const keys = jobs.map((job) => job.idempotencyKey!).sort();
      const minuteKeys = Array.from({ length: 60 }, (_, i) => `schedule:every-minute:${new Date(START + (i + 1) * 60_000).toISOString()}`);
      const quarterKeys = Array.from({ length: 4 }, (_, i) => `schedule:quarter:${new Date(START + (i + 1) * 900_000).toISOString()}`);
      expect(keys).toEqual([...minuteKeys, ...quarterKeys].sort());
      expect(jobs.every((job) => job.state === "succeeded")).toBe(true);
      // Each due at its tick.
      for (const job of jobs) expect(job.runAt.toISOString()).toBe(job.idempotencyKey!.split(":").slice(2).join(":"));
      expect(await first.system.data.ticks.count({ where: { label: "minute" } })).toBe(60);
      expect(await first.system.data.ticks.count({ where: { label: "quarter" } })).toBe(4);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("a schedule without input, and a job enqueued without input, run with no input", async () => {
    const inputs: unknown[] = [];
    const tidy = job({ input: z.undefined(), handler: ({ input }) => void inputs.push(input) });
    const backend = createBackend({
      database: shared.adapter(),
      collections: { ticks },
      jobs: { tidy },
      schedules: [schedule("hourly-tidy", "0 * * * *", "tidy")],
      clock,
      logger: quietLogger(),
    });
    try {
      await backend.migrate();
      await backend.system.enqueue("tidy", undefined);
      clock.advance(3_600_000);
      expect(await drainJobs(backend)).toEqual({ attempts: 2, succeeded: 2, failed: 0 });
      expect(inputs).toEqual([undefined, undefined]);
      expect((await backend.jobs.list()).map((stored) => stored.input)).toEqual([null, null]);
    } finally {
      await backend.close();
    }
  });
});

describe("schedules, defined", () => {
  test("a pattern is read in its time zone, daylight saving time included", async () => {
    const clock = testClock("2030-03-30T00:00:00Z");
    const backend = await createTestBackend({
      collections: { ticks },
      jobs: { record },
      schedules: [schedule("madrid-9am", "0 9 * * *", record, { label: "9am" }, { timezone: "Europe/Madrid" })],
      clock,
    });
    clock.set("2030-04-01T00:00:00Z");
    await drainJobs(backend);
    // 9:00 in Madrid: 08:00Z before the change to summer time (March 31st), 07:00Z after.
    expect((await backend.jobs.list()).map((job) => job.runAt.toISOString()).sort()).toEqual([
      "2030-03-30T08:00:00.000Z",
      "2030-03-31T07:00:00.000Z",
    ]);
    await backend.close();
  });

  test("a schedule that cannot work fails when it is defined, naming the problem", async () => {
    expect(() => schedule("bad", "61 * * * *", record, { label: "x" })).toThrow(SchemaError);
    expect(() => schedule("bad", "* * * * *", record, { label: "x" }, { timezone: "Mars/Olympus" })).toThrow(
      /The schedule "bad" has an invalid cron pattern or time zone \(\* \* \* \* \*, Mars\/Olympus\)/,
    );
    const base = { collections: { ticks }, jobs: { record } };
    await expect(createTestBackend({ ...base, schedules: [schedule("s", "* * * * *", "nope")] })).rejects.toThrow(
      'The schedule "s" enqueues "nope" that is not registered in createBackend({ jobs }).',
    );
    await expect(createTestBackend({ ...base, schedules: [schedule("s", "* * * * *", "record", { label: 3 })] })).rejects.toThrow(
      /The input of schedule "s" is not valid for job "record"/,
    );
    const twice = schedule("s", "* * * * *", record, { label: "x" });
    await expect(createTestBackend({ ...base, schedules: [twice, twice] })).rejects.toThrow('Two schedules are named "s".');
    await expect(createTestBackend({ collections: { ticks }, schedules: [twice] })).rejects.toThrow(
      "createBackend({ schedules }) needs the jobs they enqueue in createBackend({ jobs }).",
    );
  });
});
