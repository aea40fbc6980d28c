/**
 * @internal The delay before a retry.
 * @module
 */
import type { Backoff } from "../define/job.js";

/**
 * The delay in ms after failed attempt `attempt` (1 for the first): `initial · 2^(attempt-1)`,
 * capped at `max`, drawn from its upper half with jitter, so that delays keep growing.
 * @example
 * ```ts
 * retryDelay(undefined, 3); // between 2000 and 4000
 * ```
 */
export function retryDelay(backoff: Backoff | undefined, attempt: number, random: () => number = Math.random): number {
  if (typeof backoff === "function") return Math.max(0, backoff(attempt));
  const initial = backoff?.initial ?? 1000;
  const max = backoff?.max ?? 3_600_000;
  const full = Math.min(max, initial * 2 ** (attempt - 1));
  if (backoff?.jitter === false) return full;
  return Math.floor(full / 2 + random() * (full / 2));
}
