/**
 * @internal The jobs of one backend: definitions, enqueue (in the caller's transaction), the
 * worker, the schedules, draining for tests, and the operator's API.
 * @module
 */
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { DialectRuntime } from "../dialects/dialect.js";
import { afterCommit, type DataContext } from "../data/context.js";
import type { Logger } from "../define/logger.js";
import { SchemaError } from "../errors/schema-error.js";
import { issuesOf, validationError } from "../errors/validation.js";
import type { Clock } from "../define/clock.js";
import type { EnqueuedJob, EnqueueManyOptions, EnqueueOptions } from "../define/enqueue.js";
import type { JobEvent, JobEventListener } from "./events.js";
import type { Job, JobDefinition } from "../define/job.js";
import type { DrainResult, JobsApi, ListJobsOptions } from "./jobs-api.js";
import { startAttempt, type JobsSystemScope } from "./run-attempt.js";

export type { JobsSystemScope } from "./run-attempt.js";
import type { Schedule } from "../define/schedule.js";
import { Scheduler, type ResolvedSchedule } from "./scheduler.js";
import { JobStore, LEASE_EXPIRED, type LostAttempt } from "./store.js";
import { Worker, workerName, type WorkerHost } from "./worker.js";
import { JOBS_TOPIC, type Notifier } from "../dialects/notifier.js";
import { JSON_FIELD_DEPTH, jsonValueProblem, NUL, NUL_REFUSED_ISSUE } from "../model/text.js";

/** What the jobs service is made from. */
export interface JobsServiceOptions {
  readonly runtime: DialectRuntime;
  readonly jobs: Readonly<Record<string, unknown>>;
  readonly schedules: readonly unknown[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** The backend's notifier. */
  readonly notifier: Notifier;
  /** The system scope handlers are given (made after the jobs, which the scope enqueues with). */
  readonly system: () => JobsSystemScope;
}

/** How many attempts a job gets: its first, and its retries (3 by default). */
const attemptsOf = (definition: JobDefinition<z.ZodType> | undefined): number => (definition?.retries ?? 3) + 1;

const DRAIN_LEASE = 300_000;
const DRAIN_LIMIT = 10_000;
/** The most jobs one `enqueueMany` takes. */
const MAX_ENQUEUE_MANY = 10_000;
const NO_JOBS = "This backend has no jobs: register them in createBackend({ jobs }).";

function checkDefinitions(jobs: Readonly<Record<string, unknown>>): Map<string, JobDefinition<z.ZodType>> {
  const definitions = new Map<string, JobDefinition<z.ZodType>>();
  for (const [name, value] of Object.entries(jobs)) {
    if (typeof value !== "object" || value === null || !("definition" in value)) {
      throw new SchemaError(`The job "${name}" is not a job: define it with job({ input, handler }).`);
    }
    const definition = (value as Job<unknown>).definition;
    const { retries, timeout, concurrency } = definition;
    if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
      throw new SchemaError(`The job "${name}" has retries ${String(retries)}: use a whole number, 0 or more.`);
    }
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new SchemaError(`The job "${name}" has timeout ${String(timeout)}: use a positive number of ms.`);
    }
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new SchemaError(`The job "${name}" has concurrency ${String(concurrency)}: use a whole number, 1 or more.`);
    }
    definitions.set(name, definition);
  }
  return definitions;
}

function resolveSchedules(
  schedules: readonly unknown[],
  jobs: Readonly<Record<string, unknown>>,
  definitions: ReadonlyMap<string, JobDefinition<z.ZodType>>,
): ResolvedSchedule[] {
  const names = new Set<string>();
  return schedules.map((value) => {
    const candidate = value as Partial<Schedule> | null;
    if (typeof candidate !== "object" || candidate === null || candidate.pattern === undefined || typeof candidate.name !== "string") {
      throw new SchemaError("createBackend({ schedules }) takes schedules made by schedule(name, cron, job, input).");
    }
    const schedule = candidate as Schedule;
    if (names.has(schedule.name)) throw new SchemaError(`Two schedules are named "${schedule.name}".`);
    names.add(schedule.name);
    const jobName =
      typeof schedule.job === "string" ? schedule.job : Object.entries(jobs).find(([, known]) => known === schedule.job)?.[0];
    const definition = jobName === undefined ? undefined : definitions.get(jobName);
    if (jobName === undefined || definition === undefined) {
      throw new SchemaError(
        `The schedule "${schedule.name}" enqueues ${typeof schedule.job === "string" ? `"${schedule.job}"` : "a job"} that is not registered in createBackend({ jobs }).`,
      );
    }
    const parsed = definition.input.safeParse(schedule.input);
    if (!parsed.success) {
      throw new SchemaError(`The input of schedule "${schedule.name}" is not valid for job "${jobName}": ${parsed.error.message}`);
    }
    return { name: schedule.name, jobName, input: schedule.input, pattern: schedule.pattern };
  });
}

