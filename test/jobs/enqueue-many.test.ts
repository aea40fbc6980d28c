/**
 * enqueueMany: jobs of one name in one INSERT, in the caller's transaction, each input checked.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { ApiError, createBackend, job, type JobEvent } from "cimiento";
import { drainJobs, testClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

const START = Date.parse("2030-01-01T00:00:00Z");

describeEachDatabase("enqueueMany", (db) => {
  let drop: () => Promise<void>;
  let statements: string[];
  let ran: number[];
  const clock = testClock(START);

  const makeBackend = async () => {
    const fresh = await db.fresh({ log: (event) => void statements.push(event.query.sql) });
    drop = fresh.drop;
    const count = job({ input: z.object({ n: z.number().int() }), handler: ({ input }) => void ran.push(input.n) });
    return createBackend({ database: fresh.database, jobs: { count }, clock, logger: quietLogger() });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  beforeEach(async () => {
    statements = [];
    ran = [];
    backend = await makeBackend();
    await backend.migrate();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  const inserts = () => statements.filter((text) => /^insert into "cimiento_jobs"/i.test(text)).length;

  test("500 jobs are one INSERT; they get their ids in order, their inputs and the options", async () => {
    statements = [];
    const inputs = Array.from({ length: 500 }, (_, n) => ({ n }));
    const enqueued = await backend.system.enqueueMany("count", inputs, { delay: 1_000, priority: 3 });
    expect(inserts()).toBe(1);
    expect(enqueued).toHaveLength(500);
    expect(enqueued.every((one) => one.created)).toBe(true);
    const listed = await backend.jobs.list({ limit: 1000 });
    expect(listed.map((record) => record.id).reverse()).toEqual(enqueued.map((one) => one.id));
    const first = await backend.jobs.get(enqueued[0]!.id);
    expect(first).toMatchObject({ input: { n: 0 }, priority: 3, runAt: new Date(START + 1_000), state: "queued", maxAttempts: 4 });
    expect(await drainJobs(backend)).toEqual({ attempts: 0, succeeded: 0, failed: 0 });
    clock.advance(1_000);
    expect((await drainJobs(backend)).succeeded).toBe(500);
    expect(ran.sort((a, b) => a - b)).toEqual(inputs.map((input) => input.n));
  });

  test("in a transaction, the jobs exist only if it commits; their enqueued events come after the commit", async () => {
    const events: JobEvent[] = [];
    backend.jobs.on((event) => events.push(event));
    await backend.system
      .transaction(async (tx) => {
        await tx.enqueueMany("count", [{ n: 1 }, { n: 2 }]);
        throw new Error("rolled back");
      })
      .catch(() => {});
    expect(await backend.jobs.list()).toEqual([]);
    expect(events).toEqual([]);
    let inside: number | undefined;
    await backend.system.transaction(async (tx) => {
      await tx.enqueueMany("count", [{ n: 1 }, { n: 2 }]);
      inside = events.length;
    });
    expect(inside).toBe(0);
    expect(events.map((event) => event.type)).toEqual(["enqueued", "enqueued"]);
    expect(await backend.jobs.list()).toHaveLength(2);
  });

  test("one input the job refuses fails the call with its index in the path, and nothing is enqueued", async () => {
    const error = await backend.system.enqueueMany("count", [{ n: 1 }, { n: 1.5 }, { n: 3 }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("VALIDATION_FAILED");
    expect(JSON.stringify((error as ApiError).details)).toContain('"path":[1,"n"]');
    expect(await backend.jobs.list()).toEqual([]);
  });

  test("no inputs enqueue nothing; idempotency keys, more than 10,000 inputs and bad options are refused", async () => {
    statements = [];
    expect(await backend.system.enqueueMany("count", [])).toEqual([]);
    expect(inserts()).toBe(0);
    await expect(backend.system.enqueueMany("count", [{ n: 1 }], { idempotencyKey: "k" } as never)).rejects.toThrow(/idempotency keys are given one job at a time/);
    await expect(backend.system.enqueueMany("count", Array.from({ length: 10_001 }, () => ({ n: 1 })))).rejects.toThrow(/at most 10000 jobs per call/);
    await expect(backend.system.enqueueMany("count", [{ n: 1 }], { delay: -1 })).rejects.toThrow(/delay must be a number of ms/);
    await expect(backend.system.enqueueMany("nope" as "count", [{ n: 1 }])).rejects.toThrow(/No job is named "nope"/);
    expect(await backend.jobs.list()).toEqual([]);
  });

  test("10,000 jobs, more than one INSERT binds, are all enqueued", async () => {
    const enqueued = await backend.system.enqueueMany("count", Array.from({ length: 10_000 }, (_, n) => ({ n })));
    expect(new Set(enqueued.map((one) => one.id)).size).toBe(10_000);
    expect((await backend.jobs.list({ limit: 1000, offset: 9_000 })).length).toBe(1000);
  });
});
