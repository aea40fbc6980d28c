/**
 * Time in handlers: `now` is the backend's clock when the attempt starts (the job row's times are
 * the clock's too), and a job enqueued by a schedule knows the tick it was enqueued for, on every
 * attempt. A jobs table made before the tick was stored gains its column on migrate, and its jobs
 * run with no tick.
 */
import { sql } from "kysely";
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, job, schedule } from "cimiento";
import { drainJobs, testClock, type TestClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "./support.js";

const START = Date.parse("2030-01-07T10:00:00Z");
const notes = collection("notes", { fields: { text: field.text() } });

describeEachDatabase("time in jobs", (db) => {
  let shared: SharedDatabase;
  let clock: TestClock;
  let seen: { attempt: number; now: Date; tick: Date | null }[];
  let failuresLeft: number;

  const observe = job({
    input: z.object({}).optional(),
    retries: 2,
    backoff: () => 60_000,
    handler: ({ attempt, now, tick }) => {
      seen.push({ attempt, now, tick });
      if (failuresLeft-- > 0) throw new Error("not yet");
    },
  });

  const instance = () =>
    createBackend({
      database: shared.adapter(),
      collections: { notes },
      jobs: { observe },
      schedules: [schedule("hourly", "0 * * * *", observe)],
      clock,
      logger: quietLogger(),
    });

  beforeEach(async () => {
    shared = await sharedDatabase(db);
    clock = testClock(START);
    seen = [];
    failuresLeft = 0;
  });
  afterEach(async () => {
    await shared.drop();
  });

  test("a job enqueued by code gets now from the backend's clock when its attempt starts, and no tick", async () => {
    const backend = instance();
    try {
      await backend.migrate();
      const { id } = await backend.system.enqueue("observe", undefined);
      clock.advance(5_000);
      await drainJobs(backend);
      expect(seen).toEqual([{ attempt: 1, now: new Date(START + 5_000), tick: null }]);
      // The row's times are the clock's too: created at the enqueue, updated when it succeeded.
      const stored = await backend.jobs.get(id);
      expect(stored?.createdAt).toEqual(new Date(START));
      expect(stored?.updatedAt).toEqual(new Date(START + 5_000));
    } finally {
      await backend.close();
    }
  });

  test("a scheduled job gets the tick it was enqueued for, the same when it runs late and on its retry", async () => {
    const backend = instance();
    try {
      await backend.migrate();
      failuresLeft = 1;
      clock.set(START + 90 * 60_000); // 11:30: the 11:00 tick is due, and runs late
      await drainJobs(backend);
      clock.advance(60_000); // the retry is due
      await drainJobs(backend);
      const tick = new Date("2030-01-07T11:00:00Z");
      expect(seen).toEqual([
        { attempt: 1, now: new Date("2030-01-07T11:30:00Z"), tick },
        { attempt: 2, now: new Date("2030-01-07T11:31:00Z"), tick },
      ]);
    } finally {
      await backend.close();
    }
  });

  test("a jobs table without the tick column gains it on migrate, and the jobs it holds run with no tick", async () => {
    const before = instance();
    try {
      await before.migrate();
      await before.system.enqueue("observe", undefined);
      // The table as it was before ticks were stored.
      await sql`alter table cimiento_jobs drop column tick`.execute(before.db);
    } finally {
      await before.close();
    }
    const after = instance();
    try {
      const { changes } = await after.migrate();
      expect(changes.map((change) => change.description)).toEqual(["add column cimiento_jobs.tick"]);
      clock.advance(1_000);
      await drainJobs(after);
      expect(seen).toEqual([{ attempt: 1, now: new Date(START + 1_000), tick: null }]);
    } finally {
      await after.close();
    }
  });
});
