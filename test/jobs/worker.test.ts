/**
 * The worker in this process: it runs what is enqueued, stops gracefully (waiting for running
 * jobs, or giving them back after a timeout), and aborts a cancelled job's signal.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import type { LogEvent } from "kysely";
import { collection, createBackend, field, job, type JobEvent } from "cimiento";
import { testClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

/** A promise and its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describeEachDatabase("jobs worker", (db) => {
  let drop: () => Promise<void>;
  let release: ReturnType<typeof gate>;
  let aborted: unknown[];
  const logger = quietLogger();

  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const wait = job({
      input: z.object({ n: z.number() }),
      handler: async ({ input, signal, system }) => {
        signal.addEventListener("abort", () => aborted.push(signal.reason));
        await Promise.race([release.promise, new Promise((resolve) => signal.addEventListener("abort", resolve))]);
        if (!signal.aborted) await system.data.done.create({ n: input.n });
      },
    });
    return createBackend({
      database: fresh.database,
      collections: { done: collection("done", { fields: { n: field.integer() } }) },
      jobs: { wait },
      logger,
    });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  /** The next event of `type` (for job `id`, when given). */
  const next = (type: JobEvent["type"], count = 1) =>
    new Promise<JobEvent[]>((resolve) => {
      const seen: JobEvent[] = [];
      const off = backend.jobs.on((event) => {
        if (event.type !== type) return;
        seen.push(event);
        if (seen.length === count) {
          off();
          resolve(seen);
        }
      });
    });

  beforeEach(async () => {
    release = gate();
    aborted = [];
    backend = await makeBackend();
    await backend.migrate();
  });
  afterEach(async () => {
    release.open();
    await backend.close();
    await drop();
  });

  test("a started worker runs what is enqueued, up to its concurrency at once", async () => {
    const started = next("started", 2);
    backend.jobs.start({ concurrency: 2, pollInterval: 50 });
    expect(backend.jobs.started).toBe(true);
    expect(() => backend.jobs.start()).toThrow("a worker already runs in this backend");
    for (let n = 0; n < 3; n++) await backend.system.enqueue("wait", { n });
    await started;
    expect((await backend.jobs.list({ state: "running" })).length).toBe(2);
    const succeeded = next("succeeded", 3);
    release.open();
    await succeeded;
    expect((await backend.system.data.done.list({ orderBy: [{ n: "asc" }] })).items.map((row) => row.n)).toEqual([0, 1, 2]);
    await backend.jobs.stop();
    expect(backend.jobs.started).toBe(false);
  });

  test("a delayed job runs at its time, not at the worker's next poll", async () => {
    backend.jobs.start({ pollInterval: 60_000 });
    // The worker finds nothing, and sleeps until its next poll, a minute away.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = next("started");
    const enqueued = Date.now();
    const { id } = await backend.system.enqueue("wait", { n: 1 }, { delay: 300 });
    await started;
    const waited = Date.now() - enqueued;
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(5_000);
    expect((await backend.jobs.get(id))!.state).toBe("running");
  });

  test("stop() waits for running jobs to finish", async () => {
    const started = next("started");
    backend.jobs.start({ pollInterval: 50 });
    const { id } = await backend.system.enqueue("wait", { n: 1 });
    await started;
    let stopped = false;
    const stopping = backend.jobs.stop().then(() => (stopped = true));
    // The worker cannot stop while the job waits for the gate.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    expect((await backend.jobs.get(id))!.state).toBe("running");
    release.open();
    await stopping;
    expect((await backend.jobs.get(id))!.state).toBe("succeeded");
    expect(await backend.system.data.done.count()).toBe(1);
    expect(aborted).toEqual([]);
  });

  test("stop({ timeout }) gives running jobs back to the queue, aborts their signals, and does not count the attempt", async () => {
    const started = next("started");
    const released = next("released");
    backend.jobs.start({ pollInterval: 50 });
    const { id } = await backend.system.enqueue("wait", { n: 1 });
    await started;
    await backend.jobs.stop({ timeout: 50 });
    expect(await released).toEqual([{ type: "released", id, name: "wait", attempt: 1 }]);
    expect(aborted).toEqual([expect.objectContaining({ name: "AbortError", message: "The worker stopped and gave the job back." })]);
    const stored = (await backend.jobs.get(id))!;
    expect(stored).toMatchObject({ state: "queued", attempts: 1, maxAttempts: 5 });
    expect(stored.history.map((attempt) => attempt.outcome)).toEqual(["released"]);
    // A new worker runs it.
    release.open();
    const succeeded = next("succeeded");
    backend.jobs.start({ pollInterval: 50 });
    await succeeded;
    expect((await backend.jobs.get(id))!.history.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([
      [1, "released"],
      [2, "succeeded"],
    ]);
  });

  test("cancelling a running job aborts its signal when the worker renews the lease", async () => {
    const started = next("started");
    // A lease long enough that a busy machine does not let it expire before the cancel.
    backend.jobs.start({ pollInterval: 50, leaseDuration: 600 });
    const { id } = await backend.system.enqueue("wait", { n: 1 });
    await started;
    await backend.jobs.cancel(id);
    await backend.jobs.stop();
    expect(aborted).toEqual([expect.objectContaining({ message: "The job was cancelled, or this attempt lost its lease." })]);
    const stored = (await backend.jobs.get(id))!;
    expect(stored.state).toBe("cancelled");
    expect(stored.history.map((attempt) => attempt.outcome)).toEqual(["failed"]);
    expect(await backend.system.data.done.count()).toBe(0);
  });

  test("start() checks its options", () => {
    expect(() => backend.jobs.start({ concurrency: 0 })).toThrow("backend.jobs.start(): concurrency must be a positive number, got 0.");
    expect(backend.jobs.started).toBe(false);
  });
});

describeEachDatabase("jobs worker, with a clock that does not follow real time", (db) => {
  test("a job not due by the backend's clock is looked for again at the poll, not in a loop", async () => {
    const looks: string[] = [];
    const fresh = await db.fresh({ log: (event: LogEvent) => void (/"runAt" > /.test(event.query.sql) && looks.push(event.query.sql)) });
    const clock = testClock(Date.parse("2030-01-01T00:00:00Z"));
    const noop = job({ input: z.object({}), handler: () => {} });
    const backend = createBackend({ database: fresh.database, jobs: { noop }, clock, logger: quietLogger() });
    try {
      await backend.migrate();
      await backend.system.enqueue("noop", {}, { delay: 5 });
      backend.jobs.start({ pollInterval: 60_000 });
      // Real time passes; the backend's clock stays where it was, so the job never becomes due.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // One look at start, one after sleeping until the job's time, then the poll, a minute
      // away (on PostgreSQL the listening connection's start wakes the worker once more).
      // Sleeping until the job's time again and again would look about a hundred times.
      expect(looks.length).toBeGreaterThanOrEqual(2);
      expect(looks.length).toBeLessThanOrEqual(4);
      expect((await backend.jobs.list({ state: "queued" })).length).toBe(1);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
