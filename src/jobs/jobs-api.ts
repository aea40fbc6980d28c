/**
 * `backend.jobs`: the worker, and what operators do with jobs.
 * @module
 */
import type { JobEventListener } from "./events.js";
import type { AnyJob } from "../define/handles.js";
import type { JobDetails, JobRecord, JobState } from "./job-record.js";

/**
 * What `backend.jobs.list()` takes.
 * @example
 * ```ts
 * await backend.jobs.list({ state: ["failed", "cancelled"], name: "sendWelcome", limit: 100, offset: 100 });
 * ```
 */
export interface ListJobsOptions<Name extends string = string> {
  /** Only jobs in this state (or these states). */
  readonly state?: JobState | readonly JobState[];
  /** Only jobs of this name. */
  readonly name?: Name;
  /**
   * At most this many (1 to 1000).
   * @default 50
   */
  readonly limit?: number;
  /**
   * Skips this many.
   * @default 0
   */
  readonly offset?: number;
}

/**
 * The jobs of a backend: run a worker in this process, and see, retry and cancel jobs.
 *
 * @example
 * ```ts
 * backend.jobs.on((event) => console.log(event.type, event));
 * backend.jobs.start({ concurrency: 10 });
 * const dead = await backend.jobs.list({ state: "failed" });
 * for (const job of dead) await backend.jobs.retry(job.id);
 * process.on("SIGTERM", () => backend.jobs.stop({ timeout: 20_000 }));
 * ```
 */
export interface JobsApi<J extends Record<string, AnyJob> = Record<string, AnyJob>> {
  /**
   * Starts a worker in this process: it claims due jobs (with a lease) and runs up to
   * `concurrency` at once, and enqueues the ticks of the schedules. Any number of processes may
   * run workers on one database; each attempt runs in one of them.
   * @example
   * ```ts
   * backend.jobs.start({ concurrency: 10, pollInterval: 500 });
   * ```
   */
  start(options?: WorkerOptions<keyof J & string>): void;
  /**
   * Stops the worker: it claims nothing more and waits for running jobs, or, once `timeout`
   * passes, gives them back to the queue and aborts their signals. Resolves when done; nothing
   * to do when no worker runs.
   * @example
   * ```ts
   * await backend.jobs.stop({ timeout: 20_000 });
   * ```
   */
  stop(options?: StopOptions): Promise<void>;
  /** Whether a worker runs in this process. */
  readonly started: boolean;
  /**
   * Jobs, newest first.
   * @example
   * ```ts
   * const failed = await backend.jobs.list({ state: "failed", name: "sendWelcome", limit: 20 });
   * ```
   */
  list(options?: ListJobsOptions<keyof J & string>): Promise<JobRecord[]>;
  /**
   * A job with its attempts, or `null`.
   * @example
   * ```ts
   * const job = await backend.jobs.get(id);
   * console.log(job?.state, job?.history.map((attempt) => attempt.error));
   * ```
   */
  get(id: string): Promise<JobDetails | null>;
  /**
   * Puts a `failed` or `cancelled` job back in the queue, due now, with its full number of
   * attempts again. Another state: `JOB_STATE_CONFLICT` (409); an unknown id: `NOT_FOUND`.
   * @example
   * ```ts
   * await backend.jobs.retry(id);
   * ```
   */
  retry(id: string): Promise<JobRecord>;
  /**
   * Cancels a `queued`, `running` or `failed` job. A running attempt's signal is aborted when its
   * worker next renews the lease. Another state: `JOB_STATE_CONFLICT` (409); an unknown id:
   * `NOT_FOUND`.
   * @example
   * ```ts
   * await backend.jobs.cancel(id);
   * ```
   */
  cancel(id: string): Promise<JobRecord>;
  /**
   * Deletes jobs that finished (in `states`) before `before`, with their attempts, and returns
   * how many. An idempotency key of a deleted job can be used again.
   * @example
   * ```ts
   * const weekAgo = new Date(Date.now() - 7 * 24 * 3_600_000);
   * await backend.jobs.prune({ before: weekAgo });                              // succeeded and cancelled
   * await backend.jobs.prune({ before: weekAgo, states: ["failed"] });          // dead letters too
   * ```
   */
  prune(options: PruneJobsOptions): Promise<number>;
  /**
   * Listens to what jobs do in this process (enqueued, started, succeeded, failed, lost,
   * released, scheduled). Returns the function that stops listening.
   * @example
   * ```ts
   * const off = backend.jobs.on((event) => {
   *   if (event.type === "failed") logger.warn(`job ${event.name} failed`, { error: event.error });
   * });
   * ```
   */
  on(listener: JobEventListener): () => void;
}

