/**
 * Workers in real processes: two of them over 1,000 jobs run each exactly once, and a worker
 * killed with SIGKILL in the middle of jobs leaves them to be run again once their lease has
 * expired, with nothing lost over repeated kills.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { bundleProgram } from "../setup/programs.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "./support.js";
import { workBackend } from "./programs/work-schema.js";

const root = join(import.meta.dirname, "..", "..");
let worker: Awaited<ReturnType<typeof bundleProgram>>;
let program: string;
beforeAll(async () => {
  worker = await bundleProgram(join(import.meta.dirname, "programs", "worker.ts"));
  program = worker.file;
});
afterAll(() => worker.remove());

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
}

function startWorker(shared: SharedDatabase, options: { concurrency: number; leaseDuration: number }): Worker {
  const child = spawn(process.execPath, [program, JSON.stringify({ connection: shared.connection, pollInterval: 50, ...options })], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
    void exited.then(() => reject(new Error("the worker exited before it was ready")));
  });
  return { child, ready, exited };
}

/** Polls `check` every 50 ms until it is true, failing after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}

describeEachDatabase("jobs in worker processes", (db) => {
  let shared: SharedDatabase;
  let backend: ReturnType<typeof workBackend>;
  const children: Worker[] = [];

  beforeEach(async () => {
    shared = await sharedDatabase(db);
    backend = workBackend(shared.connection, quietLogger());
    await backend.migrate();
  });
  afterEach(async () => {
    for (const worker of children.splice(0)) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
      await worker.exited;
    }
    await backend.close();
    await shared.drop();
  });

  const pending = async () => (await backend.jobs.list({ state: ["queued", "running"], limit: 1 })).length;

  test("two worker processes over 1,000 jobs run each exactly once", async () => {
    const workers = [startWorker(shared, { concurrency: 8, leaseDuration: 30_000 }), startWorker(shared, { concurrency: 8, leaseDuration: 30_000 })];
    children.push(...workers);
    await Promise.all(workers.map((worker) => worker.ready));
    await backend.system.transaction(async (tx) => {
      for (let n = 0; n < 1000; n++) await tx.enqueue("work", { n, ms: 1 });
    });
    await until(async () => (await pending()) === 0, 25_000, "the jobs to finish");
    for (const worker of workers) worker.child.kill("SIGTERM");
    expect(await Promise.all(workers.map((worker) => worker.exited))).toEqual([0, 0]);

    const rows = await backend.db.selectFrom("executions").select(["jobId", "worker"]).execute();
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((row) => row.jobId)).size).toBe(1000);
    const byWorker = new Map<string, number>();
    for (const row of rows) byWorker.set(row.worker, (byWorker.get(row.worker) ?? 0) + 1);
    expect([...byWorker.keys()].sort()).toEqual(workers.map((worker) => String(worker.child.pid)).sort());
    const succeeded = await backend.jobs.list({ state: "succeeded", limit: 1000 });
    expect(succeeded).toHaveLength(1000);
    expect(succeeded.every((job) => job.attempts === 1)).toBe(true);
  }, 30_000);

  test("a worker killed with SIGKILL mid-job leaves its jobs to be run again after the lease, and nothing is lost over repeated kills", async () => {
    const ids: string[] = [];
    // Jobs of a second: a worker is killed while it runs some.
    for (let n = 0; n < 8; n++) ids.push((await backend.system.enqueue("work", { n, ms: 1000 })).id);
    const executionsOf = async (pid: number) =>
      (await backend.db.selectFrom("executions").select("id").where("worker", "=", String(pid)).execute()).length;

    for (let kill = 0; kill < 3; kill++) {
      const worker = startWorker(shared, { concurrency: 4, leaseDuration: 600 });
      children.push(worker);
      await worker.ready;
      // Killed while it runs jobs: it has started at least one.
      await until(async () => (await executionsOf(worker.child.pid!)) > 0, 10_000, "the worker to start a job");
      worker.child.kill("SIGKILL");
      expect(await worker.exited).toBe(null);
      expect(worker.child.signalCode).toBe("SIGKILL");
    }
    const last = startWorker(shared, { concurrency: 4, leaseDuration: 600 });
    children.push(last);
    await until(async () => (await pending()) === 0, 20_000, "the jobs to finish");
    last.child.kill("SIGTERM");
    expect(await last.exited).toBe(0);

    const jobs = await Promise.all(ids.map(async (id) => (await backend.jobs.get(id))!));
    expect(jobs.map((job) => job.state)).toEqual(ids.map(() => "succeeded"));
    const lost = jobs.flatMap((job) => job.history.filter((attempt) => attempt.outcome === "lost"));
    expect(lost.length).toBeGreaterThanOrEqual(3);
    expect(lost.every((attempt) => attempt.error === "The lease expired: the worker running this attempt stopped renewing it.")).toBe(true);
    for (const job of jobs) {
      // Each attempt once, in order; every attempt before the last was lost with its worker.
      expect(job.history.map((attempt) => attempt.attempt)).toEqual(job.history.map((_, i) => i + 1));
      expect(job.history.map((attempt) => attempt.outcome)).toEqual([...job.history.slice(1).map(() => "lost"), "succeeded"]);
      // The handler ran in the last attempt, and at most once in each lost one (a worker can die
      // between claiming a job and starting it).
      const runs = (await backend.db.selectFrom("executions").select("attempt").where("jobId", "=", job.id).execute()).map((run) => Number(run.attempt));
      expect(new Set(runs).size).toBe(runs.length);
      expect(runs).toContain(job.history.length);
      expect(runs.every((attempt) => attempt >= 1 && attempt <= job.history.length)).toBe(true);
    }
  }, 30_000);
});
