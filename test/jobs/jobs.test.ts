/**
 * Jobs on one backend, driven by a test clock and drainJobs(): the outbox (a job exists only if
 * its transaction commits), idempotency keys, validation, retries with growing delays, the dead
 * letter, retry and cancel by hand, priorities, timeouts.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, job, type JobEvent } from "cimiento";
import { drainJobs, testClock, type TestClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

const START = Date.parse("2030-01-01T00:00:00Z");

describeEachDatabase("jobs", (db) => {
  let drop: () => Promise<void>;
  let clock: TestClock;
  let runs: { name: string; input: unknown; attempt: number; at: number }[];
  let failuresLeft: number;
  let logger: ReturnType<typeof quietLogger>;

  const notes = collection("notes", {
    fields: { text: field.text() },
    hooks: {
      afterCreate: async ({ record, enqueue }) => {
        await enqueue("send", { to: `${record.text}@example.com` });
      },
    },
  });

  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const send = job({
      input: z.object({ to: z.string().email() }),
      handler: ({ input, attempt }) => void runs.push({ name: "send", input, attempt, at: clock.now() }),
    });
    const flaky = job({
      input: z.object({ n: z.number() }),
      retries: 3,
      handler: ({ input, attempt }) => {
        runs.push({ name: "flaky", input, attempt, at: clock.now() });
        if (failuresLeft-- > 0) throw new Error(`failure ${attempt}`);
      },
    });
    const doomed = job({
      input: z.object({}),
      retries: 1,
      backoff: { initial: 100, jitter: false },
      handler: ({ attempt }) => {
        runs.push({ name: "doomed", input: {}, attempt, at: clock.now() });
        if (failuresLeft-- > 0) throw new Error("still broken");
      },
    });
    const slow = job({
      input: z.object({}),
      retries: 0,
      timeout: 30,
      handler: ({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    });
    const chain = job({
      input: z.object({ left: z.number().int().min(0) }),
      handler: async ({ input, enqueue, id }) => {
        runs.push({ name: "chain", input, attempt: 1, at: clock.now() });
        if (input.left > 0) await enqueue("chain", { left: input.left - 1 }, { idempotencyKey: `after:${id}` });
      },
    });
    const signUp = action({
      input: z.object({ email: z.string(), fail: z.boolean() }),
      async handler({ input, enqueue, system }) {
        await system.data.notes.create({ text: "signed-up" });
        await enqueue("send", { to: input.email });
        if (input.fail) throw new ApiError(409, "TAKEN", "Taken");
        return "ok";
      },
    });
    return createBackend({
      database: fresh.database,
      collections: { notes },
      actions: { signUp },
      jobs: { send, flaky, doomed, slow, chain },
      clock,
      logger,
    });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  beforeEach(async () => {
    clock = testClock(START);
    runs = [];
    failuresLeft = 0;
    logger = quietLogger();
    backend = await makeBackend();
    await backend.migrate();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  test("an enqueued job runs once when drained, with its input, and is kept as succeeded with its attempt", async () => {
    const { id, created } = await backend.system.enqueue("send", { to: "ada@example.com" });
    expect(created).toBe(true);
    expect((await backend.jobs.get(id))!.state).toBe("queued");
    expect(await drainJobs(backend)).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
    expect(runs).toEqual([{ name: "send", input: { to: "ada@example.com" }, attempt: 1, at: START }]);
    const stored = (await backend.jobs.get(id))!;
    expect(stored).toMatchObject({ name: "send", state: "succeeded", attempts: 1, maxAttempts: 4, lastError: null, input: { to: "ada@example.com" } });
    expect(stored.finishedAt).toEqual(new Date(START));
    expect(stored.history).toEqual([
      { attempt: 1, worker: expect.stringMatching(/^drain:/), startedAt: new Date(START), finishedAt: new Date(START), outcome: "succeeded", error: null },
    ]);
    expect(await drainJobs(backend)).toEqual({ attempts: 0, succeeded: 0, failed: 0 });
  });

  test("a job enqueued in a rolled-back transaction never exists; one in a committed transaction does", async () => {
    await expect(
      backend.system.transaction(async (tx) => {
        await tx.enqueue("send", { to: "rolled@example.com" });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    await backend.system.transaction(async (tx) => {
      await tx.enqueue("send", { to: "kept@example.com" });
    });
    expect((await backend.jobs.list()).map((job) => job.input)).toEqual([{ to: "kept@example.com" }]);
    await drainJobs(backend);
    expect(runs.map((run) => run.input)).toEqual([{ to: "kept@example.com" }]);
  });

  test("the enqueued event comes after the commit, and never for a rollback", async () => {
    const events: JobEvent[] = [];
    backend.jobs.on((event) => events.push(event));
    await backend.system.transaction(async (tx) => {
      await tx.enqueue("send", { to: "a@example.com" });
      expect(events).toEqual([]);
    });
    await backend.system.transaction(async (tx) => {
      await tx.enqueue("send", { to: "b@example.com" });
      throw new Error("no");
    }).catch(() => {});
    expect(events).toEqual([{ type: "enqueued", id: expect.any(String), name: "send", runAt: new Date(START) }]);
  });

  test("jobs enqueued by an action and by its hooks exist only if the action succeeds", async () => {
    await expect(backend.system.actions.signUp({ email: "x@example.com", fail: true })).rejects.toThrow("Taken");
    expect(await backend.jobs.list()).toEqual([]);
    await backend.system.actions.signUp({ email: "y@example.com", fail: false });
    const inputs = (await backend.jobs.list()).map((job) => job.input);
    expect(inputs).toHaveLength(2);
    expect(inputs).toEqual(expect.arrayContaining([{ to: "y@example.com" }, { to: "signed-up@example.com" }]));
  });

  test("an idempotency key enqueues once, also when enqueued concurrently, and per job name", async () => {
    const first = await backend.system.enqueue("send", { to: "a@example.com" }, { idempotencyKey: "welcome:1" });
    const again = await backend.system.enqueue("send", { to: "other@example.com" }, { idempotencyKey: "welcome:1" });
    expect(again).toEqual({ id: first.id, created: false });
    const racing = await Promise.all(
      Array.from({ length: 8 }, () => backend.system.enqueue("send", { to: "r@example.com" }, { idempotencyKey: "race" })),
    );
    expect(new Set(racing.map((result) => result.id)).size).toBe(1);
    expect(racing.filter((result) => result.created)).toHaveLength(1);
    const otherJob = await backend.system.enqueue("flaky", { n: 1 }, { idempotencyKey: "welcome:1" });
    expect(otherJob.created).toBe(true);
    await drainJobs(backend);
    // Still once after it ran.
    expect((await backend.system.enqueue("send", { to: "a@example.com" }, { idempotencyKey: "welcome:1" })).created).toBe(false);
    expect(runs.map((run) => run.input)).toEqual([{ to: "a@example.com" }, { to: "r@example.com" }, { n: 1 }]);
  });

  test("input the job refuses is a VALIDATION_FAILED error and nothing is enqueued", async () => {
    const error = await backend.system.enqueue("send", { to: "not an e-mail" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("VALIDATION_FAILED");
    expect((error as ApiError).issues).toEqual([{ path: ["to"], code: "invalid_format", message: expect.any(String) }]);
    await expect(backend.system.enqueue("send", { to: new Date() } as never)).rejects.toThrow(/Invalid input of job send/);
    await expect((backend.system.enqueue as (name: string, input: unknown) => Promise<unknown>)("nope", {})).rejects.toThrow(
      'No job is named "nope": the jobs are "send", "flaky", "doomed", "slow", "chain".',
    );
    await expect(backend.system.enqueue("send", { to: "a@example.com" }, { delay: -1 })).rejects.toThrow("delay must be a number of ms, 0 or more");
    await expect(backend.system.enqueue("send", { to: "a@example.com" }, { delay: 1, runAt: new Date() })).rejects.toThrow("give runAt or delay, not both");
    await expect(backend.system.enqueue("send", { to: "a@example.com" }, { priority: 1.5 })).rejects.toThrow("priority must be an integer");
    await expect(backend.system.enqueue("send", { to: "a@example.com" }, { idempotencyKey: "" })).rejects.toThrow("idempotencyKey must be");
    expect(await backend.jobs.list()).toEqual([]);
  });

  test("a handler that fails twice then succeeds runs exactly three times, each retry after a longer delay", async () => {
    failuresLeft = 2;
    const { id } = await backend.system.enqueue("flaky", { n: 7 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await drainJobs(backend)).toMatchObject({ attempts: 1 });
      const stored = (await backend.jobs.get(id))!;
      if (attempt === 3) break;
      expect(stored).toMatchObject({ state: "queued", attempts: attempt, lastError: `Error: failure ${attempt}` });
      const delay = stored.runAt.getTime() - clock.now();
      delays.push(delay);
      // Not due a millisecond before its time: nothing runs.
      clock.advance(delay - 1);
      expect(await drainJobs(backend)).toMatchObject({ attempts: 0 });
      clock.advance(1);
    }
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    // Exponential from 1 s with jitter in the upper half: [500, 1000) then [1000, 2000).
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThan(1000);
    expect(delays[1]).toBeGreaterThanOrEqual(1000);
    expect(delays[1]).toBeLessThan(2000);
    const stored = (await backend.jobs.get(id))!;
    expect(stored).toMatchObject({ state: "succeeded", attempts: 3, lastError: "Error: failure 2" });
    expect(stored.history.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "succeeded"],
    ]);
    expect(stored.history[0]!.error).toMatch(/^Error: failure 1\n\s+at /);
    expect(logger.warnings).toHaveLength(2);
  });

  test("after its last attempt a job is kept as failed with its error, and a retry by hand runs it again", async () => {
    failuresLeft = 2;
    const events: JobEvent[] = [];
    backend.jobs.on((event) => events.push(event));
    const { id } = await backend.system.enqueue("doomed", {});
    await drainJobs(backend);
    clock.advance(100);
    await drainJobs(backend);
    clock.advance(10_000);
    await drainJobs(backend);
    const dead = (await backend.jobs.get(id))!;
    expect(dead).toMatchObject({ state: "failed", attempts: 2, maxAttempts: 2, lastError: "Error: still broken" });
    expect(dead.finishedAt).toEqual(new Date(START + 100));
    expect(events.filter((event) => event.type === "failed").map((event) => (event as { retryAt: Date | null }).retryAt)).toEqual([
      new Date(START + 100),
      null,
    ]);
    expect(logger.errors).toEqual([`Job doomed ${id} failed for good after attempt 2.`]);
    expect((await backend.jobs.list({ state: "failed" })).map((job) => job.id)).toEqual([id]);

    const retried = await backend.jobs.retry(id);
    expect(retried).toMatchObject({ state: "queued", attempts: 2, maxAttempts: 4, finishedAt: null });
    expect(await drainJobs(backend)).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
    expect((await backend.jobs.get(id))!.history.map((attempt) => attempt.outcome)).toEqual(["failed", "failed", "succeeded"]);
    expect(runs.map((run) => run.attempt)).toEqual([1, 2, 3]);
    await expect(backend.jobs.retry(id)).rejects.toMatchObject({ status: 409, code: "JOB_STATE_CONFLICT" });
  });

  test("a cancelled job never runs; finished and unknown jobs cannot be cancelled", async () => {
    const { id } = await backend.system.enqueue("send", { to: "a@example.com" });
    const cancelled = await backend.jobs.cancel(id);
    expect(cancelled).toMatchObject({ state: "cancelled", finishedAt: new Date(START) });
    expect(await drainJobs(backend)).toMatchObject({ attempts: 0 });
    expect(runs).toEqual([]);
    await expect(backend.jobs.cancel(id)).rejects.toMatchObject({
      status: 409,
      code: "JOB_STATE_CONFLICT",
      message: `The job ${id} is cancelled: only a job that is queued, running, failed can be cancelled.`,
    });
    await expect(backend.jobs.cancel("no-such-job")).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" });
    expect(await backend.jobs.get("no-such-job")).toBeNull();
  });

  test("due jobs run by priority, then by due time; delayed and future jobs wait for their time", async () => {
    await backend.system.enqueue("send", { to: "later@example.com" }, { delay: 5_000 });
    await backend.system.enqueue("send", { to: "at@example.com" }, { runAt: new Date(START + 2_000) });
    await backend.system.enqueue("send", { to: "low@example.com" }, { priority: -1 });
    await backend.system.enqueue("send", { to: "normal@example.com" });
    await backend.system.enqueue("send", { to: "high@example.com" }, { priority: 10 });
    await drainJobs(backend);
    expect(runs.map((run) => run.input)).toEqual([{ to: "high@example.com" }, { to: "normal@example.com" }, { to: "low@example.com" }]);
    clock.advance(2_000);
    await drainJobs(backend);
    clock.advance(3_000);
    await drainJobs(backend);
    expect(runs.map((run) => [(run.input as { to: string }).to, run.at - START])).toEqual([
      ["high@example.com", 0],
      ["normal@example.com", 0],
      ["low@example.com", 0],
      ["at@example.com", 2_000],
      ["later@example.com", 5_000],
    ]);
  });

  test("list filters by state and name, newest first, and checks its limit", async () => {
    const a = await backend.system.enqueue("send", { to: "a@example.com" });
    const b = await backend.system.enqueue("flaky", { n: 1 });
    const c = await backend.system.enqueue("send", { to: "c@example.com" }, { delay: 1000 });
    await backend.jobs.cancel(c.id);
    expect((await backend.jobs.list()).map((job) => job.id)).toEqual([c.id, b.id, a.id]);
    expect((await backend.jobs.list({ name: "send" })).map((job) => job.id)).toEqual([c.id, a.id]);
    expect((await backend.jobs.list({ state: ["queued"] })).map((job) => job.id)).toEqual([b.id, a.id]);
    expect((await backend.jobs.list({ state: "cancelled", name: "send" })).map((job) => job.id)).toEqual([c.id]);
    expect((await backend.jobs.list({ limit: 1, offset: 1 })).map((job) => job.id)).toEqual([b.id]);
    await expect(backend.jobs.list({ limit: 0 })).rejects.toThrow("backend.jobs.list(): limit must be 1 to 1000, got 0.");
  });

  test("a handler enqueues further jobs, which drainJobs runs too", async () => {
    await backend.system.enqueue("chain", { left: 3 });
    expect(await drainJobs(backend)).toEqual({ attempts: 4, succeeded: 4, failed: 0 });
    expect(runs.map((run) => run.input)).toEqual([{ left: 3 }, { left: 2 }, { left: 1 }, { left: 0 }]);
  });

  test("prune deletes jobs that finished before a time, in the states asked, with their attempts", async () => {
    failuresLeft = 2;
    const done = await backend.system.enqueue("send", { to: "a@example.com" }, { idempotencyKey: "k" });
    const dead = await backend.system.enqueue("doomed", {});
    const cancelled = await backend.system.enqueue("send", { to: "c@example.com" });
    await backend.jobs.cancel(cancelled.id);
    await drainJobs(backend);
    clock.advance(100);
    await drainJobs(backend);
    const waiting = await backend.system.enqueue("send", { to: "w@example.com" }, { delay: 60_000 });
    clock.advance(1000);
    expect(await backend.jobs.prune({ before: new Date(START) })).toBe(0);
    expect(await backend.jobs.prune({ before: new Date(START + 1) })).toBe(2);
    expect(await backend.jobs.get(done.id)).toBeNull();
    expect(await backend.jobs.get(cancelled.id)).toBeNull();
    expect((await backend.jobs.list()).map((job) => job.id)).toEqual([waiting.id, dead.id]);
    expect(await backend.jobs.prune({ before: new Date(clock.now()), states: [] })).toBe(0);
    expect(await backend.jobs.prune({ before: new Date(clock.now()), states: ["failed"] })).toBe(1);
    expect((await backend.jobs.list()).map((job) => job.id)).toEqual([waiting.id]);
    const attempts = await backend.db.selectFrom("cimiento_job_attempts" as never).selectAll().execute();
    expect(attempts).toEqual([]);
    // A deleted job's idempotency key can be used again.
    expect((await backend.system.enqueue("send", { to: "a@example.com" }, { idempotencyKey: "k" })).created).toBe(true);
    await expect(backend.jobs.prune({ before: new Date(Number.NaN) })).rejects.toThrow("before must be a valid Date");
    await expect(backend.jobs.prune({ before: new Date(), states: ["queued" as never] })).rejects.toThrow(
      'only finished jobs can be deleted (succeeded, failed, cancelled), not "queued"',
    );
  });

  test("an attempt that outlives its timeout has its signal aborted and fails", async () => {
    const { id } = await backend.system.enqueue("slow", {});
    expect(await drainJobs(backend)).toEqual({ attempts: 1, succeeded: 0, failed: 1 });
    const stored = (await backend.jobs.get(id))!;
    expect(stored).toMatchObject({ state: "failed", lastError: "TimeoutError: The attempt took longer than its timeout (30 ms)." });
  });
});
