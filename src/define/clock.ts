/**
 * The clock the backend reads: the real one, or one a test moves by hand.
 * @module
 */

/**
 * Where the backend reads the time for jobs and schedules (when a job is due, when a lease
 * expires, when a cron tick comes) and for built-in auth (when a session, a one-use token or an
 * API key expires, rate-limit windows, the dates of its rows). The default is the system clock;
 * `cimiento/testing` has one that tests move by hand.
 *
 * @example
 * ```ts
 * const fixed: Clock = { now: () => Date.parse("2030-01-01T00:00:00Z") };
 * createBackend({ collections, jobs, clock: fixed });
 * ```
 */
export interface Clock {
  /** The current time, in milliseconds since the Unix epoch. */
  now(): number;
}

/** @internal The system clock. */
export const systemClock: Clock = { now: () => Date.now() };
