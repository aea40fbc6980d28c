/**
 * The type of `enqueue`, inferred from the jobs of a backend (or of `Register`).
 * @module
 */
import type { AnyJob, JobInput } from "./handles.js";

/**
 * When and how a job is enqueued.
 * @example
 * ```ts
 * await backend.system.enqueue("sendInvoice", { orderId }, { delay: 60_000, idempotencyKey: `invoice:${orderId}`, priority: 5 });
 * ```
 */
export interface EnqueueOptions {
  /** When the job becomes due. Give `runAt` or `delay`, not both. @default now */
  readonly runAt?: Date;
  /** In how many ms the job becomes due. @default 0 */
  readonly delay?: number;
  /**
   * A key that makes the enqueue happen once: enqueuing the same job name with a key already used
   * returns the existing job (`created: false`) and enqueues nothing, whatever that job's state.
   */
  readonly idempotencyKey?: string;
  /** Due jobs with a higher priority run first (an integer). @default 0 */
  readonly priority?: number;
}

/**
 * When and how the jobs of one `enqueueMany` are enqueued: as for `enqueue`, the same for every
 * job, without an idempotency key.
 * @example
 * ```ts
 * await backend.system.enqueueMany("sendInvoice", orders.map((order) => ({ orderId: order.id })), { delay: 60_000 });
 * ```
 */
export type EnqueueManyOptions = Omit<EnqueueOptions, "idempotencyKey">;

/**
 * What `enqueue` returns.
 * @example
 * ```ts
 * const { id, created } = await backend.system.enqueue("sendWelcome", { to }, { idempotencyKey: `welcome:${to}` });
 * if (!created) console.log(`already enqueued as ${id}`);
 * ```
 */
export interface EnqueuedJob {
  /** The job's id (the existing job's when the idempotency key was already used). */
  readonly id: string;
  /** `false` when the idempotency key was already used, and nothing was enqueued. */
  readonly created: boolean;
}

/**
 * `enqueue(name, input, options?)` for the jobs `J`: the name is one of theirs and the input the
 * one that job takes. With loose jobs (`Register` declares none), any name and input, checked at
 * run time.
 * @example
 * ```ts
 * const enqueue: Enqueue<{ sendWelcome: typeof sendWelcome }> = backend.system.enqueue;
 * await enqueue("sendWelcome", { to: "ada@example.com" });
 * ```
 */
export type Enqueue<J extends Record<string, AnyJob>> = string extends keyof J
  ? (name: string, input: unknown, options?: EnqueueOptions) => Promise<EnqueuedJob>
  : <K extends keyof J & string>(name: K, input: JobInput<J[K]>, options?: EnqueueOptions) => Promise<EnqueuedJob>;

/**
 * `enqueueMany(name, inputs, options?)` for the jobs `J`: jobs of one name, one per input, typed
 * as `enqueue`'s input.
 * @example
 * ```ts
 * const enqueueMany: EnqueueMany<{ sendWelcome: typeof sendWelcome }> = backend.system.enqueueMany;
 * await enqueueMany("sendWelcome", [{ to: "ada@example.com" }, { to: "alan@example.com" }]);
 * ```
 */
export type EnqueueMany<J extends Record<string, AnyJob>> = string extends keyof J
  ? (name: string, inputs: readonly unknown[], options?: EnqueueManyOptions) => Promise<EnqueuedJob[]>
  : <K extends keyof J & string>(name: K, inputs: readonly JobInput<J[K]>[], options?: EnqueueManyOptions) => Promise<EnqueuedJob[]>;