function checkEnqueueOptions(name: string, options: EnqueueOptions, now: number): { runAt: number; priority: number } {
  const { runAt, delay, priority = 0, idempotencyKey } = options;
  const where = `enqueue("${name}")`;
  if (runAt !== undefined && delay !== undefined) throw new TypeError(`${where}: give runAt or delay, not both.`);
  if (runAt !== undefined && !(runAt instanceof Date && Number.isFinite(runAt.getTime()))) {
    throw new TypeError(`${where}: runAt must be a valid Date.`);
  }
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
    throw new TypeError(`${where}: delay must be a number of ms, 0 or more, got ${String(delay)}.`);
  }
  if (!Number.isSafeInteger(priority)) throw new TypeError(`${where}: priority must be an integer, got ${String(priority)}.`);
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || idempotencyKey.length === 0 || idempotencyKey.length > 500)) {
    throw new TypeError(`${where}: idempotencyKey must be a string of 1 to 500 characters.`);
  }
  return { runAt: runAt?.getTime() ?? now + (delay ?? 0), priority };
}

/** The jobs of one backend. */
export class JobsService implements WorkerHost {
  readonly definitions: ReadonlyMap<string, JobDefinition<z.ZodType>>;
  readonly store: JobStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly db: Kysely<any>;
  /** Wakes workers here and in other processes when jobs are enqueued (the backend's one notifier). */
  readonly notifier: Notifier;
  readonly #listeners = new Set<JobEventListener>();
  #worker: Worker | undefined;
  readonly #system: () => JobsSystemScope;

  constructor(options: JobsServiceOptions) {
    this.definitions = checkDefinitions(options.jobs);
    const schedules = resolveSchedules(options.schedules, options.jobs, this.definitions);
    this.store = new JobStore(options.runtime, options.clock);
    this.clock = options.clock;
    this.logger = options.logger;
    this.#system = options.system;
    this.db = options.runtime.kysely;
    this.notifier = options.notifier;
    this.scheduler = new Scheduler(
      schedules,
      options.clock.now(),
      (schedule, tick) =>
        this.store.insert(this.db, {
          name: schedule.jobName,
          input: JSON.stringify(schedule.input ?? null),
          runAt: tick,
          priority: 0,
          maxAttempts: attemptsOf(this.definitions.get(schedule.jobName)),
          idempotencyKey: `schedule:${schedule.name}:${new Date(tick).toISOString()}`,
          tick,
        }),
      (event) => this.emit(event),
      options.logger,
    );
  }

  /** Whether the backend has jobs (and so their tables). */
  get enabled(): boolean {
    return this.definitions.size > 0;
  }

  /** The system scope handlers are given. */
  get system(): JobsSystemScope {
    return this.#system();
  }

