/**
 * @internal The caller's access to a write: its rules as values, the shape of what the write
 * returns, and the answer for a record it may not change (`NOT_FOUND` when it cannot see it,
 * `FORBIDDEN` when it can).
 * @module
 */
import { sql } from "kysely";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import type { Operation } from "../define/rules.js";
import { apiError, type ApiError } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { execute, type DataContext } from "./context.js";
import { checkLimits, checkOptions, planById, planReadShape, whereContext } from "./planning.js";
import type { ReadShape } from "./shape.js";
import { Plan } from "./statement-key.js";
import { buildCond, FALSE } from "./where.js";

/** The caller's rule for an operation as a value: `true` for the system scope. */
export function ruleOf(access: Access | undefined, collection: CollectionModel, operation: Operation) {
  return access === undefined ? true : access.rule(collection, operation);
}

const READ_OPTIONS = new Set(["select", "include"]);

/**
 * The caller's access for a write and the shape of what it returns: the rules of `operations`,
 * of the includes, and the `get` rules of the collections `written` points to.
 */
export async function shapeFor(
  ctx: DataContext,
  collection: CollectionModel,
  rawOptions: unknown,
  what: string,
  operations: readonly Operation[],
  written: unknown,
): Promise<{ access: Access | undefined; shape: ReadShape }> {
  const options = checkOptions(rawOptions, READ_OPTIONS, what);
  checkLimits(ctx, collection, options);
  const access = await accessFor(ctx.trusted, ctx.user, ctx.model, collection, operations, undefined, options["include"], written);
  return { access, shape: planReadShape(ctx, collection, options, access) };
}

/** `NOT_FOUND` for a record the caller cannot see, `FORBIDDEN` for one it sees but may not change. */
export async function unreachable(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  action: string,
): Promise<ApiError> {
  if (access !== undefined && (await reachable(ctx, collection, access, id, ["get"]))) {
    return denied(ctx.user, `You may not ${action} this ${collection.name} record.`, { collection: collection.name, id });
  }
  return notFound(collection, id);
}

/** The error for a record that does not exist (for the caller). */
export function notFound(collection: CollectionModel, id: string): ApiError {
  return apiError("NOT_FOUND", `No ${collection.name} record with id "${id}".`, { collection: collection.name, id });
}

/** Whether the record exists for the caller under `operations`' rules. */
export async function reachable(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  operations: readonly Operation[],
): Promise<boolean> {
  const plan = new Plan(collection.name, ...operations);
  const condition = planById(whereContext(ctx, plan, access), collection, id, operations);
  if (condition === FALSE) return false;
  const query = ctx.cache.get(plan.key("exists"), plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${collection.name} as t0`)
      .select(sql<number>`1`.as("found"))
      .where(buildCond(ctx.runtime, condition, "t0")),
  );
  return (await execute(ctx, query)).rows.length > 0;
}
