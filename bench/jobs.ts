/**
 * `npm run bench:jobs`: cimiento's jobs beside graphile-worker's in the same run, on PostgreSQL,
 * and cimiento's on SQLite. No-op jobs; the worker runs in a process of its own, pinned to core 1,
 * and the producers in this process, pinned to core 0 (see cores.ts); a fresh schema (or file)
 * for each measure. Figures:
 *
 * - enqueue, one job per transaction, 16 producers (jobs/s): 8,000 jobs after 4,000 untimed;
 * - enqueue, batches of 100, 16 producers (jobs/s), after 16 untimed batches: these fill the
 *   queue of the next measure;
 * - processing the queued jobs (20,000; `BENCH_JOBS=200000` for more), concurrency 16 (jobs/s),
 *   and the worker process's CPU time per job (µs); every job must run exactly once;
 * - latency from enqueue to handler with an idle worker, p50 / p99 (ms), 500 jobs 30 ms apart:
 *   from another process (both databases), and from the worker's own process (SQLite).
 *
 * Results go to bench/results/jobs.json; ratios are cimiento / graphile-worker.
 * Environment: `BENCH_POSTGRES_URL` (default postgres://root@127.0.0.1:5432/test), `BENCH_JOBS`,
 * `BENCH_PIN=0` (no pinning).
 * @module
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { Logger, makeWorkerUtils, runMigrations } from "graphile-worker";
import { describePinning, pin, pinning } from "./cores.js";
import { createBackend, epochMs, job, postgres, sqlite, type ChildResult, type ChildTask } from "./jobs-shared.js";
import { z } from "zod";

const URL_ = process.env["BENCH_POSTGRES_URL"] ?? "postgres://root@127.0.0.1:5432/test";
const QUEUED = Number(process.env["BENCH_JOBS"] ?? 20_000);
const ONE_PER_TX = 8_000;
const PRODUCERS = 16;
const BATCH = 100;
/**
 * Untimed calls before each enqueue measure: the pool's connections open, statements prepared,
 * code compiled. After 800, the next 4,000 one-per-transaction enqueues still ran at about two
 * thirds of the rate of those after them, while V8 was still optimising.
 */
const WARM_ONE = 4_000;
const WARM_BATCHES = PRODUCERS;
const CONCURRENCY = 16;
const LATENCY_JOBS = 500;
const GAP = 30;
const only = process.env["BENCH_ONLY"]?.split(",");

type System = "cimiento" | "graphile-worker";
type Dialect = "postgres" | "sqlite";

/** One enqueuer of a system on a database. */
interface Producer {
  one(input: { n: number; t: number }): Promise<void>;
  many(inputs: { n: number; t: number }[]): Promise<void>;
  close(): Promise<void>;
}

const noop = job({ input: z.object({ n: z.number(), t: z.number() }), retries: 3, handler: () => {} });

let schemas = 0;
const stamp = Date.now().toString(36);
const made: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL_ });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh place for one measure: a PostgreSQL schema, or a SQLite file. */
async function fresh(system: System, dialect: Dialect, folder: string): Promise<{ target: string; schema?: string }> {
  const name = `bench_jobs_${stamp}_${schemas++}`;
  if (dialect === "sqlite") {
    const target = join(folder, `${name}.db`);
    const backend = createBackend({ database: sqlite({ file: target }), jobs: { noop }, logger: quiet });
    await backend.migrate();
    await backend.close();
    return { target };
  }
  await admin((client) => client.query(`create schema "${name}"`));
  made.push(name);
  if (system === "cimiento") {
    const backend = createBackend({ database: postgres({ connectionString: URL_, schema: name, max: 1 }), jobs: { noop }, logger: quiet });
    await backend.migrate();
    await backend.close();
  } else {
    const pool = new pg.Pool({ connectionString: URL_, max: 1 });
    pool.on("error", (error) => console.error(error));
    pool.on("connect", (client) => client.on("error", (error) => console.error(error)));
    await runMigrations({ pgPool: pool, schema: name, logger: silent });
    await pool.end();
  }
  return { target: URL_, schema: name };
}

const silent = new Logger(() => () => {});
const quiet = { error: (message: string, data?: unknown) => console.error(message, data) };

function producer(system: System, dialect: Dialect, place: { target: string; schema?: string }): Producer {
  if (system === "cimiento") {
    const database = dialect === "sqlite" ? sqlite({ file: place.target }) : postgres({ connectionString: URL_, schema: place.schema, max: PRODUCERS });
    const backend = createBackend({ database, jobs: { noop }, logger: quiet });
    return {
      one: async (input) => void (await backend.system.enqueue("noop", input)),
      many: async (inputs) => void (await backend.system.enqueueMany("noop", inputs)),
      close: () => backend.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: URL_, max: PRODUCERS });
  pool.on("error", (error) => console.error(error));
  pool.on("connect", (client) => client.on("error", (error) => console.error(error)));
  const utils = makeWorkerUtils({ pgPool: pool, schema: place.schema, logger: silent });
  return {
    one: async (input) => void (await (await utils).addJob("noop", input, { maxAttempts: 4 })),
    many: async (inputs) => void (await (await utils).addJobs(inputs.map((payload) => ({ identifier: "noop", payload, maxAttempts: 4 })))),
    close: async () => {
      await (await utils).release();
      await pool.end();
    },
  };
}

