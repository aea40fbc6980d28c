/**
 * @internal The SQL of jobs: insert, claim with a lease, record outcomes, and the operator's reads
 * and writes. A claim is one transaction that locks the rows it takes (`FOR UPDATE SKIP LOCKED`)
 * where transactions write concurrently, and that holds the whole database where they do not
 * (SQLite), so no two workers claim the same attempt.
 * @module
 */
import type { CompiledQuery, Kysely } from "kysely";
import { v7 as uuidv7 } from "uuid";
import type { DialectRuntime } from "../dialects/dialect.js";
import { ApiError } from "../errors/api-error.js";
import type { Clock } from "../define/clock.js";
import type { AttemptOutcome, JobAttempt, JobDetails, JobRecord, JobState } from "./job-record.js";
import { ATTEMPTS_TABLE, JOBS_TABLE } from "./tables.js";

/** A job a worker has claimed: the attempt it may run. */
export interface ClaimedJob {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The cron tick it was enqueued for (ms), or `null`. */
  readonly tick: number | null;
}

/** A job found with an expired lease during a claim. */
export interface LostAttempt {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  /** Whether that was its last attempt (the job is now `failed`). */
  readonly final: boolean;
}

/** What a new job row holds. */
export interface NewJob {
  readonly name: string;
  readonly input: unknown;
  readonly runAt: number;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly idempotencyKey: string | undefined;
  /** The cron tick a schedule enqueues it for (ms), or `null`. */
  readonly tick: number | null;
}

/** What the operator's list takes. */
export interface ListQuery {
  readonly state?: JobState | readonly JobState[];
  readonly name?: string;
  readonly limit: number;
  readonly offset: number;
}

export const LEASE_EXPIRED = "The lease expired: the worker running this attempt stopped renewing it.";

type Row = Record<string, unknown>;

/** The job row an attempt holds: its id, locked by this worker, at this attempt, running. */
function heldBy(worker: string, job: ClaimedJob) {
  return { id: job.id, lockedBy: worker, attempts: job.attempt, state: "running" } as const;
}

/** The stored jobs of one database. */
export class JobStore {
  readonly #runtime: DialectRuntime;
  readonly #clock: Clock;

  constructor(runtime: DialectRuntime, clock: Clock) {
    this.#runtime = runtime;
    this.#clock = clock;
  }

