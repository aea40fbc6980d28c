/**
 * `job()`: work done out of the caller's sight, durably, with retries.
 * @module
 */
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { RegisteredJobs } from "./handles.js";
import type { RegisteredSchema } from "./types.js";
import type { Scope } from "./scope.js";
import type { Logger } from "./logger.js";
import type { DB, DialectName } from "./types.js";
import type { Enqueue } from "./enqueue.js";

/**
 * How long a failed attempt waits before the next one: a function of the attempt that failed
 * (1 for the first), in milliseconds, or exponential settings.
 * @example
 * ```ts
 * job({ input, handler, backoff: { initial: 5_000, max: 600_000 } });   // 2.5-5 s, 5-10 s, ...
 * job({ input, handler, backoff: (attempt) => attempt * 60_000 });      // 1 min, 2 min, ...
 * ```
 */
export type Backoff =
  | ((attempt: number) => number)
  | {
      /**
       * The delay after the first failure, in ms; it doubles after each further failure.
       * @default 1000
       */
      readonly initial?: number;
      /**
       * The longest delay, in ms.
       * @default 3_600_000
       */
      readonly max?: number;
      /**
       * Whether each delay is drawn at random from its upper half (`[d/2, d)`), so that jobs failing
       * together do not retry together. Delays still grow from one attempt to the next.
       * @default true
       */
      readonly jitter?: boolean;
    };

/**
 * What a job's handler is given.
 * @example
 * ```ts
 * job({
 *   input: z.object({ url: z.string().url() }),
 *   async handler({ input, signal, attempt, now, system, logger }) {
 *     const response = await fetch(input.url, { signal });
 *     if (!response.ok) throw new Error(`HTTP ${response.status} (attempt ${attempt})`);
 *     await system.data.pings.create({ url: input.url, at: now });
 *   },
 * });
 *
 * // A scheduled job reads the tick it runs for: the same on a retry, or on a late run.
 * job({
 *   input: z.object({}),
 *   async handler({ tick, now, system }) {
 *     const overdue = await system.data.tasks.list({ where: { dueAt: { lt: tick ?? now } } });
 *   },
 * });
 * ```
 */
export interface JobContext<Input> {
  /** The validated input. */
  readonly input: Input;
  /** The job's id. */
  readonly id: string;
  /** The job's name, as registered. */
  readonly name: string;
  /** Which attempt this is: 1 for the first. */
  readonly attempt: number;
  /** How many attempts the job may have in all. */
  readonly maxAttempts: number;
  /**
   * When this attempt started, on the backend's clock (`createBackend({ clock })`): the real time,
   * or a test clock's. Read it instead of `new Date()` so that tests decide what "now" is.
   */
  readonly now: Date;
  /**
   * The cron tick this job was enqueued for, when a schedule enqueued it; `null` for jobs
   * enqueued by code. It stays the same on every attempt, however late the job runs: a nightly
   * job reads its night from it.
   */
  readonly tick: Date | null;
  /**
   * Aborted when the attempt's `timeout` passes, when the worker stops and gives the job back, or
   * when the job is cancelled or its lease is lost. Pass it to `fetch` and other cancellable work.
   */
  readonly signal: AbortSignal;
  /** The system scope (no rules). The handler is not in a transaction: open one when needed. */
  readonly system: Scope<RegisteredSchema, DialectName, {}, "system", RegisteredJobs>;
  /** Kysely over the backend's database. */
  readonly db: Kysely<DB<RegisteredSchema, DialectName>>;
  /** Enqueues another job (not tied to this attempt: it exists whatever the attempt does). */
  readonly enqueue: Enqueue<RegisteredJobs>;
  /** The backend's logger. */
  readonly logger: Logger;
}

/**
 * What `job()` takes.
 * @example
 * ```ts
 * const definition: JobDefinition<typeof input> = { input, handler, retries: 5, timeout: 10_000 };
 * ```
 */
export interface JobDefinition<I extends z.ZodType> {
  /** The input schema: `enqueue` refuses input it does not accept, and nothing is enqueued. */
  input: I;
  /**
   * The work. A throw (or a rejected promise) fails the attempt: the job is retried after a
   * backoff, and kept as `failed` after the last attempt. A job may run more than once (a worker
   * can die after the work and before recording it): make its effects idempotent.
   */
  handler(context: JobContext<z.output<I>>): unknown;
  /**
   * How many times a failed attempt is retried.
   * @default 3
   */
  retries?: number;
  /**
   * The delay before each retry.
   * @default { initial: 1000, max: 3_600_000, jitter: true }
   */
  backoff?: Backoff;
  /**
   * How long one attempt may take, in ms; then its `signal` is aborted and the attempt fails.
   * @default none
   */
  timeout?: number;
  /**
   * How many attempts of this job one worker runs at once (besides the worker's own limit).
   * @default the worker's concurrency
   */
  concurrency?: number;
}

/**
 * A defined job, whose `enqueue` takes input `I`.
 * @example
 * ```ts
 * const sendWelcome: Job<{ to: string }> = job({ input: z.object({ to: z.string() }), handler });
 * ```
 */
export interface Job<I> {
  /** @internal */
  readonly definition: JobDefinition<z.ZodType>;
  /** @internal Type-level input; never set at runtime. */
  readonly "~types"?: { readonly input: (input: I) => void };
}


/**
 * Defines a job: a handler run by a worker, with input validated when it is enqueued, retries
 * with exponential backoff, and an optional timeout. Register it in `createBackend({ jobs })` and
 * enqueue it by name from any scope, action or hook: inside a transaction, the job exists only if
 * the transaction commits.
 *
 * @example
 * ```ts
 * const sendWelcome = job({
 *   input: z.object({ to: z.string().email() }),
 *   retries: 5,
 *   timeout: 10_000,
 *   async handler({ input, signal }) {
 *     await mailer.send({ to: input.to, subject: "Welcome" }, { signal });
 *   },
 * });
 *
 * const backend = createBackend({ collections, jobs: { sendWelcome } });
 * await backend.system.enqueue("sendWelcome", { to: "ada@example.com" });
 * ```
 */
export function job<I extends z.ZodType>(definition: JobDefinition<I>): Job<z.input<I>> {
  return Object.freeze({ definition: definition as unknown as JobDefinition<z.ZodType> }) as Job<z.input<I>>;
}
