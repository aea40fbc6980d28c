/**
 * The bounds of the work one request may ask for: how many records, how deep, how large a
 * filter. They apply to every caller but the system scope, in-process and over HTTP.
 * @module
 */
import { apiError } from "../errors/api-error.js";

/**
 * What one operation of a caller (every scope but `backend.system`) may ask for. Each bound
 * that is passed is answered with `400 LIMIT_EXCEEDED` naming it (`details.limit`,
 * `details.max`), except `limit` above `maxLimit`, which is `400 INVALID_QUERY` like any
 * out-of-range option.
 *
 * @example
 * ```ts
 * createBackend({
 *   collections: { users, posts, comments },
 *   limits: { maxLimit: 50, includeDepth: 2, rowsPerRequest: 2000 },
 * });
 * ```
 */
export interface Limits {
  /**
   * The largest `limit` of a list, and of a to-many include; a to-many include without a
   * `limit` returns at most this many related records per record.
   * @default 100
   */
  maxLimit?: number;
  /** How deep includes nest: `include=author.posts.author` is 3 deep. @default 3 */
  includeDepth?: number;
  /**
   * The most records one read (or the answer of one write) returns: the top-level records and
   * every included one, counted at each place it appears in the answer.
   * @default 10000
   */
  rowsPerRequest?: number;
  /** How deep a `where` nests (`and` / `or` / `not`, relation filters). @default 16 */
  whereDepth?: number;
  /** How many tests a `where` holds (each operator on a field, each relation filter). @default 256 */
  whereConditions?: number;
  /** The longest query string an HTTP request may have, in characters (as sent, percent-encoded). @default 16384 */
  queryLength?: number;
  /** How deep the JSON of an HTTP request body may nest (objects and arrays). @default 64 */
  jsonDepth?: number;
}

/** @internal Every limit, with its default filled in. */
export type ResolvedLimits = Readonly<Required<Limits>>;

/** @internal The defaults of {@link Limits}. */
export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxLimit: 100,
  includeDepth: 3,
  rowsPerRequest: 10_000,
  whereDepth: 16,
  whereConditions: 256,
  queryLength: 16_384,
  jsonDepth: 64,
});

/** @internal The limits of a backend; throws a `TypeError` on a value that is not a positive whole number. */
export function resolveLimits(limits: Limits = {}, maxLimit?: number): ResolvedLimits {
  const resolved: Record<string, number> = { ...DEFAULT_LIMITS };
  if (maxLimit !== undefined) resolved["maxLimit"] = maxLimit;
  for (const [name, value] of Object.entries(limits)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) throw new TypeError(`limits.${name} is not a limit (limits are ${Object.keys(DEFAULT_LIMITS).join(", ")}).`);
    if (value === undefined) continue;
    resolved[name] = value as number;
  }
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`limits.${name} must be a whole number from 1, not ${String(value)}.`);
  }
  return Object.freeze(resolved) as unknown as ResolvedLimits;
}

/** @internal The error of a request past one of its limits. */
export function limitExceeded(limit: keyof Limits, max: number, message: string): never {
  throw apiError("LIMIT_EXCEEDED", `${message} (limits.${limit} is ${max}).`, { limit, max });
}

/**
 * @internal The records one operation may return. Rows are counted as statements read them (so
 * no statement reads more than what is left, plus one to tell it went past), then the answer is
 * counted as it will be written out, where a record included in several places counts at each.
 */
export class RowBudget {
  #read = 0;
  constructor(readonly max: number) {}

  /** How many rows the next statement may read: what is left, plus one. */
  get cap(): number {
    return this.max - this.#read + 1;
  }

  /** Counts rows a statement read; past the budget, `LIMIT_EXCEEDED`. */
  read(count: number): void {
    this.#read += count;
    if (this.#read > this.max) this.exceeded();
  }

  /** `LIMIT_EXCEEDED` for this budget. */
  exceeded(): never {
    return limitExceeded(
      "rowsPerRequest",
      this.max,
      `This request would return more than ${this.max} records; ask for fewer (a smaller limit, fewer or shallower includes)`,
    );
  }
}