  #time(ms: number): unknown {
    return this.#runtime.encode("datetime", new Date(ms));
  }

  // The INSERT of enqueue, compiled once: enqueue is on the request path of actions and hooks.
  #insertQuery: { query: CompiledQuery; order: number[] } | undefined;

  #compiledInsert(): { query: CompiledQuery; order: number[] } {
    if (this.#insertQuery !== undefined) return this.#insertQuery;
    // Compiled with markers as values, to learn where each value goes among the parameters.
    const columns = ["id", "name", "input", "state", "priority", "runAt", "attempts", "maxAttempts", "idempotencyKey", "tick", "createdAt", "updatedAt"];
    const markers = columns.map((column) => `\u0000${column}`);
    const query = this.#runtime.kysely
      .insertInto(JOBS_TABLE)
      .values(Object.fromEntries(columns.map((column, i) => [column, markers[i]])))
      .onConflict((conflict) => conflict.columns(["name", "idempotencyKey"]).doNothing())
      .returning("id")
      .compile();
    const order = query.parameters.map((parameter) => markers.indexOf(parameter as string));
    if (order.some((index) => index < 0)) throw new Error("cimiento: unexpected parameters in the jobs INSERT.");
    this.#insertQuery = { query, order };
    return this.#insertQuery;
  }

  /** Inserts a job with `db` (a transaction's, for the outbox); an idempotency key used before returns that job. */
  async insert(db: Kysely<any>, job: NewJob): Promise<{ id: string; created: boolean }> {
    const now = this.#time(this.#clock.now());
    const id = uuidv7();
    const values = [
      id,
      job.name,
      // An absent input is the JSON document `null`, not SQL NULL, which the column refuses.
      job.input === null ? "null" : this.#runtime.encode("json", job.input),
      "queued",
      job.priority,
      job.runAt,
      0,
      job.maxAttempts,
      job.idempotencyKey ?? null,
      job.tick,
      now,
      now,
    ];
    const { query, order } = this.#compiledInsert();
    const { rows: inserted } = await db.executeQuery({ ...query, parameters: order.map((index) => values[index]) });
    if (inserted.length === 1) return { id, created: true };
    const existing = await db
      .selectFrom(JOBS_TABLE)
      .select("id")
      .where("name", "=", job.name)
      .where("idempotencyKey", "=", job.idempotencyKey ?? null)
      .executeTakeFirstOrThrow();
    return { id: existing.id as string, created: false };
  }

  /**
   * Claims up to `limit` due jobs among `capacity`'s names (at most that many of each) for
   * `worker`, with a lease of `leaseMs`. Jobs whose lease expired are claimed too (their lost
   * attempt is recorded), or failed when it was their last.
   */
  async claim(
    worker: string,
    limit: number,
    capacity: ReadonlyMap<string, number>,
    leaseMs: number,
  ): Promise<{ claimed: ClaimedJob[]; lost: LostAttempt[] }> {
    const names = [...capacity].filter(([, free]) => free > 0).map(([name]) => name);
    if (limit <= 0 || names.length === 0) return { claimed: [], lost: [] };
    const lockRows = this.#runtime.concurrentWrites;
    return this.#runtime.transaction(async (trx) => {
      const now = this.#clock.now();
      let query = trx
        .selectFrom(JOBS_TABLE)
        .select(["id", "name", "state", "attempts", "maxAttempts"])
        .where("name", "in", names)
        .where((eb) =>
          eb.or([
            eb.and([eb("state", "=", "queued"), eb("runAt", "<=", now)]),
            eb.and([eb("state", "=", "running"), eb("leaseUntil", "<", now)]),
          ]),
        )
        .orderBy("priority", "desc")
        .orderBy("runAt")
        .orderBy("id")
        .limit(limit);
      if (lockRows) query = query.forUpdate().skipLocked();
      const rows = await query.execute();
      const free = new Map(capacity);
      const take: string[] = [];
      const lost: LostAttempt[] = [];
      for (const row of rows) {
        const name = row.name as string;
        const attempts = Number(row.attempts);
        if (row.state === "running") {
          const final = attempts >= Number(row.maxAttempts);
          // Left for a worker with room for it (or the next claim), which records the loss.
          if (!final && (free.get(name) ?? 0) <= 0) continue;
          await this.#finishAttempt(trx, row.id as string, attempts, "lost", LEASE_EXPIRED, now);
          lost.push({ id: row.id as string, name, attempt: attempts, final });
          if (final) {
            await trx
              .updateTable(JOBS_TABLE)
              .set({ state: "failed", lockedBy: null, leaseUntil: null, lastError: LEASE_EXPIRED, finishedAt: now, updatedAt: this.#time(now) })
              .where("id", "=", row.id)
              .execute();
            continue;
          }
        }
        const left = free.get(name) ?? 0;
        if (left <= 0) continue;
        free.set(name, left - 1);
        take.push(row.id as string);
      }
      if (take.length === 0) return { claimed: [], lost };
      const claimedRows = await trx
        .updateTable(JOBS_TABLE)
        .set((eb) => ({
          state: "running",
          attempts: eb("attempts", "+", 1),
          lockedBy: worker,
          leaseUntil: now + leaseMs,
          updatedAt: this.#time(now),
        }))
        .where("id", "in", take)
        .returning(["id", "name", "input", "attempts", "maxAttempts", "priority", "runAt", "tick"])
        .execute();
      await trx
        .insertInto(ATTEMPTS_TABLE)
        .values(
          claimedRows.map((row) => ({
            id: uuidv7(),
            jobId: row.id,
            attempt: Number(row.attempts),
            worker,
            startedAt: now,
            createdAt: this.#time(now),
            updatedAt: this.#time(now),
          })),
        )
        .execute();
      // Claim order (priority, then due time) is the order attempts start in.
      claimedRows.sort((a, b) => Number(b.priority) - Number(a.priority) || Number(a.runAt) - Number(b.runAt) || String(a.id).localeCompare(String(b.id)));
      const claimed = claimedRows.map((row) => ({
        id: row.id as string,
        name: row.name as string,
        input: this.#runtime.decode("json", row.input),
        attempt: Number(row.attempts),
        maxAttempts: Number(row.maxAttempts),
        tick: row.tick === null || row.tick === undefined ? null : Number(row.tick),
      }));
      return { claimed, lost };
    });
  }

  async #finishAttempt(db: Kysely<any>, id: string, attempt: number, outcome: AttemptOutcome, error: string | null, now: number) {
    await db
      .updateTable(ATTEMPTS_TABLE)
      .set({ outcome, error, finishedAt: now, updatedAt: this.#time(now) })
      .where("jobId", "=", id)
      .where("attempt", "=", attempt)
      .where("finishedAt", "is", null)
      .execute();
  }

  /** Pushes the lease of a running attempt further; `false` when the attempt no longer holds the job. */
  async renew(worker: string, job: ClaimedJob, leaseMs: number): Promise<boolean> {
    const now = this.#clock.now();
    const rows = await this.#runtime.kysely
      .updateTable(JOBS_TABLE)
      .set({ leaseUntil: now + leaseMs })
      .where((eb) => eb.and(heldBy(worker, job)))
      .returning("id")
      .execute();
    return rows.length === 1;
  }

  /**
   * Records the end of an attempt: the job moves to `state` (with `changes`) only if this attempt
   * still holds it. Returns whether it did.
   */
  async #settle(
    worker: string,
    job: ClaimedJob,
    outcome: AttemptOutcome,
    error: string | null,
    changes: (now: number) => Row,
  ): Promise<boolean> {
    return this.#runtime.transaction(async (trx) => {
      const now = this.#clock.now();
      await this.#finishAttempt(trx, job.id, job.attempt, outcome, error, now);
      const rows = await trx
        .updateTable(JOBS_TABLE)
        .set({ ...changes(now), lockedBy: null, leaseUntil: null, updatedAt: this.#time(now) })
        .where((eb) => eb.and(heldBy(worker, job)))
        .returning("id")
        .execute();
      return rows.length === 1;
    });
  }

  /** The attempt succeeded. */
  succeed(worker: string, job: ClaimedJob): Promise<boolean> {
    return this.#settle(worker, job, "succeeded", null, (now) => ({ state: "succeeded", finishedAt: now }));
  }

  /** The attempt failed: the job is due again at `retryAt`, or failed for good when `null`. */
  fail(worker: string, job: ClaimedJob, message: string, detail: string, retryAt: number | null): Promise<boolean> {
    return this.#settle(worker, job, "failed", detail, (now) =>
      retryAt === null
        ? { state: "failed", lastError: message, finishedAt: now }
        : { state: "queued", lastError: message, runAt: retryAt },
    );
  }

  /** A stopping worker gives the job back, due now; the attempt does not count. */
  release(worker: string, job: ClaimedJob): Promise<boolean> {
    return this.#settle(worker, job, "released", null, (now) => ({
      state: "queued",
      runAt: now,
      maxAttempts: job.maxAttempts + 1,
    }));
  }

  /** Records how an attempt ended when it no longer holds its job (cancelled, or lease lost). */
  async abandon(job: ClaimedJob, outcome: AttemptOutcome, error: string | null): Promise<void> {
    await this.#finishAttempt(this.#runtime.kysely, job.id, job.attempt, outcome, error, this.#clock.now());
  }

  async list(query: ListQuery): Promise<JobRecord[]> {
    let select = this.#runtime.kysely.selectFrom(JOBS_TABLE).selectAll();
    if (query.state !== undefined) {
      const states = typeof query.state === "string" ? [query.state] : [...query.state];
      select = select.where("state", "in", states.length === 0 ? [""] : states);
    }
    if (query.name !== undefined) select = select.where("name", "=", query.name);
    const rows = await select.orderBy("id", "desc").limit(query.limit).offset(query.offset).execute();
    return rows.map((row) => this.#record(row));
  }

  async get(id: string): Promise<JobDetails | null> {
    const row = await this.#runtime.kysely.selectFrom(JOBS_TABLE).selectAll().where("id", "=", id).executeTakeFirst();
    if (row === undefined) return null;
    const attempts = await this.#runtime.kysely
      .selectFrom(ATTEMPTS_TABLE)
      .selectAll()
      .where("jobId", "=", id)
      .orderBy("attempt")
      .execute();
    return { ...this.#record(row), history: attempts.map((attempt) => this.#attempt(attempt)) };
  }

  /** Deletes finished jobs in `states` that finished before `before`, with their attempts. */
  async prune(before: number, states: readonly JobState[]): Promise<number> {
    return this.#runtime.transaction(async (trx) => {
      const doomed = trx
        .selectFrom(JOBS_TABLE)
        .select("id")
        .where("state", "in", [...states])
        .where("finishedAt", "<", before);
      await trx.deleteFrom(ATTEMPTS_TABLE).where("jobId", "in", doomed).execute();
      const deleted = await trx
        .deleteFrom(JOBS_TABLE)
        .where("state", "in", [...states])
        .where("finishedAt", "<", before)
        .returning("id")
        .execute();
      return deleted.length;
    });
  }

  /** Puts a failed or cancelled job back in the queue, due now, with `attempts(name)` more attempts. */
  async retry(id: string, attempts: (name: string) => number): Promise<JobRecord> {
    return this.#change(id, ["failed", "cancelled"], "retried", (row, now) => ({
      state: "queued",
      runAt: now,
      maxAttempts: Number(row.attempts) + attempts(row.name as string),
      finishedAt: null,
    }));
  }

  /** Cancels a job that has not finished; a running attempt is told through its lease. */
  async cancel(id: string): Promise<JobRecord> {
    return this.#change(id, ["queued", "running", "failed"], "cancelled", (_row, now) => ({
      state: "cancelled",
      lockedBy: null,
      leaseUntil: null,
      finishedAt: now,
    }));
  }

  async #change(id: string, from: readonly JobState[], verb: string, changes: (row: Row, now: number) => Row): Promise<JobRecord> {
    return this.#runtime.transaction(async (trx) => {
      let select = trx.selectFrom(JOBS_TABLE).selectAll().where("id", "=", id);
      if (this.#runtime.concurrentWrites) select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (row === undefined) throw new ApiError(404, "NOT_FOUND", `No job with id ${id}.`);
      if (!from.includes(row.state as JobState)) {
        throw new ApiError(409, "JOB_STATE_CONFLICT", `The job ${id} is ${row.state as string}: only a job that is ${from.join(", ")} can be ${verb}.`, {
          state: row.state,
        });
      }
      const now = this.#clock.now();
      const updated = await trx
        .updateTable(JOBS_TABLE)
        .set({ ...changes(row, now), updatedAt: this.#time(now) })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.#record(updated);
    });
  }

  #record(row: Row): JobRecord {
    const decode = this.#runtime.decode;
    const time = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value)));
    return {
      id: row.id as string,
      name: row.name as string,
      input: decode("json", row.input),
      state: row.state as JobState,
      priority: Number(row.priority),
      runAt: new Date(Number(row.runAt)),
      attempts: Number(row.attempts),
      maxAttempts: Number(row.maxAttempts),
      lastError: (row.lastError as string | null) ?? null,
      idempotencyKey: (row.idempotencyKey as string | null) ?? null,
      createdAt: decode("datetime", row.createdAt) as Date,
      updatedAt: decode("datetime", row.updatedAt) as Date,
      finishedAt: time(row.finishedAt),
    };
  }

  #attempt(row: Row): JobAttempt {
    return {
      attempt: Number(row.attempt),
      worker: row.worker as string,
      startedAt: new Date(Number(row.startedAt)),
      finishedAt: row.finishedAt === null ? null : new Date(Number(row.finishedAt)),
      outcome: (row.outcome as AttemptOutcome | null) ?? null,
      error: (row.error as string | null) ?? null,
    };
  }
}
