/**
 * Retention: a worker deletes succeeded and cancelled jobs once they are older than its
 * `retention`, with their attempts, and keeps failed ones (dead letters) and younger ones.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { createBackend, job } from "cimiento";
import { drainJobs, testClock, type TestClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

const START = Date.parse("2030-01-01T00:00:00Z");
const HOUR = 3_600_000;

describeEachDatabase("jobs retention", (db) => {
  let drop: () => Promise<void>;
  let clock: TestClock;
  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const work = job({
      input: z.object({ fail: z.boolean() }),
      retries: 0,
      handler: ({ input }) => {
        if (input.fail) throw new Error("no");
      },
    });
    return createBackend({ database: fresh.database, jobs: { work }, clock, logger: quietLogger() });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  beforeEach(async () => {
    clock = testClock(START);
    backend = await makeBackend();
    await backend.migrate();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  test("a worker deletes succeeded and cancelled jobs past its retention, in batches, and keeps failed and younger ones", async () => {
    // 1,200 old successes (two batches), an old failure, an old cancellation, then a young success.
    await backend.system.enqueueMany("work", Array.from({ length: 1_200 }, () => ({ fail: false })));
    const failed = await backend.system.enqueue("work", { fail: true });
    const cancelled = await backend.system.enqueue("work", { fail: false }, { delay: HOUR });
    await backend.jobs.cancel(cancelled.id);
    expect(await drainJobs(backend)).toMatchObject({ succeeded: 1_200, failed: 1 });
    clock.advance(2 * HOUR);
    const young = await backend.system.enqueue("work", { fail: false });
    await drainJobs(backend);
    const done = new Promise<void>((resolve) => backend.jobs.on((event) => event.type === "succeeded" && resolve()));
    backend.jobs.start({ retention: HOUR, pollInterval: 50 });
    await expect.poll(async () => (await backend.jobs.list({ state: ["succeeded", "cancelled"], limit: 1000 })).length, { timeout: 20_000 }).toBe(1);
    expect((await backend.jobs.list({ state: "succeeded" })).map((record) => record.id)).toEqual([young.id]);
    expect((await backend.jobs.get(failed.id))?.history).toHaveLength(1);
    expect(await backend.jobs.get(cancelled.id)).toBeNull();
    // The worker works on while it deletes.
    await backend.system.enqueue("work", { fail: false });
    await done;
  });

  test("retention: false keeps finished jobs; a retention that is not a positive number is refused", async () => {
    await backend.system.enqueue("work", { fail: false });
    await drainJobs(backend);
    clock.advance(365 * 24 * HOUR);
    expect(() => backend.jobs.start({ retention: 0 })).toThrow(/retention must be a positive number/);
    backend.jobs.start({ retention: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await backend.jobs.list({ state: "succeeded" })).toHaveLength(1);
  });
});
