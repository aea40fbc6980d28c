/**
 * @internal The parts of each backend that other entries reach past its public API: its HTTP
 * core and its logger, for `cimiento/node` and `cimiento/hono`, and its jobs and realtime
 * services, for `cimiento/testing` and tests.
 * @module
 */
import type { Logger } from "../define/logger.js";
import type { HttpCore } from "../http/core.js";
import type { JobsService } from "../jobs/jobs-service.js";
import type { RealtimeService } from "../realtime/realtime-service.js";

/** What an entry may reach of a backend besides its public API. */
export interface BackendParts {
  /** The routes, and the one way a request of any transport is answered. */
  readonly core: HttpCore;
  readonly logger: Logger;
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
