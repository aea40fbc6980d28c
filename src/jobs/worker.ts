/**
 * @internal The worker loop: claims due jobs up to its concurrency, runs them, runs the
 * schedules, and stops gracefully.
 * @module
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { StopOptions, WorkerOptions } from "./jobs-api.js";
import { startAttempt, type AttemptHost, type RunningAttempt } from "./run-attempt.js";
import type { Scheduler } from "./scheduler.js";
import { PRUNE_BATCH, type LostAttempt } from "./store.js";

/** How long finished jobs are kept by default: 7 days. */
const DEFAULT_RETENTION = 7 * 24 * 3_600_000;
/** How often a worker deletes the finished jobs past their retention. */
const SWEEP_INTERVAL = 60_000;
import { JOBS_TOPIC, type Notifier } from "../dialects/notifier.js";

export type { StopOptions, WorkerOptions } from "./jobs-api.js";

/** What a worker needs of the jobs host: what its attempts need, the schedules, and where lost leases go. */
export interface WorkerHost extends AttemptHost {
  readonly scheduler: Scheduler;
  readonly notifier: Notifier;
  reportLost(lost: readonly LostAttempt[]): void;
}


function positive(value: number | undefined, fallback: number, what: string): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) throw new TypeError(`backend.jobs.start(): ${what} must be a positive number, got ${String(value)}.`);
  return chosen;
}

function onlyNames(only: readonly string[] | undefined, host: WorkerHost): readonly string[] {
  if (only === undefined) return [...host.definitions.keys()];
  if (!Array.isArray(only) || only.length === 0) throw new TypeError("backend.jobs.start(): only must be a non-empty array of job names.");
  for (const name of only) {
    if (typeof name !== "string" || !host.definitions.has(name)) {
      throw new TypeError(`backend.jobs.start(): only names "${String(name)}", which is not a registered job.`);
    }
  }
  return [...new Set(only)];
}