/** Runs `count` calls of `call` over `PRODUCERS` concurrent loops; jobs/s. */
async function produce(count: number, call: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return performance.now() - started;
}

function child(task: ChildTask, onReady?: () => void): Promise<ChildResult> {
  const process_ = fork(new URL("./jobs-child.ts", import.meta.url).pathname, [JSON.stringify(task)], { execArgv: ["--import", "tsx"] });
  if (pinning !== undefined) pin(process_.pid!, pinning.server);
  return new Promise((resolve, reject) => {
    process_.on("message", (message: { ready?: boolean; result?: ChildResult }) => {
      if (message.ready) onReady?.();
      if (message.result) resolve(message.result);
    });
    process_.on("exit", (code) => code !== 0 && reject(new Error(`The worker process exited with ${code}.`)));
  });
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** What is left in the queue after processing: jobs not succeeded (cimiento) or still there (graphile-worker). */
async function leftover(system: System, dialect: Dialect, place: { target: string; schema?: string }): Promise<{ left: number; rerun: number }> {
  if (dialect === "sqlite") {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(place.target, { readonly: true });
    const row = db.prepare(`select sum(state != 'succeeded') as left, sum(attempts != 1) as rerun from cimiento_jobs`).get() as { left: number; rerun: number };
    db.close();
    return row;
  }
  return admin(async (client) => {
    if (system === "cimiento") {
      const { rows } = await client.query(`select count(*) filter (where state != 'succeeded')::int as left, count(*) filter (where attempts != 1)::int as rerun from "${place.schema}".cimiento_jobs`);
      return rows[0] as { left: number; rerun: number };
    }
    const { rows } = await client.query(`select count(*)::int as left from "${place.schema}"._private_jobs`);
    return { left: (rows[0] as { left: number }).left, rerun: 0 };
  });
}

interface Figures {
  enqueueOne?: number;
  enqueueBatch?: number;
  process?: number;
  cpuPerJob?: number;
  latency?: { p50: number; p99: number };
  latencyInProcess?: { p50: number; p99: number };
  lost?: number;
  duplicates?: number;
}

async function measure(system: System, dialect: Dialect, folder: string): Promise<Figures> {
  const figures: Figures = {};
  const log = (what: string) => console.log(`  ${system} on ${dialect}: ${what}`);

  // Enqueue, one job per transaction.
  let place = await fresh(system, dialect, folder);
  let producing = producer(system, dialect, place);
  await produce(WARM_ONE, (n) => producing.one({ n: -1 - n, t: 0 }));
  let ms = await produce(ONE_PER_TX, (n) => producing.one({ n, t: 0 }));
  figures.enqueueOne = (ONE_PER_TX / ms) * 1000;
  await producing.close();
  log(`enqueue one per transaction ${figures.enqueueOne.toFixed(0)} jobs/s`);

  // Enqueue in batches of 100: the queue of the processing measure.
  place = await fresh(system, dialect, folder);
  producing = producer(system, dialect, place);
  const batch = (b: number) => producing.many(Array.from({ length: BATCH }, (_, i) => ({ n: b * BATCH + i, t: 0 })));
  // The warm-up's jobs are the first of the queue: the queue holds QUEUED jobs, the timed batches the rest.
  await produce(WARM_BATCHES, batch);
  ms = await produce(QUEUED / BATCH - WARM_BATCHES, (b) => batch(b + WARM_BATCHES));
  figures.enqueueBatch = ((QUEUED - WARM_BATCHES * BATCH) / ms) * 1000;
  await producing.close();
  log(`enqueue in batches of ${BATCH} ${figures.enqueueBatch.toFixed(0)} jobs/s`);
  if (dialect === "postgres") await admin((client) => client.query(`vacuum analyze "${place.schema}".${system === "cimiento" ? "cimiento_jobs" : "_private_jobs"}`));

  // Processing the queue.
  const result = await child({ system, dialect, ...place, mode: "process", total: QUEUED, concurrency: CONCURRENCY, gap: 0 });
  figures.process = (QUEUED / result.ms) * 1000;
  figures.cpuPerJob = result.cpuUs / QUEUED;
  const { left, rerun } = await leftover(system, dialect, place);
  figures.lost = left;
  figures.duplicates = result.calls - result.unique + rerun;
  log(`processing ${QUEUED} queued: ${figures.process.toFixed(0)} jobs/s, worker CPU ${figures.cpuPerJob.toFixed(0)} µs/job, left ${left}, run twice ${figures.duplicates}`);
  // The processing left a dead row version per update: vacuumed now, not by an autovacuum
  // that would run during the latency measure.
  // Then a checkpoint writes out what the processing and the vacuum dirtied, which would
  // otherwise go to the disk during the latency measure and hold its commits up.
  if (dialect === "postgres") {
    await admin((client) => client.query(`vacuum "${place.schema}".${system === "cimiento" ? "cimiento_jobs" : "_private_jobs"}`));
    await admin((client) => client.query("checkpoint"));
  }

  // Latency, idle worker, jobs enqueued by this process.
  place = await fresh(system, dialect, folder);
  producing = producer(system, dialect, place);
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  const latency = child({ system, dialect, ...place, mode: "latency", total: LATENCY_JOBS, concurrency: CONCURRENCY, gap: GAP }, ready);
  await started;
  for (let n = 0; n < LATENCY_JOBS; n++) {
    await producing.one({ n, t: epochMs() });
    await new Promise((resolve) => setTimeout(resolve, GAP));
  }
  const latencies = (await latency).latencies;
  figures.latency = { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  await producing.close();
  log(`latency from another process p50 ${figures.latency.p50.toFixed(1)} ms, p99 ${figures.latency.p99.toFixed(1)} ms`);

  if (dialect === "sqlite") {
    place = await fresh(system, dialect, folder);
    const inProcess = await child({ system, dialect, ...place, mode: "latency", total: LATENCY_JOBS, concurrency: CONCURRENCY, gap: GAP, inProcess: true });
    figures.latencyInProcess = { p50: percentile(inProcess.latencies, 50), p99: percentile(inProcess.latencies, 99) };
    log(`latency in the worker's process p50 ${figures.latencyInProcess.p50.toFixed(1)} ms, p99 ${figures.latencyInProcess.p99.toFixed(1)} ms`);
  }
  return figures;
}

const folder = mkdtempSync(join(tmpdir(), "cimiento-bench-jobs-"));
const results: Record<string, Figures> = {};
console.log(`jobs benchmark: ${QUEUED} queued jobs, concurrency ${CONCURRENCY}, ${PRODUCERS} producers; ${describePinning()}`);
try {
  for (const [system, dialect] of [
    ["cimiento", "postgres"],
    ["graphile-worker", "postgres"],
    ["cimiento", "sqlite"],
  ] as const) {
    const key = `${system} ${dialect}`;
    if (only !== undefined && !only.includes(key)) continue;
    results[key] = await measure(system, dialect, folder);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
  await admin(async (client) => {
    for (const schema of made) await client.query(`drop schema if exists "${schema}" cascade`);
  });
}

const ours = results["cimiento postgres"];
const theirs = results["graphile-worker postgres"];
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? "" : `${(a / b).toFixed(2)}x`);
const rows: [string, (f: Figures) => string, string][] = [
  ["enqueue, one job per transaction, 16 producers (jobs/s)", (f) => f.enqueueOne?.toFixed(0) ?? "", ratio(ours?.enqueueOne, theirs?.enqueueOne)],
  [`enqueue, batches of ${BATCH}, 16 producers (jobs/s)`, (f) => f.enqueueBatch?.toFixed(0) ?? "", ratio(ours?.enqueueBatch, theirs?.enqueueBatch)],
  [`processing ${QUEUED.toLocaleString("en")} queued jobs (jobs/s)`, (f) => f.process?.toFixed(0) ?? "", ratio(ours?.process, theirs?.process)],
  ["worker CPU per job (µs)", (f) => f.cpuPerJob?.toFixed(0) ?? "", ratio(ours?.cpuPerJob, theirs?.cpuPerJob)],
  [
    "latency enqueue → handler, idle worker, other process, p50 / p99 (ms)",
    (f) => (f.latency === undefined ? "" : `${f.latency.p50.toFixed(1)} / ${f.latency.p99.toFixed(1)}`),
    "",
  ],
  [
    "latency, same process, p50 / p99 (ms)",
    (f) => (f.latencyInProcess === undefined ? "" : `${f.latencyInProcess.p50.toFixed(1)} / ${f.latencyInProcess.p99.toFixed(1)}`),
    "",
  ],
  ["jobs lost / run twice", (f) => `${f.lost ?? ""} / ${f.duplicates ?? ""}`, ""],
];
const keys = Object.keys(results);
console.log(`\n| figure | ${keys.join(" | ")} | cimiento / graphile-worker (PostgreSQL) |`);
console.log(`|---|${keys.map(() => "--:").join("|")}|--:|`);
for (const [label, value, r] of rows) console.log(`| ${label} | ${keys.map((key) => value(results[key]!)).join(" | ")} | ${r} |`);
writeFileSync(new URL(`./results/jobs${QUEUED === 20_000 ? "" : `-${QUEUED}`}.json`, import.meta.url), `${JSON.stringify({ queued: QUEUED, pinning: describePinning(), results }, null, 2)}\n`);
