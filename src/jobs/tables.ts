/**
 * @internal The tables of jobs and of their attempts. Times are integers (ms since the epoch)
 * read from the backend's clock, so that one comparison works on both databases.
 * @module
 */
import { z } from "zod";
import { field } from "../define/field.js";
import { systemCollection } from "../define/collection.js";

export const JOBS_TABLE = "cimiento_jobs";
export const ATTEMPTS_TABLE = "cimiento_job_attempts";

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
  },
  indexes: [["state", "runAt"], { fields: ["name", "idempotencyKey"], unique: true }],
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
