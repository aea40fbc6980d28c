/**
 * A process of the jobs benchmark: a worker (cimiento's or graphile-worker's) that processes
 * the queued jobs, or waits idle for jobs and measures how long each took from enqueue to its
 * handler. Told what to do by its first argument (JSON), it answers its parent over IPC.
 * @module
 */
import { performance } from "node:perf_hooks";
import pg from "pg";
import { Logger, run, type Runner } from "graphile-worker";
import { z } from "zod";
import { createBackend, epochMs, job, postgres, sqlite, type ChildResult, type ChildTask } from "./jobs-shared.js";

const task = JSON.parse(process.argv[2]!) as ChildTask;

interface Worker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Enqueues one job (the in-process latency runs). */
  enqueue?(input: { n: number; t: number }): Promise<void>;
}

let calls = 0;
const seen = new Set<number>();
const latencies: number[] = [];
let onCall: (() => void) | undefined;

function handle(input: { n: number; t: number }): void {
  if (task.mode === "latency") latencies.push(epochMs() - input.t);
  calls++;
  seen.add(input.n);
  onCall?.();
}

function cimientoWorker(): Worker {
  const noop = job({ input: z.object({ n: z.number(), t: z.number() }), retries: 3, handler: ({ input }) => handle(input) });
  const database = task.dialect === "sqlite" ? sqlite({ file: task.target }) : postgres({ connectionString: task.target, schema: task.schema, max: task.concurrency + 2 });
  const backend = createBackend({ database, jobs: { noop }, logger: { error: (message, data) => console.error(message, data) } });
  return {
    start: async () => backend.jobs.start({ concurrency: task.concurrency, retention: false }),
    stop: async () => {
      await backend.jobs.stop();
      await backend.close();
    },
    enqueue: async (input) => void (await backend.system.enqueue("noop", input)),
  };
}

function graphileWorker(): Worker {
  let runner: Runner | undefined;
  const pool = new pg.Pool({ connectionString: task.target, max: task.concurrency + 2 });
  pool.on("error", (error) => console.error(error));
  pool.on("connect", (client) => client.on("error", (error) => console.error(error)));
  return {
    start: async () => {
      runner = await run({
        pgPool: pool,
        schema: task.schema,
        concurrency: task.concurrency,
        noHandleSignals: true,
        logger: new Logger(() => () => {}),
        taskList: { noop: async (payload) => handle(payload as { n: number; t: number }) },
      });
    },
    stop: async () => {
      await runner?.stop();
      await pool.end();
    },
  };
}

async function main(): Promise<ChildResult> {
  const worker = task.system === "cimiento" ? cimientoWorker() : graphileWorker();
  if (task.mode === "process") {
    const all = new Promise<void>((resolve) => (onCall = () => calls === task.total && resolve()));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await worker.start();
    await all;
    await worker.stop();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { ms, cpuUs: used.user + used.system, calls, unique: seen.size, latencies: [] };
  }
  await worker.start();
  // Idle before the first job, and between jobs: each job finds the worker asleep.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (task.inProcess) {
    for (let n = 0; n < task.total; n++) {
      const done = new Promise<void>((resolve) => (onCall = resolve));
      await worker.enqueue!({ n, t: epochMs() });
      await done;
      await new Promise((resolve) => setTimeout(resolve, task.gap));
    }
  } else {
    process.send!({ ready: true });
    await new Promise<void>((resolve) => (onCall = () => calls === task.total && resolve()));
  }
  await worker.stop();
  return { ms: 0, cpuUs: 0, calls, unique: seen.size, latencies };
}

main().then(
  (result) => process.send!({ result }, () => process.exit(0)),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
