/**
 * @internal The `belongsTo` values a caller writes: each must name a record the caller may read.
 * One it may not read answers exactly as one that does not exist, `REFERENCE_NOT_FOUND`, before
 * any other rule of the write is decided, so that no answer tells the two apart.
 * @module
 */
import { sql } from "kysely";
import type { Access } from "../access/caller-access.js";
import { apiError, type ApiError, type FieldIssue } from "../errors/api-error.js";
import type { CollectionModel, ColumnModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { execute, type DataContext } from "./context.js";
import { whereContext } from "./planning.js";
import type { Row } from "./rows.js";
import { Plan } from "./statement-key.js";
import { buildCond, FALSE, planRule } from "./where.js";

/** `REFERENCE_NOT_FOUND` for the fields of `collection` whose record is missing (for the caller). */
export function referenceNotFound(collection: CollectionModel, fields: readonly string[], issues: readonly FieldIssue[]): ApiError {
  const named = fields.map((name) => `${collection.name}.${name}`).join(", ");
  return apiError("REFERENCE_NOT_FOUND", `${named || "A reference"} points to a record that does not exist.`, { issues });
}

/** The issue of one reference to a missing record. */
export function missingIssue(path: readonly (string | number)[]): FieldIssue {
  return { path, code: "reference_not_found", message: "No such record" };
}

interface Use {
  readonly path: readonly (string | number)[];
  readonly column: ColumnModel;
  readonly value: string;
}

/**
 * Refuses a caller's write when a `belongsTo` value it gives names a record it may not read
 * under the target's `get` rule (as when there is none): one statement per referenced collection
 * whose rule is a filter. Targets the caller may get whatever they are are left to the foreign
 * key. `inputs` are the caller's validated inputs; `indexed` puts each one's index first in the
 * issue paths (`createMany`). A record created by the same call counts as one the caller may read.
 */
export async function checkReferences(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  inputs: readonly Row[],
  indexed = false,
): Promise<void> {
  if (access === undefined) return;
  const byTarget = new Map<CollectionModel, Use[]>();
  for (const column of collection.columns) {
    if (column.references === undefined) continue;
    const target = ctx.model.collections.get(column.references.table)!;
    inputs.forEach((input, i) => {
      const value = input[column.name];
      if (typeof value !== "string") return;
      let uses = byTarget.get(target);
      if (uses === undefined) byTarget.set(target, (uses = []));
      uses.push({ path: indexed ? [i, column.name] : [column.name], column, value });
    });
  }
  if (byTarget.size === 0) return;
  const creating = new Set(inputs.map((input) => input["id"]).filter((id) => typeof id === "string"));
  const missing: Use[] = [];
  for (const [target, uses] of byTarget) {
    if (access.rule(target, "get") === true) continue;
    const readable = await readableIds(ctx, target, access, [...new Set(uses.map((use) => use.value))]);
    for (const use of uses) {
      if (!readable.has(use.value) && !(target === collection && creating.has(use.value))) missing.push(use);
    }
  }
  if (missing.length === 0) return;
  const fields = [...new Set(missing.map((use) => use.column.name))];
  throw referenceNotFound(collection, fields, missing.map((use) => missingIssue(use.path)));
}

/** Which of `ids` name records of `target` that the caller may get. */
async function readableIds(ctx: DataContext, target: CollectionModel, access: Access, ids: readonly string[]): Promise<Set<string>> {
  const plan = new Plan(target.name);
  const list = plan.param(ctx.runtime.encodeList("text", ids));
  const rule = planRule(whereContext(ctx, plan, access), target, "get");
  if (rule === FALSE) return new Set();
  const query = ctx.cache.get(plan.key("readable"), plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${target.name} as t0`)
      .select("t0.id")
      .where(ctx.runtime.inList(sql.ref("t0.id"), new Slot(list), "text"))
      .where(buildCond(ctx.runtime, rule, "t0")),
  );
  return new Set((await execute<{ id: string }>(ctx, query)).rows.map((row) => row.id));
}
