/**
 * What the jobs of a backend report, for hosts to log or measure.
 * @module
 */

/**
 * Something that happened to a job, as the process that saw it reports it:
 * - `enqueued`: a job was created (after its transaction committed);
 * - `started`, `succeeded`: an attempt began, ended well (`duration` in ms);
 * - `failed`: an attempt failed; `retryAt` is when the next one is due, `null` when it was the
 *   last (the job is now `failed`);
 * - `lost`: a worker found the lease of an attempt expired (its worker died or hung);
 * - `released`: a stopping worker gave a running job back;
 * - `scheduled`: a schedule's tick enqueued its job (`created: false` when another instance had).
 *
 * @example
 * ```ts
 * backend.jobs.on((event) => {
 *   if (event.type === "failed" && event.retryAt === null) alert(`job ${event.name} ${event.id} is dead`);
 * });
 * ```
 */
export type JobEvent =
  | { readonly type: "enqueued"; readonly id: string; readonly name: string; readonly runAt: Date }
  | { readonly type: "started"; readonly id: string; readonly name: string; readonly attempt: number; readonly worker: string }
  | { readonly type: "succeeded"; readonly id: string; readonly name: string; readonly attempt: number; readonly duration: number }
  | {
      readonly type: "failed";
      readonly id: string;
      readonly name: string;
      readonly attempt: number;
      readonly error: unknown;
      readonly retryAt: Date | null;
    }
  | { readonly type: "lost"; readonly id: string; readonly name: string; readonly attempt: number }
  | { readonly type: "released"; readonly id: string; readonly name: string; readonly attempt: number }
  | { readonly type: "scheduled"; readonly schedule: string; readonly tick: Date; readonly id: string; readonly created: boolean };

/** A listener of {@link JobEvent}s. */
export type JobEventListener = (event: JobEvent) => void;