  emit(event: JobEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error("A job event listener failed.", { error, event: event.type });
      }
    }
  }

  reportLost(lost: readonly LostAttempt[]): void {
    for (const attempt of lost) {
      this.emit({ type: "lost", id: attempt.id, name: attempt.name, attempt: attempt.attempt });
      if (!attempt.final) continue;
      this.emit({ type: "failed", id: attempt.id, name: attempt.name, attempt: attempt.attempt, error: new Error(LEASE_EXPIRED), retryAt: null });
      this.logger.error(`Job ${attempt.name} ${attempt.id} failed for good: its last attempt lost its lease.`, { attempt: attempt.attempt });
    }
  }

  #definition(name: string): JobDefinition<z.ZodType> {
    if (!this.enabled) throw new TypeError(NO_JOBS);
    const definition = this.definitions.get(name);
    if (definition === undefined) {
      throw new TypeError(`No job is named "${name}": the jobs are ${[...this.definitions.keys()].map((known) => `"${known}"`).join(", ")}.`);
    }
    return definition;
  }

  /** The input's JSON text, as it is stored, checked as it will be read back; issues are under `path`. */
  async #storable(name: string, definition: JobDefinition<z.ZodType>, input: unknown, path: readonly (string | number)[]): Promise<string> {
    let text: string;
    let stored: unknown;
    try {
      text = input === undefined ? "null" : JSON.stringify(input);
      stored = JSON.parse(text);
    } catch (error) {
      throw new TypeError(`enqueue("${name}"): the input must be JSON-serializable (${(error as Error).message}).`);
    }
    const problem = jsonValueProblem(stored, JSON_FIELD_DEPTH);
    if (problem !== undefined) throw validationError(`Invalid input of job ${name}`, [{ path: [...path], code: "custom", message: problem }]);
    // Validated as it will be read back (absent input is stored as null, read back as absent).
    const parsed = await definition.input.safeParseAsync(input === undefined ? undefined : stored);
    if (!parsed.success) {
      const original = await definition.input.safeParseAsync(input);
      const heading = original.success
        ? `Invalid input of job ${name} (it is stored as JSON: dates as ISO strings, no undefined, Map or class instances)`
        : `Invalid input of job ${name}`;
      throw validationError(heading, issuesOf(parsed.error, [...path]));
    }
    return text;
  }

  /** After the commit of `ctx`: the events, and the wake-up of workers. */
  #announce(ctx: DataContext, name: string, ids: readonly string[], runAt: number): void {
    afterCommit(ctx, () => {
      for (const id of ids) this.emit({ type: "enqueued", id, name, runAt: new Date(runAt) });
      this.notifier.publish(JOBS_TOPIC);
    });
  }

  /** Enqueues with the connection or transaction of `ctx`: in a transaction, the job exists only if it commits. */
  async enqueue(ctx: DataContext, name: string, input: unknown, options: EnqueueOptions = {}): Promise<EnqueuedJob> {
    const definition = this.#definition(name);
    const { runAt, priority } = checkEnqueueOptions(name, options ?? {}, this.clock.now());
    if (options.idempotencyKey?.includes(NUL)) {
      throw validationError(`Invalid options of job ${name}`, [{ path: ["idempotencyKey"], code: "invalid_format", message: NUL_REFUSED_ISSUE }]);
    }
    const stored = await this.#storable(name, definition, input, []);
    const result = await this.store.insert(ctx.db, {
      name,
      input: stored,
      runAt,
      priority,
      maxAttempts: attemptsOf(definition),
      idempotencyKey: options.idempotencyKey,
      tick: null,
    });
    if (result.created) this.#announce(ctx, name, [result.id], runAt);
    return result;
  }

  /** Enqueues one job of `name` per input, in one statement (per 2,730 or 5,461 jobs), with `ctx`. */
  async enqueueMany(ctx: DataContext, name: string, inputs: readonly unknown[], options: EnqueueManyOptions = {}): Promise<EnqueuedJob[]> {
    const definition = this.#definition(name);
    if (!Array.isArray(inputs)) throw new TypeError(`enqueueMany("${name}"): inputs must be an array.`);
    if (inputs.length > MAX_ENQUEUE_MANY) {
      throw new TypeError(`enqueueMany("${name}"): at most ${MAX_ENQUEUE_MANY} jobs per call, got ${inputs.length}.`);
    }
    if ((options as EnqueueOptions | undefined)?.idempotencyKey !== undefined) {
      throw new TypeError(`enqueueMany("${name}"): idempotency keys are given one job at a time, with enqueue().`);
    }
    const { runAt, priority } = checkEnqueueOptions(name, options ?? {}, this.clock.now());
    if (inputs.length === 0) return [];
    const stored: string[] = [];
    for (const [index, input] of inputs.entries()) stored.push(await this.#storable(name, definition, input, [index]));
    const maxAttempts = attemptsOf(definition);
    const jobs = stored.map((input) => ({ name, input, runAt, priority, maxAttempts, idempotencyKey: undefined, tick: null }));
    // Several statements only past what one binds: then in a transaction of their own, if not in the caller's.
    const ids =
      jobs.length <= this.store.rowsPerInsert ? await this.store.insertMany(ctx.db, jobs) : await ctx.atomic((tx) => this.store.insertMany(tx.db, jobs));
    this.#announce(ctx, name, ids, runAt);
    return ids.map((id) => ({ id, created: true }));
  }

  /** Runs every due job now, one at a time, until none is due (for tests). */
  async drain(): Promise<DrainResult> {
    if (!this.enabled) throw new TypeError(NO_JOBS);
    const worker = `drain:${workerName()}`;
    const capacity = new Map([...this.definitions.keys()].map((name) => [name, 1]));
    let attempts = 0;
    let succeeded = 0;
    let failed = 0;
    for (;;) {
      await this.scheduler.tick(this.clock.now());
      const lost = await this.store.reap();
      this.reportLost(lost);
      const claimed = await this.store.claim(worker, 1, capacity, DRAIN_LEASE);
      const job = claimed[0];
      if (job === undefined) {
        if (lost.length > 0) continue;
        return { attempts, succeeded, failed };
      }
      if (++attempts > DRAIN_LIMIT) {
        throw new Error(`drainJobs() ran ${DRAIN_LIMIT} attempts and jobs are still due: a job keeps enqueueing due jobs.`);
      }
      const off = this.on((event) => {
        if (event.id !== job.id || !("attempt" in event) || event.attempt !== job.attempt) return;
        if (event.type === "succeeded") succeeded++;
        if (event.type === "failed") failed++;
      });
      try {
        await startAttempt(this, worker, job, DRAIN_LEASE).done;
      } finally {
        off();
      }
    }
  }

  on(listener: JobEventListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #started(): boolean {
    return this.#worker !== undefined;
  }

  #enabled(): void {
    if (!this.enabled) throw new TypeError(NO_JOBS);
  }

  /** Stops the worker (`backend.close()`). */
  async close(): Promise<void> {
    await this.#worker?.stop({});
    this.#worker = undefined;
  }

  /** `backend.jobs`. */
  api(): JobsApi {
    const service = this;
    return {
      start: (options = {}) => {
        this.#enabled();
        if (this.#worker !== undefined) throw new Error("backend.jobs.start(): a worker already runs in this backend; stop() it first.");
        const worker = new Worker(this, options);
        this.#worker = worker;
        worker.start();
      },
      stop: async (options = {}) => {
        const worker = this.#worker;
        if (worker === undefined) return;
        await worker.stop(options);
        if (this.#worker === worker) this.#worker = undefined;
      },
      get started() {
        return service.#started();
      },
      list: async (options: ListJobsOptions = {}) => {
        this.#enabled();
        const limit = options.limit ?? 50;
        const offset = options.offset ?? 0;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError(`backend.jobs.list(): limit must be 1 to 1000, got ${String(limit)}.`);
        if (!Number.isInteger(offset) || offset < 0) throw new TypeError(`backend.jobs.list(): offset must be 0 or more, got ${String(offset)}.`);
        return this.store.list({ ...options, limit, offset });
      },
      get: async (id) => {
        this.#enabled();
        return this.store.get(id);
      },
      retry: async (id) => {
        this.#enabled();
        const record = await this.store.retry(id, (name) => attemptsOf(this.definitions.get(name)));
        this.notifier.publish(JOBS_TOPIC);
        return record;
      },
      cancel: async (id) => {
        this.#enabled();
        return this.store.cancel(id);
      },
      prune: async (options) => {
        this.#enabled();
        const before = options?.before;
        if (!(before instanceof Date) || !Number.isFinite(before.getTime())) {
          throw new TypeError("backend.jobs.prune({ before }): before must be a valid Date.");
        }
        const states = options.states ?? ["succeeded", "cancelled"];
        for (const state of states) {
          if (state !== "succeeded" && state !== "failed" && state !== "cancelled") {
            throw new TypeError(`backend.jobs.prune(): only finished jobs can be deleted (succeeded, failed, cancelled), not "${String(state)}".`);
          }
        }
        return this.store.prune(before.getTime(), states);
      },
      on: (listener) => this.on(listener),
    };
  }
}
