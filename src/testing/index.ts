/**
 * `cimiento/testing`: helpers for testing code built on cimiento.
 * @module
 */
import { partsOf } from "../backend/backend-parts.js";
import { createBackend, isBuiltIn, type Backend, type BackendOptions, type WithAuthUsers } from "../backend/create-backend.js";
import type { AuthOptions } from "../auth/options.js";
import { scryptHasher } from "../auth/password.js";
import { sqlite } from "../dialects/sqlite/index.js";
import type { AnyAction, AnyJob } from "../define/handles.js";
import type { Clock } from "../define/clock.js";
import type { DrainResult } from "../jobs/jobs-api.js";
import type { DialectName, Schema } from "../define/types.js";
import type { DatabaseAdapter } from "../dialects/dialect.js";

export type { DrainResult } from "../jobs/jobs-api.js";
export { testPostgres, type TestPostgresOptions } from "./test-postgres.js";

/**
 * A backend on a fresh database, already migrated: by default an in-memory SQLite database, so
 * every call gives an empty, isolated database and tests can run in parallel. On PostgreSQL,
 * pass `database: await testPostgres({ connectionString })`: a schema of its own, dropped when
 * the backend closes. Close it when done. With built-in auth and no `password.hasher`, passwords
 * are hashed with a cheap scrypt (`logN: 10`), so that tests that sign in stay fast; everything
 * else is as in production.
 *
 * @example
 * ```ts
 * import { createTestBackend, testPostgres } from "cimiento/testing";
 *
 * const backend = await createTestBackend({ collections: { posts }, auth: { password: {} } });
 * await backend.system.data.posts.create({ title: "Hello" });
 * const ada = await backend.auth.createUser({ email: "ada@example.com", password: "a test password", emailVerified: true });
 * await backend.close();
 *
 * const onPostgres = await createTestBackend({
 *   collections: { posts },
 *   database: await testPostgres({ connectionString: "postgres://postgres@localhost:5432/test" }),
 * });
 * await onPostgres.close(); // drops its schema
 * ```
 */
export async function createTestBackend<
  const S extends Schema,
  const A extends Record<string, AnyAction> = {},
  const Au extends AuthOptions | undefined = AuthOptions | undefined,
  const J extends Record<string, AnyJob> = {},
  const D extends DialectName = "sqlite",
>(options: BackendOptions<S, D, A, Au, J>): Promise<Backend<WithAuthUsers<S, Au>, D, A, J>> {
  const auth = options.auth;
  const testAuth = isBuiltIn(auth)
    ? { ...auth, password: { hasher: scryptHasher({ logN: 10 }), ...auth.password } }
    : auth;
  const database = options.database ?? (sqlite({ file: ":memory:" }) as unknown as DatabaseAdapter<D>);
  const backend = createBackend<S, D, A, Au, J>({ ...options, auth: testAuth as Au, database });
  try {
    await backend.migrate();
  } catch (error) {
    // A schema made for the test is dropped with the backend.
    await backend.close();
    throw error;
  }
  return backend;
}

/**
 * A clock that stands still until a test moves it.
 * @example
 * ```ts
 * const clock: TestClock = testClock("2030-01-01T00:00:00Z");
 * clock.advance(60_000);
 * clock.set(new Date("2030-06-01T00:00:00Z"));
 * ```
 */
export interface TestClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Sets the clock to `time`: a Date, ms since the epoch or an ISO string (it may go back). */
  set(time: Date | number | string): void;
}

/**
 * A clock for `createBackend({ clock })` / `createTestBackend({ clock })` that only moves when the
 * test moves it: due times, retries and cron ticks become deterministic.
 *
 * @example
 * ```ts
 * import { createTestBackend, drainJobs, testClock } from "cimiento/testing";
 *
 * const clock = testClock("2030-01-01T00:00:00Z");
 * const backend = await createTestBackend({ collections, jobs: { remind }, clock });
 * await backend.system.enqueue("remind", { userId }, { delay: 60_000 });
 * await drainJobs(backend);     // not due yet: runs nothing
 * clock.advance(60_000);
 * await drainJobs(backend);     // runs remind
 * ```
 */
export function testClock(start: Date | number | string = Date.now()): TestClock {
  const parse = (time: Date | number | string): number => {
    const ms = time instanceof Date ? time.getTime() : typeof time === "string" ? Date.parse(time) : time;
    if (!Number.isFinite(ms)) throw new TypeError(`testClock: ${String(time)} is not a valid time.`);
    return ms;
  };
  let now = parse(start);
  return {
    now: () => now,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`clock.advance(ms) takes a number of ms, 0 or more, got ${String(ms)}.`);
      now += ms;
    },
    set(time) {
      now = parse(time);
    },
  };
}

/**
 * Runs every job that is due now, one at a time in this process, including jobs those jobs
 * enqueue and the ticks of schedules up to now, until none is due. Failed attempts are retried
 * only once their backoff has passed on the backend's clock. No worker needs to run.
 *
 * @example
 * ```ts
 * await backend.as(user).actions.signUp({ email });
 * const { succeeded } = await drainJobs(backend);
 * expect(succeeded).toBe(1);
 * ```
 */
export function drainJobs(backend: { readonly jobs: object }): Promise<DrainResult> {
  return partsOf(backend).jobs.drain();
}
