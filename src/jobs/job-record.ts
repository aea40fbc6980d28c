/**
 * What operators see of a job: its state, attempts and errors.
 * @module
 */

/**
 * Where a job is: waiting (`queued`, also between retries), being run (`running`), done
 * (`succeeded`), out of attempts (`failed`, kept as a dead letter until retried by hand) or
 * `cancelled`.
 */
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/**
 * A job as stored.
 * @example
 * ```ts
 * const [oldest] = await backend.jobs.list({ state: "failed" });
 * console.log(oldest?.name, oldest?.attempts, oldest?.lastError);
 * ```
 */
export interface JobRecord {
  readonly id: string;
  /** The job's name, as registered. */
  readonly name: string;
  /** The input it was enqueued with. */
  readonly input: unknown;
  readonly state: JobState;
  readonly priority: number;
  /** When it is (or was last) due. */
  readonly runAt: Date;
  /** How many attempts have started. */
  readonly attempts: number;
  /** How many attempts it may have in all. */
  readonly maxAttempts: number;
  /** The error of the last failed attempt, `null` if none failed. */
  readonly lastError: string | null;
  readonly idempotencyKey: string | null;
  /** When it was enqueued. */
  readonly createdAt: Date;
  /** When it last changed. */
  readonly updatedAt: Date;
  /** When it succeeded, failed for good or was cancelled. */
  readonly finishedAt: Date | null;
}

/**
 * How an attempt ended: `lost` when its worker stopped renewing its lease (it died), `released`
 * when a stopping worker gave the job back (it does not count against the attempts).
 */
export type AttemptOutcome = "succeeded" | "failed" | "lost" | "released";

/** One attempt of a job. */
export interface JobAttempt {
  /** 1 for the first. */
  readonly attempt: number;
  /** The worker that ran it. */
  readonly worker: string;
  readonly startedAt: Date;
  /** `null` while it runs. */
  readonly finishedAt: Date | null;
  /** `null` while it runs. */
  readonly outcome: AttemptOutcome | null;
  /** The error of a failed or lost attempt (with its stack when there is one). */
  readonly error: string | null;
}

/**
 * A job with its attempts, oldest first.
 * @example
 * ```ts
 * const job = await backend.jobs.get(id);
 * for (const attempt of job?.history ?? []) console.log(attempt.attempt, attempt.outcome, attempt.error);
 * ```
 */
export interface JobDetails extends JobRecord {
  readonly history: readonly JobAttempt[];
}
