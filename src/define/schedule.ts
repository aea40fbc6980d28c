/**
 * `schedule()`: a job enqueued on every tick of a cron pattern.
 * @module
 */
import { Cron } from "croner";
import { SchemaError } from "../errors/schema-error.js";
import type { Job } from "./job.js";

/**
 * Options of {@link schedule}.
 * @example
 * ```ts
 * schedule("morning", "0 8 * * 1-5", "sendAgenda", undefined, { timezone: "America/New_York" });
 * ```
 */
export interface ScheduleOptions {
  /**
   * The IANA time zone the pattern is read in, e.g. `"Europe/Madrid"` (daylight saving time
   * included).
   * @default "UTC"
   */
  readonly timezone?: string;
}

/**
 * A defined schedule, registered in `createBackend({ schedules })`.
 * @example
 * ```ts
 * const schedules: Schedule[] = [schedule("purge", "0 * * * *", "purgeDrafts")];
 * ```
 */
export interface Schedule {
  readonly name: string;
  readonly cron: string;
  /** The job it enqueues: its registered name, or the job itself. */
  readonly job: string | Job<never>;
  readonly input: unknown;
  readonly timezone: string;
  /** @internal The parsed pattern. */
  readonly pattern: Cron;
}

/**
 * Declares a schedule: on every tick of `cron` (5 fields, or 6 with seconds first), the job is
 * enqueued with `input`. Workers run the schedules of their backend; however many run, each tick
 * is enqueued once (the tick is the job's idempotency key). A tick while no worker runs is
 * enqueued when the next one starts only if it is within the time that worker's backend has been
 * up; ticks further back are not made up.
 *
 * @example
 * ```ts
 * const nightly = schedule("nightly-digest", "0 3 * * *", sendDigest, { period: "day" }, { timezone: "Europe/Madrid" });
 * // sendDigest and purgeDrafts are the app's own jobs (see `job`). Expired sessions and one-use
 * // tokens need none: auth deletes them itself.
 * const hourly = schedule("purge", "0 * * * *", "purgeDrafts");
 * createBackend({ collections, jobs: { sendDigest, purgeDrafts }, schedules: [nightly, hourly] });
 * ```
 */
export function schedule<I>(name: string, cron: string, job: Job<I>, input: I, options?: ScheduleOptions): Schedule;
export function schedule(name: string, cron: string, job: string | Job<undefined>, input?: unknown, options?: ScheduleOptions): Schedule;
export function schedule(name: string, cron: string, job: string | Job<never>, input?: unknown, options: ScheduleOptions = {}): Schedule {
  if (typeof name !== "string" || name.length === 0) throw new SchemaError("A schedule needs a name.");
  const timezone = options.timezone ?? "UTC";
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { paused: true, timezone });
    pattern.nextRun();
  } catch (error) {
    throw new SchemaError(`The schedule "${name}" has an invalid cron pattern or time zone (${cron}, ${timezone}): ${(error as Error).message}`);
  }
  return Object.freeze({ name, cron, job, input, timezone, pattern });
}
