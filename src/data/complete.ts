/**
 * @internal What the rows a statement returned still lack: computed fields (when the statement
 * could not select them), includes, and the projection to the caller's shape. Writes complete
 * the records they return with it.
 * @module
 */
import { sql } from "kysely";
import type { Access } from "../access/caller-access.js";
import { Slot } from "./compiled-query-cache.js";
import { computedColumns, decodeComputed, planComputed } from "./computed.js";
import { execute, type DataContext } from "./context.js";
import { budgetOf, withIncludes } from "./includes.js";
import { limitsOf, whereContext } from "./planning.js";
import { project, type Row } from "./rows.js";
import type { ReadShape } from "./shape.js";
import { Plan } from "./statement-key.js";

/**
 * Completes decoded rows that a write returned, on copies of them (the written rows are the
 * write's, and its hooks' and events'): computes their computed fields (one statement; `null`
 * for rows that no longer exist, after a delete), loads their includes and projects them to the
 * shape.
 */
export async function complete(
  ctx: DataContext,
  shape: ReadShape,
  written: readonly Row[],
  access: Access | undefined,
  exist = true,
): Promise<Row[]> {
  if (shape.computed.length === 0 && shape.includes.length === 0) {
    // Nothing is added: the projection makes new records, or each is copied as it is.
    return shape.output === undefined ? written.map(copy) : project(shape, written as Row[]);
  }
  const rows = written.map(copyKeyByKey);
  if (shape.computed.length > 0) {
    if (exist) await loadComputed(ctx, shape, rows, access);
    else for (const row of rows) for (const field of shape.computed) row[field.name] = null;
  }
  return withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
}

async function loadComputed(ctx: DataContext, shape: ReadShape, rows: Row[], access: Access | undefined): Promise<void> {
  if (rows.length === 0) return;
  const runtime = ctx.runtime;
  const plan = new Plan(shape.collection.name);
  const context = whereContext(ctx, plan, access);
  const computed = planComputed(context, shape);
  const ids = plan.param(runtime.encodeList("text", rows.map((row) => row["id"])));
  const query = ctx.cache.get(plan.key("computed"), plan.values, () =>
    runtime.kysely
      .selectFrom(`${shape.collection.name} as t0`)
      .select("t0.id")
      .select(computedColumns(runtime, computed, "t0"))
      .where(runtime.inList(sql.ref("t0.id"), new Slot(ids), "text")),
  );
  const values = (await execute<Row>(ctx, query)).rows;
  decodeComputed(runtime, shape, values);
  const byId = new Map(values.map((value) => [value["id"], value]));
  for (const row of rows) {
    const value = byId.get(row["id"]);
    for (const field of shape.computed) row[field.name] = value?.[field.name] ?? null;
  }
}

function copy(row: Row): Row {
  return { ...row };
}

/**
 * A copy that fields are then added to, made key by key: on Node 20's V8, a spread copy with
 * properties added to it costs microseconds per row and stays in the heap until a full
 * collection (test/perf/retention.test.ts). Its keys are the collection's column names.
 */
function copyKeyByKey(row: Row): Row {
  const copied: Row = {};
  for (const key of Object.keys(row)) copied[key] = row[key];
  return copied;
}