/** @internal A name for a worker, unique across processes and hosts. */
export function workerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** One running worker of a backend. */
export class Worker {
  readonly name = workerName();
  readonly #host: WorkerHost;
  readonly #concurrency: number;
  readonly #pollInterval: number;
  readonly #leaseDuration: number;
  readonly #schedules: boolean;
  /** The jobs this worker runs. */
  readonly #names: readonly string[];
  readonly #retention: number | false;
  #sweeping: Promise<void> | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #running = new Map<string, RunningAttempt>();
  #stopping = false;
  #wake: (() => void) | undefined;
  #woken = false;
  /** The due time of a job the last sleep ran until, if it ended so. */
  #sleptUntil: number | null = null;
  /** When this worker last looked for expired leases (real time). */
  #reaped = 0;
  #loop: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(host: WorkerHost, options: WorkerOptions) {
    this.#host = host;
    this.#concurrency = Math.floor(positive(options.concurrency, 5, "concurrency"));
    this.#pollInterval = positive(options.pollInterval, 1000, "pollInterval");
    this.#leaseDuration = positive(options.leaseDuration, 30_000, "leaseDuration");
    this.#schedules = options.schedules ?? true;
    this.#names = onlyNames(options.only, host);
    this.#retention = options.retention === false ? false : positive(options.retention, DEFAULT_RETENTION, "retention");
  }

  start(): void {
    this.#unsubscribe = this.#host.notifier.subscribe(JOBS_TOPIC, () => this.wake());
    this.#loop = this.#run();
    if (this.#retention !== false) {
      this.#sweep();
      this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL);
      this.#sweepTimer.unref();
    }
  }

  /** Deletes the finished jobs past their retention, a batch at a time, in the background. */
  #sweep(): void {
    if (this.#sweeping !== undefined || this.#retention === false) return;
    const host = this.#host;
    const before = host.clock.now() - this.#retention;
    this.#sweeping = (async () => {
      try {
        while (!this.#stopping && (await host.store.sweep(before, ["succeeded", "cancelled"], PRUNE_BATCH)) === PRUNE_BATCH) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        host.logger.error("The job worker could not delete finished jobs past their retention; it tries again in a minute.", { error });
      } finally {
        this.#sweeping = undefined;
      }
    })();
  }

  /** Looks for due jobs now instead of at the next poll. */
  wake(): void {
    if (this.#wake === undefined) this.#woken = true;
    else this.#wake();
  }

  async #run(): Promise<void> {
    const host = this.#host;
    while (!this.#stopping) {
      let claimedAny = false;
      let nextDue: number | null = null;
      try {
        if (this.#schedules) await host.scheduler.tick(host.clock.now());
        const free = this.#concurrency - this.#running.size;
        if (free > 0) {
          const claimed = await host.store.claim(this.name, free, this.#capacity(), this.#leaseDuration);
          for (const job of claimed) this.#start(job);
          claimedAny = claimed.length > 0;
          // Nothing due: the first job that becomes due (delayed, or a retry) ends the sleep.
          if (!claimedAny) nextDue = await host.store.nextDue(this.#names, host.clock.now());
        }
        // Expired leases are looked for apart from the claim (after it, not to delay a wake-up),
        // at most once per poll interval; a job they queue again is claimed at the next pass.
        const now = Date.now();
        if (now - this.#reaped >= this.#pollInterval) {
          this.#reaped = now;
          const lost = await host.store.reap();
          host.reportLost(lost);
          claimedAny ||= lost.some((attempt) => !attempt.final);
        }
      } catch (error) {
        host.logger.error("The job worker could not claim jobs; it tries again at the next poll.", { error });
      }
      if (claimedAny || this.#stopping) continue;
      await this.#sleep(nextDue);
    }
  }

  /** How many more attempts of each job this worker may start. */
  #capacity(): Map<string, number> {
    const capacity = new Map<string, number>();
    for (const name of this.#names) capacity.set(name, this.#host.definitions.get(name)!.concurrency ?? this.#concurrency);
    for (const attempt of this.#running.values()) capacity.set(attempt.job.name, (capacity.get(attempt.job.name) ?? 0) - 1);
    return capacity;
  }

  #start(job: RunningAttempt["job"]): void {
    const attempt = startAttempt(this.#host, this.name, job, this.#leaseDuration);
    this.#running.set(job.id, attempt);
    void attempt.done.then(() => {
      if (this.#running.get(job.id) === attempt) this.#running.delete(job.id);
      this.wake();
    });
  }

  /** Sleeps until woken, the poll interval passes, the next schedule tick, or `nextDue`. */
  #sleep(nextDue: number | null): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    const host = this.#host;
    let delay = this.#pollInterval;
    const tick = this.#schedules ? host.scheduler.nextTick() : null;
    const now = host.clock.now();
    if (tick !== null) delay = Math.max(0, Math.min(delay, tick - now));
    // Until the next job is due, a millisecond more for timers that fire a little before the
    // clock says; unless the last sleep ran until that very time and the job is still not due:
    // the backend's clock does not follow real time (a test clock), and the poll finds it.
    let untilDue: number | null = null;
    if (nextDue !== null && nextDue !== this.#sleptUntil && nextDue - now + 1 < delay) {
      delay = Math.max(0, nextDue - now + 1);
      untilDue = nextDue;
    }
    this.#sleptUntil = null;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleptUntil = untilDue;
        done();
      }, delay);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  /** Stops claiming, waits for running attempts (or gives them back after `timeout`). */
  async stop(options: StopOptions): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    clearInterval(this.#sweepTimer);
    this.wake();
    await this.#loop;
    await this.#sweeping;
    const running = [...this.#running.values()];
    const all = Promise.all(running.map((attempt) => attempt.done));
    if (options.timeout === undefined) {
      await all;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeout))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    for (const attempt of this.#running.values()) {
      attempt.stop("released");
      try {
        if (await this.#host.store.release(this.name, attempt.job)) {
          this.#host.emit({ type: "released", id: attempt.job.id, name: attempt.job.name, attempt: attempt.job.attempt });
          // Due again at once: other workers may take it now.
          this.#host.notifier.publish(JOBS_TOPIC);
        }
      } catch (error) {
        this.#host.logger.error(`Could not give job ${attempt.job.id} back; it runs again after its lease.`, { error });
      }
    }
  }
}
