/**
 * @internal The SQL of jobs: insert, claim with a lease, record outcomes, and the operator's reads
 * and writes.
 *
 * A claim is one `UPDATE` of the rows its subquery picks from the front of the due index, locked
 * (`FOR UPDATE SKIP LOCKED`) where transactions write concurrently; where a write holds the
 * whole database (SQLite) the statement alone is atomic. So no two workers claim the same
 * attempt, and a claim reads about as many rows as it takes, however long the queue. A claim
 * commits without waiting for the disk (`lazyCommit`): lost in a crash of the database server,
 * it leaves its jobs queued, to be claimed again, as a claim whose worker died before its lease
 * ended would; a later write that waits for the disk (the attempt's outcome, the handler's own
 * writes) carries it to the disk first. It saves the job a wait for the disk on its way from
 * enqueue to handler. Successes
 * are one `UPDATE` too (all those that end while the previous one runs): the job row holds its
 * latest attempt (worker, start, end), and a row of `cimiento_job_attempts` is written only for
 * an attempt that ends otherwise (failed, lost, released, cancelled), which the row of a later
 * attempt would hide.
 * @module
 */
import { CompiledQuery, sql, type Kysely, type RawBuilder } from "kysely";
import { newId } from "../support/ids.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import { ApiError } from "../errors/api-error.js";
import type { Clock } from "../define/clock.js";
import type { AttemptOutcome, JobAttempt, JobDetails, JobRecord, JobState } from "./job-record.js";
import { ATTEMPTS_TABLE, DUE_INDEX, FINISHED, FINISHED_INDEX, JOBS_TABLE, LEASE_INDEX, QUEUED, RUNNING, STATE_RUN_AT_INDEX } from "./tables.js";

/** A job a worker has claimed: the attempt it may run. */
export interface ClaimedJob {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The cron tick it was enqueued for (ms), or `null`. */
  readonly tick: number | null;
  /** When this attempt started (ms). */
  readonly startedAt: number;
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
  /** The input's JSON text (`"null"` for none). */
  readonly input: string;
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

/** A statement compiled once, with named parameters filled in at each run. */
class Prepared {
  readonly #query: CompiledQuery;
  readonly #order: readonly string[];

  constructor(kysely: Kysely<any>, build: (param: (name: string) => RawBuilder<unknown>) => RawBuilder<unknown>) {
    // Compiled with markers as values, to learn where each named value goes among the parameters.
    const query = build((name) => sql`${`\u0000${name}`}`).compile(kysely);
    this.#order = query.parameters.map((parameter) => {
      if (typeof parameter !== "string" || !parameter.startsWith("\u0000")) throw new Error("cimiento: unexpected parameters in a jobs statement.");
      return parameter.slice(1);
    });
    this.#query = query;
  }

  with(values: Readonly<Record<string, unknown>>): CompiledQuery {
    return { ...this.#query, parameters: this.#order.map((name) => values[name]) };
  }
}

const INSERT_COLUMNS = ["id", "name", "input", "state", "priority", "runAt", "attempts", "maxAttempts", "idempotencyKey", "tick", "createdAt", "updatedAt"];

/** The row of an attempt that ended. */
interface AttemptRow {
  readonly jobId: string;
  readonly attempt: number;
  readonly worker: string;
  readonly startedAt: number;
  readonly outcome: AttemptOutcome;
  readonly error: string | null;
  readonly finishedAt: number;
}

/** The most successes one statement records. */
const SUCCESS_BATCH = 500;

/** How many finished jobs one statement of prune or retention deletes. */
export const PRUNE_BATCH = 1000;

const CLAIMED = sql.raw(`"id", "name", "input", "attempts", "maxAttempts", "priority", "runAt", "tick"`);
/** How many expired leases one pass of the reaper takes. */
const REAP_BATCH = 100;

/** Where transactions write concurrently, the lock of rows read to be claimed or deleted, skipping those another holds. */
function skipLocked(runtime: DialectRuntime): RawBuilder<unknown> {
  return sql.raw(runtime.concurrentWrites ? " for update skip locked" : "");
}

