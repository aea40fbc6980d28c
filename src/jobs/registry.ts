/**
 * @internal The jobs runtime of each backend, for `cimiento/testing`.
 * @module
 */
import type { JobsRuntime } from "./jobs-runtime.js";

const runtimes = new WeakMap<object, JobsRuntime>();

/** Records the jobs runtime of a backend. */
export function registerJobs(backend: object, runtime: JobsRuntime): void {
  runtimes.set(backend, runtime);
}

/** The jobs runtime of a backend made by `createBackend`. */
export function jobsOf(backend: object): JobsRuntime {
  const runtime = runtimes.get(backend);
  if (runtime === undefined) throw new TypeError("Not a backend made by createBackend().");
  return runtime;
}
