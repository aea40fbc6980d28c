/**
 * The types of access rules: per collection and operation, and per field.
 * @module
 */
import type { CollectionWhere, Fields } from "./types.js";
import type { RuleContext } from "./principal.js";

/**
 * What a collection rule decides: `true` (allowed), `false` (denied), or a filter that is AND-ed
 * into the SQL of the operation, so only the records it matches are reached.
 */
export type RuleResult<F extends Fields> = boolean | CollectionWhere<F>;

/**
 * A collection rule: a function of the caller, sync or async.
 *
 * @example
 * ```ts
 * const update: Rule<typeof fields> = ({ user }) => (user ? { author: user.id } : false);
 * ```
 */
export type Rule<F extends Fields> = (context: RuleContext) => RuleResult<F> | Promise<RuleResult<F>>;

/**
 * The rules of a collection. A missing rule denies (`backend.system` skips every rule).
 *
 * - `list` and `get` decide which records a caller can see; a record it cannot see does not
 *   exist for it (`get` returns `null`, `update`/`delete` fail with `NOT_FOUND`).
 * - `create` must hold for the record being created.
 * - `update` must hold for the record before and after the change; `delete` for the record
 *   deleted. A record the caller can see but not change fails with `FORBIDDEN`.
 *
 * @example
 * ```ts
 * access: {
 *   list: ({ user }) => (user ? { or: [{ published: true }, { author: user.id }] } : { published: true }),
 *   get: ({ user }) => (user ? { or: [{ published: true }, { author: user.id }] } : { published: true }),
 *   create: ({ user }) => user !== null,
 *   update: ({ user }) => (user ? { author: user.id } : false),
 *   delete: ({ user }) => user?.role === "admin",
 * }
 * ```
 */
export interface CollectionAccess<F extends Fields> {
  list?: Rule<F>;
  get?: Rule<F>;
  create?: Rule<F>;
  update?: Rule<F>;
  delete?: Rule<F>;
}

/** What a rule of a collection with fields `F` may return (see {@link RuleResult}). */
export type RuleReturn<F extends Fields> = RuleResult<F> | Promise<RuleResult<F>>;

/** The operations collection rules govern. */
export type Operation = keyof CollectionAccess<Fields>;
