/**
 * What the jobs benchmark's processes share: the build of cimiento they load, what a worker
 * process is told, and what it answers.
 * @module
 */
import { performance } from "node:perf_hooks";

const build = new URL("./.build/", import.meta.url);
async function entry<T>(name: string): Promise<T> {
  return (await import(new URL(`${name}.js`, build).href)) as T;
}

// cimiento as users run it: the build of src/ (by tsup, into bench/.build/).
export const { createBackend, job } = await entry<typeof import("../src/index.js")>("index");
export const { sqlite } = await entry<typeof import("../src/dialects/sqlite/index.js")>("sqlite");
export const { postgres } = await entry<typeof import("../src/dialects/postgres/index.js")>("postgres");

/** What a worker process does. */
export interface ChildTask {
  readonly system: "cimiento" | "graphile-worker";
  readonly dialect: "sqlite" | "postgres";
  /** The SQLite file, or the PostgreSQL connection string. */
  readonly target: string;
  /** The PostgreSQL schema. */
  readonly schema?: string;
  /** `process`: run `total` queued jobs, timed; `latency`: wait idle for `total` jobs, one at a time. */
  readonly mode: "process" | "latency";
  readonly total: number;
  readonly concurrency: number;
  /** Latency runs: the process enqueues its jobs itself. */
  readonly inProcess?: boolean;
  /** Latency runs: the pause between jobs, in ms. */
  readonly gap: number;
}

/** What a worker process answers. */
export interface ChildResult {
  /** Wall time from the worker's start to its stop after the last job, in ms. */
  readonly ms: number;
  /** CPU time of the process over that time, in µs. */
  readonly cpuUs: number;
  /** Handler calls, and distinct jobs among them. */
  readonly calls: number;
  readonly unique: number;
  /** Enqueue → handler, in ms, per job (latency runs). */
  readonly latencies: readonly number[];
}

/** The time since the epoch in ms, with sub-ms precision, comparable across processes of one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
