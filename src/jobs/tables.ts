/**
 * @internal The tables of jobs and of their attempts. Times are integers (ms since the epoch)
 * read from the backend's clock, so that one comparison works on both databases.
 * @module
 */
import { z } from "zod";
import { field } from "../define/field.js";
import { systemCollection } from "../define/collection.js";
import { indexName } from "../model/model.js";

export const JOBS_TABLE = "cimiento_jobs";

/** The predicates of the partial indexes, as the queries that use them repeat them. */
export const QUEUED = `"state" = 'queued'`;
export const RUNNING = `"state" = 'running'`;
export const FINISHED = `"finishedAt" is not null`;
export const ATTEMPTS_TABLE = "cimiento_job_attempts";

/** The partial indexes of the worker's queries (store.ts names them where SQLite needs it). */
export const DUE_INDEX = "cimiento_jobs_due";
/** Queued jobs by due time: what finds when the next job not due yet becomes due. */
export const STATE_RUN_AT_INDEX = indexName(JOBS_TABLE, ["state", "runAt"], false);
export const LEASE_INDEX = "cimiento_jobs_lease";
export const FINISHED_INDEX = "cimiento_jobs_finished";

export const jobsTable = systemCollection(JOBS_TABLE, {
  fields: {
    name: field.text(),
    input: field.json(z.unknown()),
    state: field.text(),
    priority: field.integer().default(0),
    runAt: field.integer(),
    attempts: field.integer().default(0),
    maxAttempts: field.integer(),
    idempotencyKey: field.text().optional(),
    lockedBy: field.text().optional(),
    leaseUntil: field.integer().optional(),
    lastError: field.text().optional(),
    finishedAt: field.integer().optional(),
    // The cron tick a schedule enqueued the job for; null for jobs enqueued by code. Kept apart
    // from runAt, which a retry moves.
    tick: field.integer().optional(),
    // When the latest attempt started; with lockedBy (its worker, kept once it ends), the job row
    // holds its latest attempt, so that an attempt that succeeds writes no row of its own.
    startedAt: field.integer().optional(),
  },
  indexes: [["state", "runAt"], { fields: ["name", "idempotencyKey"], unique: true }],
  // Partial indexes, one per way the worker looks for rows; a query uses one when its filter
  // repeats the index's predicate word for word (store.ts writes them from these constants).
  systemIndexes: [
    // The claim: due jobs in claim order, read from the front, as many as it claims.
    { name: DUE_INDEX, columns: ["priority", "runAt", "id"], descending: ["priority"], where: QUEUED, unique: false },
    // Expired leases: running jobs by the end of their lease.
    { name: LEASE_INDEX, columns: ["leaseUntil"], where: RUNNING, unique: false },
    // Retention and prune: finished jobs by when they finished.
    { name: FINISHED_INDEX, columns: ["finishedAt"], where: FINISHED, unique: false },
  ],
});

export const attemptsTable = systemCollection(ATTEMPTS_TABLE, {
  fields: {
    jobId: field.text().index(),
    attempt: field.integer(),
    worker: field.text(),
    startedAt: field.integer(),
    finishedAt: field.integer().optional(),
    outcome: field.text().optional(),
    error: field.text().optional(),
  },
  // One row per attempt: the same attempt cannot start twice.
  indexes: [{ fields: ["jobId", "attempt"], unique: true }],
});

/** The system tables of jobs, for `createBackend`. */
export const jobTables = { [JOBS_TABLE]: jobsTable, [ATTEMPTS_TABLE]: attemptsTable };
