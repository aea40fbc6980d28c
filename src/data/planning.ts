/**
 * @internal What every read and write plans the same way: its options checked (names, limits,
 * the id), the planning context of a statement for a caller, the shape of the records it
 * returns, and the condition that reaches one record by id under the caller's rules.
 * @module
 */
import type { Access } from "../access/caller-access.js";
import type { Operation } from "../define/rules.js";
import { invalidQuery as invalid } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { NUL, NUL_REFUSED } from "../model/text.js";
import type { DataContext } from "./context.js";
import type { ResolvedLimits } from "./limits.js";
import { checkIncludeSize, planShape, type ReadShape } from "./shape.js";
import type { Plan } from "./statement-key.js";
import { and, checkWhereSize, planRules, type Cond, type WhereContext } from "./where.js";

/** The planning context of one statement of `ctx`, for a caller's `access`. */
export function whereContext(ctx: DataContext, plan: Plan, access: Access | undefined): WhereContext {
  return { plan, runtime: ctx.runtime, model: ctx.model, access };
}

/** Refuses options a call does not know, so that a typo is never silently ignored. */
export function checkOptions(options: unknown, allowed: ReadonlySet<string>, what: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    invalid(what, "expected an object of options");
  }
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) invalid(key, `unknown option of ${what} (it takes ${[...allowed].join(", ")})`);
  }
  return options as Record<string, unknown>;
}

/** The limits of a caller's operation: `undefined` for the system scope (whose access is `undefined`). */
export function limitsOf(ctx: DataContext, access: Access | undefined): ResolvedLimits | undefined {
  return access === undefined ? undefined : ctx.shared.limits;
}

/**
 * Checks a caller's options against the backend's limits, before anything walks them (the
 * rules a filter or an include needs are found by walking them). Nothing for the system scope.
 */
export function checkLimits(ctx: DataContext, collection: CollectionModel, options: Record<string, unknown>): void {
  if (ctx.trusted) return;
  const limits = ctx.shared.limits;
  const where = options["where"];
  const include = options["include"];
  // Neither walks what is not an object: most reads have neither.
  if (where !== undefined) checkWhereSize(collection, ctx.model, where, limits);
  if (include !== undefined) checkIncludeSize(ctx.model, collection, include, limits);
}

/** Checks an id argument. */
export function checkId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0) invalid("id", "expected a non-empty string");
  if (id.includes(NUL)) invalid("id", NUL_REFUSED);
  return id;
}

/** Plans the shape of a single-record read (`get`, and what writes return). */
export function planReadShape(
  ctx: DataContext,
  collection: CollectionModel,
  options: Record<string, unknown>,
  access: Access | undefined,
): ReadShape {
  return planShape(ctx.runtime, ctx.model, collection, options["select"], options["include"], "", access, limitsOf(ctx, access));
}

/**
 * Plans `id = ? AND <rule>` for one record: the condition under which the caller may reach it
 * for `operation` (`TRUE` rule for the system scope).
 */
export function planById(
  context: WhereContext,
  collection: CollectionModel,
  id: string,
  operations: readonly Operation[],
): Cond {
  const byId = idCondition(context, id);
  return and(byId, ...planRules(context, collection, operations));
}

/** Plans `id = ?`, the record of `id`. */
export function idCondition(context: WhereContext, id: string): Cond {
  return { t: "cmp", column: "id", op: "=", p: context.plan.param(id) };
}
