/**
 * @internal The parts of each backend that other entries reach past its public API: its Hono
 * app and its answer to errors, for `cimiento/node` and `cimiento/hono`, and its jobs and realtime services, for `cimiento/testing` and tests.
 * @module
 */
import type { ErrorHandler, Hono } from "hono";
import type { JobsService } from "../jobs/jobs-service.js";
import type { RealtimeService } from "../realtime/realtime-service.js";

/** What an entry may reach of a backend besides its public API. */
export interface BackendParts {
  readonly app: Hono<any>;
  /** The app's `onError`: the answer to an error thrown in any of its routes. */
  readonly answerError: ErrorHandler<any>;
  readonly jobs: JobsService;
  readonly realtime: RealtimeService;
}

// Keyed weakly by the backend object: the parts go when the backend goes, and nothing on the
// backend itself shows them.
const parts = new WeakMap<object, BackendParts>();

/** Records the parts of a backend, as `createBackend` makes it. */
export function registerParts(backend: object, of: BackendParts): void {
  parts.set(backend, of);
}

/** The parts of a backend made by `createBackend`. */
export function partsOf(backend: object): BackendParts {
  const found = parts.get(backend);
  if (found === undefined) throw new TypeError("Not a backend made by createBackend().");
  return found;
}