/** The job row an attempt holds: its id, locked by this worker, at this attempt, running. */
function heldBy(worker: string, job: ClaimedJob) {
  return { id: job.id, lockedBy: worker, attempts: job.attempt, state: "running" } as const;
}

/** The stored jobs of one database. */
export class JobStore {
  readonly #runtime: DialectRuntime;
  readonly #clock: Clock;
  /** The claim by how many it takes: written into the statement, so that PostgreSQL's generic plan knows it is few. */
  readonly #claims = new Map<number, Prepared>();
  readonly #succeed: Prepared;
  readonly #expired: Prepared;

  constructor(runtime: DialectRuntime, clock: Clock) {
    this.#runtime = runtime;
    this.#clock = clock;
    const jobs = sql.table(JOBS_TABLE);
    const lock = skipLocked(runtime);
    this.#succeed = new Prepared(
      runtime.kysely,
      (p) => sql`update ${jobs} set "state" = 'succeeded', "finishedAt" = ${p("now")}, "leaseUntil" = null, "updatedAt" = ${p("updatedAt")}
        where ${runtime.inList(sql.ref("id"), p("ids"), "text")} and "lockedBy" = ${p("worker")} and ${sql.raw(RUNNING)}
          and ${runtime.inList(sql`("id" || ':' || "attempts")`, p("keys"), "text")}
        returning "id"`,
    );
    this.#expired = new Prepared(
      runtime.kysely,
      (p) => sql`select "id", "name", "attempts", "maxAttempts", "lockedBy", "startedAt" from ${jobs}${sql.raw(runtime.indexedBy(LEASE_INDEX))}
        where ${sql.raw(RUNNING)} and "leaseUntil" < ${p("now")} order by "leaseUntil" limit ${p("limit")}`,
    );
  }

  // ISO text, which both databases take for a datetime column: pg would write each Date
  // parameter out in local time itself, twice per job.
  #time(ms: number): string {
    return new Date(ms).toISOString();
  }

  // The INSERT of enqueue, compiled once: enqueue is on the request path of actions and hooks.
  #insertQuery: { query: CompiledQuery; order: number[] } | undefined;

  #compiledInsert(): { query: CompiledQuery; order: number[] } {
    if (this.#insertQuery !== undefined) return this.#insertQuery;
    // Compiled with markers as values, to learn where each value goes among the parameters.
    const markers = INSERT_COLUMNS.map((column) => `\u0000${column}`);
    const query = this.#runtime.kysely
      .insertInto(JOBS_TABLE)
      .values(Object.fromEntries(INSERT_COLUMNS.map((column, i) => [column, markers[i]])))
      .onConflict((conflict) => conflict.columns(["name", "idempotencyKey"]).doNothing())
      .returning("id")
      .compile();
    const order = query.parameters.map((parameter) => markers.indexOf(parameter as string));
    if (order.some((index) => index < 0)) throw new Error("cimiento: unexpected parameters in the jobs INSERT.");
    this.#insertQuery = { query, order };
    return this.#insertQuery;
  }

  /** The values of a new job's row, in the order of `INSERT_COLUMNS`. */
  #values(job: NewJob, now: unknown): unknown[] {
    return [
      newId(),
      job.name,
      job.input,
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
  }

  /** How many jobs one INSERT can hold. */
  get rowsPerInsert(): number {
    return Math.floor(this.#runtime.maxParameters / INSERT_COLUMNS.length);
  }

  /** Inserts a job with `db` (a transaction's, for the outbox); an idempotency key used before returns that job. */
  async insert(db: Kysely<any>, job: NewJob): Promise<{ id: string; created: boolean }> {
    const values = this.#values(job, this.#time(this.#clock.now()));
    const id = values[0] as string;
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
   * Inserts jobs without idempotency keys with `db`: one multi-row `INSERT` for as many rows as
   * the database binds parameters for (2,730 on SQLite, 5,461 on PostgreSQL), more beyond.
   * Returns their ids in order.
   */
  async insertMany(db: Kysely<any>, jobs: readonly NewJob[]): Promise<string[]> {
    const now = this.#time(this.#clock.now());
    const rows = jobs.map((job) => this.#values(job, now));
    const perStatement = this.rowsPerInsert;
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const { query, order } = this.#compiledInsertMany(chunk.length);
      await db.executeQuery({ ...query, parameters: order.map(([row, column]) => chunk[row]![column]) });
    }
    return rows.map((values) => values[0] as string);
  }

  // The INSERT of `count` jobs, compiled once per count (for the few counts a program uses).
  readonly #insertMany = new Map<number, { query: CompiledQuery; order: [number, number][] }>();

  #compiledInsertMany(count: number): { query: CompiledQuery; order: [number, number][] } {
    const known = this.#insertMany.get(count);
    if (known !== undefined) return known;
    const markers = new Map<string, [number, number]>();
    const rows = Array.from({ length: count }, (_, row) =>
      Object.fromEntries(
        INSERT_COLUMNS.map((name, column) => {
          const marker = `\u0000${row}:${column}`;
          markers.set(marker, [row, column]);
          return [name, marker];
        }),
      ),
    );
    const query = this.#runtime.kysely.insertInto(JOBS_TABLE).values(rows).compile();
    const order = query.parameters.map((parameter) => {
      const place = markers.get(parameter as string);
      if (place === undefined) throw new Error("cimiento: unexpected parameters in the jobs INSERT.");
      return place;
    });
    const compiled = { query, order };
    if (this.#insertMany.size < 64) this.#insertMany.set(count, compiled);
    return compiled;
  }

  /**
   * Claims up to `limit` due jobs among `capacity`'s names (at most that many of each) for
   * `worker`, with a lease of `leaseMs`: one statement when no name has fewer free places than
   * `limit`, else a transaction that reads, then takes what fits.
   */
  async claim(worker: string, limit: number, capacity: ReadonlyMap<string, number>, leaseMs: number): Promise<ClaimedJob[]> {
    const names: string[] = [];
    let limited = false;
    for (const [name, free] of capacity) {
      if (free <= 0) continue;
      names.push(name);
      if (free < limit) limited = true;
    }
    if (limit <= 0 || names.length === 0) return [];
    const now = this.#clock.now();
    if (limited) return this.#claimLimited(worker, limit, capacity, names, leaseMs, now);
    const { rows } = await this.#runtime.kysely.executeQuery<Row>(this.claimStatement(worker, limit, names, leaseMs, now));
    return this.#claimed(rows, now);
  }

  #claim(limit: number): Prepared {
    let prepared = this.#claims.get(limit);
    if (prepared !== undefined) return prepared;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`cimiento: cannot claim ${limit} jobs.`);
    const runtime = this.#runtime;
    const jobs = sql.table(JOBS_TABLE);
    const lock = skipLocked(runtime);
    prepared = new Prepared(
      runtime.kysely,
      (p) => sql`update ${jobs} set "state" = 'running', "attempts" = "attempts" + 1, "lockedBy" = ${p("worker")},
        "leaseUntil" = ${p("leaseUntil")}, "startedAt" = ${p("now")}, "updatedAt" = ${p("updatedAt")}
        where "id" in (select "id" from ${jobs}${sql.raw(runtime.indexedBy(DUE_INDEX))} where ${sql.raw(QUEUED)} and "runAt" <= ${p("now")}
          and ${runtime.inList(sql.ref("name"), p("names"), "text")}
          order by "priority" desc, "runAt", "id" limit ${sql.raw(String(limit))}${lock})${sql.raw(runtime.lazyCommit)}
        returning ${CLAIMED}`,
    );
    this.#claims.set(limit, prepared);
    return prepared;
  }

  /** The statement of a claim (for the tests that read its plan). */
  claimStatement(worker: string, limit: number, names: readonly string[], leaseMs: number, now: number): CompiledQuery {
    return this.#claim(limit).with({
      worker,
      leaseUntil: now + leaseMs,
      now,
      updatedAt: this.#time(now),
      names: this.#runtime.encodeList("text", names),
    });
  }

  /** The statement that looks for expired leases (for the tests that read its plan). */
  expiredStatement(now: number, limit: number): CompiledQuery {
    return this.#expired.with({ now, limit });
  }

  /**
   * The due jobs of `names` in claim order, locked where transactions write concurrently: what a
   * claim limited per name reads before it takes what fits (for the tests that read its plan).
   */
  dueStatement(names: readonly string[], limit: number, now: number): CompiledQuery {
    const runtime = this.#runtime;
    return sql`select "id", "name" from ${sql.table(JOBS_TABLE)}${sql.raw(runtime.indexedBy(DUE_INDEX))}
      where ${sql.raw(QUEUED)} and "runAt" <= ${now} and "name" in (${sql.join(names)})
      order by "priority" desc, "runAt", "id" limit ${limit}${skipLocked(runtime)}`.compile(runtime.kysely);
  }

  /** The statement of `nextDue` (for the tests that read its plan). */
  nextDueStatement(names: readonly string[], now: number): CompiledQuery {
    const runtime = this.#runtime;
    return sql`select "runAt" from ${sql.table(JOBS_TABLE)}${sql.raw(runtime.indexedBy(STATE_RUN_AT_INDEX))}
      where ${sql.raw(QUEUED)} and "runAt" > ${now} and "name" in (${sql.join(names)})
      order by "runAt" limit 1`.compile(runtime.kysely);
  }

  /**
   * When the first queued job of `names` that is not due at `now` becomes due (ms), or `null`:
   * how long an idle worker may sleep before it has a job to claim.
   */
  async nextDue(names: readonly string[], now: number): Promise<number | null> {
    if (names.length === 0) return null;
    const { rows } = await this.#runtime.kysely.executeQuery<{ runAt: number | string }>(this.nextDueStatement(names, now));
    return rows.length === 0 ? null : Number(rows[0]!.runAt);
  }

  async #claimLimited(
    worker: string,
    limit: number,
    capacity: ReadonlyMap<string, number>,
    names: readonly string[],
    leaseMs: number,
    now: number,
  ): Promise<ClaimedJob[]> {
    return this.#runtime.transaction(async (trx) => {
      const { rows: due } = await trx.executeQuery<{ id: string; name: string }>(this.dueStatement(names, limit, now));
      const free = new Map(capacity);
      const take: string[] = [];
      for (const row of due) {
        const left = free.get(row.name as string) ?? 0;
        if (left <= 0) continue;
        free.set(row.name as string, left - 1);
        take.push(row.id as string);
      }
      if (take.length === 0) return [];
      const rows = await trx
        .updateTable(JOBS_TABLE)
        .set((eb) => ({
          state: "running",
          attempts: eb("attempts", "+", 1),
          lockedBy: worker,
          leaseUntil: now + leaseMs,
          startedAt: now,
          updatedAt: this.#time(now),
        }))
        .where("id", "in", take)
        .where(sql<boolean>`true${sql.raw(this.#runtime.lazyCommit)}`)
        .returning(["id", "name", "input", "attempts", "maxAttempts", "priority", "runAt", "tick"])
        .execute();
      return this.#claimed(rows, now);
    });
  }

  #claimed(rows: readonly Row[], now: number): ClaimedJob[] {
    // Claim order (priority, then due time) is the order attempts start in.
    const sorted = [...rows].sort(
      (a, b) => Number(b.priority) - Number(a.priority) || Number(a.runAt) - Number(b.runAt) || String(a.id).localeCompare(String(b.id)),
    );
    return sorted.map((row) => ({
      id: row.id as string,
      name: row.name as string,
      input: this.#runtime.decode("json", row.input),
      attempt: Number(row.attempts),
      maxAttempts: Number(row.maxAttempts),
      tick: row.tick === null || row.tick === undefined ? null : Number(row.tick),
      startedAt: now,
    }));
  }

  /**
   * Finds running jobs whose lease expired (their worker died or hung), records each lost
   * attempt, and queues the job again, or fails it when that was its last attempt. An indexed
   * probe first, so that a pass that finds nothing costs one cheap read.
   */
  async reap(): Promise<LostAttempt[]> {
    const now = this.#clock.now();
    const probe = await this.#runtime.kysely.executeQuery<Row>(this.expiredStatement(now, 1));
    if (probe.rows.length === 0) return [];
    return this.#runtime.transaction(async (trx) => {
      let select = trx
        .selectFrom(JOBS_TABLE)
        .select(["id", "name", "attempts", "maxAttempts", "lockedBy", "startedAt"])
        .where(sql<boolean>`${sql.raw(RUNNING)}`)
        .where("leaseUntil", "<", now)
        .orderBy("leaseUntil")
        .limit(REAP_BATCH);
      if (this.#runtime.concurrentWrites) select = select.forUpdate().skipLocked();
      const lost: LostAttempt[] = [];
      for (const row of await select.execute()) {
        const attempts = Number(row.attempts);
        const final = attempts >= Number(row.maxAttempts);
        await this.#recordAttempt(trx, {
          jobId: row.id as string,
          attempt: attempts,
          worker: (row.lockedBy as string | null) ?? "",
          startedAt: row.startedAt === null ? now : Number(row.startedAt),
          outcome: "lost",
          error: LEASE_EXPIRED,
          finishedAt: now,
        });
        await trx
          .updateTable(JOBS_TABLE)
          .set(
            final
              ? { state: "failed", leaseUntil: null, lastError: LEASE_EXPIRED, finishedAt: now, updatedAt: this.#time(now) }
              : { state: "queued", leaseUntil: null, lastError: LEASE_EXPIRED, updatedAt: this.#time(now) },
          )
          .where("id", "=", row.id)
          .execute();
        lost.push({ id: row.id as string, name: row.name as string, attempt: attempts, final });
      }
      return lost;
    });
  }

  /**
   * Writes the row of an attempt that ended, unless one that ended is there (the reaper's `lost`
   * comes first); a row left open by a version that wrote it at the claim is completed.
   */
  async #recordAttempt(db: Kysely<any>, attempt: AttemptRow): Promise<void> {
    const now = this.#time(this.#clock.now());
    await db
      .insertInto(ATTEMPTS_TABLE)
      .values({ id: newId(), ...attempt, createdAt: now, updatedAt: now })
      .onConflict((conflict) =>
        conflict
          .columns(["jobId", "attempt"])
          .doUpdateSet((eb) => ({
            outcome: eb.ref("excluded.outcome"),
            error: eb.ref("excluded.error"),
            finishedAt: eb.ref("excluded.finishedAt"),
            updatedAt: eb.ref("excluded.updatedAt"),
          }))
          .where(`${ATTEMPTS_TABLE}.finishedAt`, "is", null),
      )
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
   * The attempt succeeded; resolves to whether it still held its job. The job row keeps the
   * attempt. Successes are written together: one statement for those that end while the
   * previous one runs.
   */
  succeed(worker: string, job: ClaimedJob): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#successes.push({ worker, job, resolve, reject });
      if (this.#writingSuccesses) return;
      this.#writingSuccesses = true;
      setImmediate(() => void this.#writeSuccesses());
    });
  }

  readonly #successes: { worker: string; job: ClaimedJob; resolve: (held: boolean) => void; reject: (error: unknown) => void }[] = [];
  #writingSuccesses = false;

  async #writeSuccesses(): Promise<void> {
    try {
      while (this.#successes.length > 0) {
        const batch = this.#successes.splice(0, SUCCESS_BATCH);
        const byWorker = new Map<string, typeof batch>();
        for (const success of batch) byWorker.set(success.worker, [...(byWorker.get(success.worker) ?? []), success]);
        for (const [worker, successes] of byWorker) {
          try {
            const now = this.#clock.now();
            const { rows } = await this.#runtime.kysely.executeQuery<Row>(
              this.#succeed.with({
                now,
                updatedAt: this.#time(now),
                worker,
                ids: this.#runtime.encodeList("text", successes.map((success) => success.job.id)),
                keys: this.#runtime.encodeList("text", successes.map((success) => `${success.job.id}:${success.job.attempt}`)),
              }),
            );
            const held = new Set(rows.map((row) => row.id as string));
            for (const success of successes) success.resolve(held.has(success.job.id));
          } catch (error) {
            for (const success of successes) success.reject(error);
          }
        }
      }
    } finally {
      this.#writingSuccesses = false;
    }
  }

  /**
   * Records the end of an attempt that did not succeed: its row, and the job moved to `state`
   * (with `changes`) only if this attempt still holds it. Returns whether it did.
   */
  async #settle(worker: string, job: ClaimedJob, outcome: AttemptOutcome, error: string | null, changes: (now: number) => Row): Promise<boolean> {
    return this.#runtime.transaction(async (trx) => {
      const now = this.#clock.now();
      const rows = await trx
        .updateTable(JOBS_TABLE)
        .set({ ...changes(now), leaseUntil: null, updatedAt: this.#time(now) })
        .where((eb) => eb.and(heldBy(worker, job)))
        .returning("id")
        .execute();
      if (rows.length === 1) {
        await this.#recordAttempt(trx, { jobId: job.id, attempt: job.attempt, worker, startedAt: job.startedAt, outcome, error, finishedAt: now });
      }
      return rows.length === 1;
    });
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
  async abandon(worker: string, job: ClaimedJob, outcome: AttemptOutcome, error: string | null): Promise<void> {
    await this.#recordAttempt(this.#runtime.kysely, {
      jobId: job.id,
      attempt: job.attempt,
      worker,
      startedAt: job.startedAt,
      outcome,
      error,
      finishedAt: this.#clock.now(),
    });
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
    const history = attempts.map((attempt) => this.#attempt(attempt));
    // The latest attempt lives in the job row while it runs and once it succeeded.
    const latest = Number(row.attempts);
    if (row.startedAt !== null && row.startedAt !== undefined && latest > 0) {
      const succeeded = row.state === "succeeded";
      const held: JobAttempt = {
        attempt: latest,
        worker: (row.lockedBy as string | null) ?? "",
        startedAt: new Date(Number(row.startedAt)),
        finishedAt: succeeded ? new Date(Number(row.finishedAt)) : null,
        outcome: succeeded ? "succeeded" : null,
        error: null,
      };
      const index = history.findIndex((attempt) => attempt.attempt === latest);
      if (index < 0) history.push(held);
      // A row left open by a version that wrote it at the claim.
      else if (history[index]!.outcome === null && succeeded) history[index] = { ...history[index]!, finishedAt: held.finishedAt, outcome: "succeeded" };
    }
    return { ...this.#record(row), history };
  }

  /** Up to `batch` jobs in `states` that finished before `before`, oldest first: what a sweep deletes (for the tests that read its plan). */
  finishedStatement(before: number, states: readonly JobState[], batch: number): CompiledQuery {
    const runtime = this.#runtime;
    return sql`select "id" from ${sql.table(JOBS_TABLE)}${sql.raw(runtime.indexedBy(FINISHED_INDEX))}
      where ${sql.raw(FINISHED)} and "finishedAt" < ${before} and "state" in (${sql.join(states)})
      order by "finishedAt" limit ${batch}${skipLocked(runtime)}`.compile(runtime.kysely);
  }

  /**
   * Deletes up to `batch` jobs in `states` that finished before `before`, with their attempts
   * (oldest first, found through the index of finished jobs). Returns how many.
   */
  async sweep(before: number, states: readonly JobState[], batch: number): Promise<number> {
    if (states.length === 0) return 0;
    return this.#runtime.transaction(async (trx) => {
      const { rows } = await trx.executeQuery<{ id: string }>(this.finishedStatement(before, states, batch));
      const ids = rows.map((row) => row.id);
      if (ids.length === 0) return 0;
      await trx.deleteFrom(ATTEMPTS_TABLE).where("jobId", "in", ids).execute();
      await trx.deleteFrom(JOBS_TABLE).where("id", "in", ids).execute();
      return ids.length;
    });
  }

  /** Deletes finished jobs in `states` that finished before `before`, with their attempts, in batches. */
  async prune(before: number, states: readonly JobState[]): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.sweep(before, states, PRUNE_BATCH);
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
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
