/**
 * @internal Running one claimed attempt: its input, its signal, its lease, its outcome.
 * @module
 */
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { Clock } from "../define/clock.js";
import type { EnqueuedJob, EnqueueOptions } from "../define/enqueue.js";
import type { Logger } from "../define/logger.js";
import { issuesOf, validationError } from "../errors/validation.js";
import { retryDelay } from "./backoff.js";
import type { JobContext, JobDefinition } from "../define/job.js";
import type { JobEvent } from "./events.js";
import type { ClaimedJob, JobStore } from "./store.js";
import { NUL } from "../model/text.js";

/** The scope jobs run with: the system scope, with `enqueue`. */
export interface JobsSystemScope {
  readonly enqueue: (name: string, input: unknown, options?: EnqueueOptions) => Promise<EnqueuedJob>;
}

/** What an attempt needs of the jobs service. */
export interface AttemptHost {
  readonly definitions: ReadonlyMap<string, JobDefinition<z.ZodType>>;
  readonly store: JobStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly db: Kysely<any>;
  readonly system: JobsSystemScope;
  emit(event: JobEvent): void;
}

/** Why an attempt's signal was aborted. */
export type StopReason = "timeout" | "released" | "revoked";

/** An attempt in progress, as its worker sees it. */
export interface RunningAttempt {
  readonly job: ClaimedJob;
  /** Settles when the attempt is recorded (never rejects). */
  readonly done: Promise<void>;
  /** Aborts the attempt's signal; a released attempt is not recorded by the attempt itself. */
  stop(reason: StopReason): void;
}

class AttemptStopped extends Error {
  override readonly name: string;
  readonly reason: StopReason;
  constructor(reason: StopReason, message: string) {
    super(message);
    this.reason = reason;
    this.name = reason === "timeout" ? "TimeoutError" : "AbortError";
  }
}

/** An error's text as it is stored: NUL, which PostgreSQL's text refuses, becomes U+FFFD. */
const storable = (text: string) => text.replaceAll(NUL, "\uFFFD");

function describeError(error: unknown): { message: string; detail: string } {
  if (error instanceof Error) {
    const message = storable(`${error.name}: ${error.message}`);
    return { message, detail: storable(error.stack ?? message) };
  }
  const message = storable(typeof error === "string" ? error : JSON.stringify(error) ?? String(error));
  return { message, detail: message };
}

/** Starts `job` as `worker`: the handler runs while the lease is renewed every third of `leaseMs`. */
export function startAttempt(host: AttemptHost, worker: string, job: ClaimedJob, leaseMs: number): RunningAttempt {
  const definition = host.definitions.get(job.name) as JobDefinition<z.ZodType>;
  const controller = new AbortController();
  let released = false;
  const stop = (reason: StopReason) => {
    if (reason === "released") released = true;
    if (controller.signal.aborted) return;
    const messages: Record<StopReason, string> = {
      timeout: `The attempt took longer than its timeout (${definition.timeout} ms).`,
      released: "The worker stopped and gave the job back.",
      revoked: "The job was cancelled, or this attempt lost its lease.",
    };
    controller.abort(new AttemptStopped(reason, messages[reason]));
  };
  const done = run(host, worker, job, definition, controller.signal, leaseMs, stop, () => released);
  return { job, done, stop };
}

async function run(
  host: AttemptHost,
  worker: string,
  job: ClaimedJob,
  definition: JobDefinition<z.ZodType>,
  signal: AbortSignal,
  leaseMs: number,
  stop: (reason: StopReason) => void,
  released: () => boolean,
): Promise<void> {
  const started = host.clock.now();
  host.emit({ type: "started", id: job.id, name: job.name, attempt: job.attempt, worker });
  const timers: NodeJS.Timeout[] = [];
  if (definition.timeout !== undefined) timers.push(setTimeout(() => stop("timeout"), definition.timeout));
  const renewal = setInterval(() => {
    host.store.renew(worker, job, leaseMs).then(
      (held) => held || stop("revoked"),
      (error: unknown) => host.logger.error(`Could not renew the lease of job ${job.name} ${job.id}.`, { error }),
    );
  }, Math.max(10, Math.floor(leaseMs / 3)));
  timers.push(renewal);
  for (const timer of timers) timer.unref();
  let failure: { error: unknown } | undefined;
  let retryable = true;
  try {
    let parsed = await definition.input.safeParseAsync(job.input);
    // An absent input is stored as JSON null.
    if (!parsed.success && job.input === null) {
      const absent = await definition.input.safeParseAsync(undefined);
      if (absent.success) parsed = absent;
    }
    if (!parsed.success) {
      // The stored input no longer fits the job (its schema changed): retrying cannot help.
      retryable = false;
      throw validationError(`The stored input of job ${job.name} is no longer valid`, issuesOf(parsed.error, []));
    }
    const context: JobContext<unknown> = {
      input: parsed.data,
      id: job.id,
      name: job.name,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      now: new Date(started),
      tick: job.tick === null ? null : new Date(job.tick),
      signal,
      system: host.system as JobContext<unknown>["system"],
      db: host.db as JobContext<unknown>["db"],
      enqueue: host.system.enqueue,
      logger: host.logger,
    };
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    await Promise.race([Promise.resolve().then(() => definition.handler(context)), aborted]);
  } catch (error) {
    failure = { error };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
  try {
    await settle(host, worker, job, definition, failure, retryable, started, released());
  } catch (error) {
    // The lease expires and another worker runs the job again: nothing is lost.
    host.logger.error(`Could not record the outcome of job ${job.name} ${job.id}; it will run again after its lease.`, { error });
  }
}

async function settle(
  host: AttemptHost,
  worker: string,
  job: ClaimedJob,
  definition: JobDefinition<z.ZodType>,
  failure: { error: unknown } | undefined,
  retryable: boolean,
  started: number,
  released: boolean,
): Promise<void> {
  if (released) return; // the stopping worker recorded it
  const stopped = failure?.error instanceof AttemptStopped ? failure.error.reason : undefined;
  if (stopped === "revoked") {
    await host.store.abandon(worker, job, "failed", (failure!.error as Error).message);
    return;
  }
  if (failure === undefined) {
    const held = await host.store.succeed(worker, job);
    if (held) host.emit({ type: "succeeded", id: job.id, name: job.name, attempt: job.attempt, duration: host.clock.now() - started });
    else host.logger.warn?.(`Job ${job.name} ${job.id} finished after it was cancelled or its lease was lost.`, { attempt: job.attempt });
    return;
  }
  const { message, detail } = describeError(failure.error);
  const last = !retryable || job.attempt >= job.maxAttempts;
  const retryAt = last ? null : host.clock.now() + retryDelay(definition.backoff, job.attempt);
  const held = await host.store.fail(worker, job, message, detail, retryAt);
  if (!held) return;
  host.emit({
    type: "failed",
    id: job.id,
    name: job.name,
    attempt: job.attempt,
    error: failure.error,
    retryAt: retryAt === null ? null : new Date(retryAt),
  });
  if (retryAt === null) {
    host.logger.error(`Job ${job.name} ${job.id} failed for good after attempt ${job.attempt}.`, { error: failure.error });
  } else {
    host.logger.warn?.(`Job ${job.name} ${job.id} failed (attempt ${job.attempt} of ${job.maxAttempts}); retrying at ${new Date(retryAt).toISOString()}.`, {
      error: failure.error,
    });
  }
}