/**
 * What `backend.jobs.prune()` takes.
 * @example
 * ```ts
 * await backend.jobs.prune({ before: new Date("2030-01-01"), states: ["succeeded"] });
 * ```
 */
export interface PruneJobsOptions {
  /** Jobs that finished before this time. */
  readonly before: Date;
  /**
   * Jobs in these states.
   * @default ["succeeded", "cancelled"]
   */
  readonly states?: readonly ("succeeded" | "failed" | "cancelled")[];
}

/**
 * What `drainJobs()` did.
 * @example
 * ```ts
 * const { attempts, succeeded, failed } = await drainJobs(backend);
 * ```
 */
export interface DrainResult {
  /** Attempts run. */
  readonly attempts: number;
  /** Attempts that succeeded. */
  readonly succeeded: number;
  /** Attempts that failed (retried later, or for good). */
  readonly failed: number;
}

/**
 * Options of `backend.jobs.start()`.
 * @example
 * ```ts
 * backend.jobs.start({ concurrency: 20, pollInterval: 500, leaseDuration: 60_000 });
 * ```
 */
export interface WorkerOptions<Name extends string = string> {
  /**
   * Only these jobs: the worker claims no other (they stay queued for workers that run them).
   * Each name must be a registered job.
   * @default every registered job
   * @example
   * ```ts
   * backend.jobs.start({ only: ["sendWelcome"], concurrency: 20 }); // a process for mail alone
   * ```
   */
  readonly only?: readonly Name[];
  /**
   * How many attempts run at once in this worker.
   * @default 5
   */
  readonly concurrency?: number;
  /**
   * How often an idle worker looks for due jobs, in ms: for what a wake-up missed (an enqueue
   * in this process, or heard from another, wakes it at once, and it sleeps no later than the
   * time the next delayed job or retry it knows of becomes due).
   * @default 1000
   */
  readonly pollInterval?: number;
  /**
   * How long a claimed job stays with this worker without news from it, in ms. The worker renews
   * the lease every third of it while the job runs; when the worker dies, another runs the job
   * again once the lease has expired.
   * @default 30_000
   */
  readonly leaseDuration?: number;
  /**
   * How long succeeded and cancelled jobs are kept, in ms, after they finished; this worker then
   * deletes them (with their attempts) in the background, in batches of 1,000, once a minute.
   * `false` keeps them (delete them with `prune()`). Failed jobs (dead letters) are kept either way.
   * @default 604_800_000 (7 days)
   */
  readonly retention?: number | false;
  /**
   * Whether this worker also enqueues the ticks of the backend's schedules.
   * @default true
   */
  readonly schedules?: boolean;
}

/**
 * Options of `backend.jobs.stop()`.
 * @example
 * ```ts
 * process.on("SIGTERM", () => void backend.jobs.stop({ timeout: 25_000 }).then(() => process.exit(0)));
 * ```
 */
export interface StopOptions {
  /**
   * How long to wait for running jobs, in ms; then they are given back to the queue (due at once,
   * the attempt not counted) and their signals aborted. Absent: wait for them to finish.
   */
  readonly timeout?: number;
}
