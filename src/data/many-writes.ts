/**
 * @internal `updateMany` and `deleteMany`: every record a `where` reaches that the caller may
 * list and change. Without hooks one statement (after one that checks an update rule for every
 * record after the change); with hooks record by record, in one transaction.
 * @module
 */
import { sql, type SqlBool } from "kysely";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import { apiError } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { execute, type DataContext } from "./context.js";
import { deleteOne } from "./delete.js";
import { checkLimits, checkOptions, whereContext } from "./planning.js";
import { changedRow, holdsFor } from "./proposed.js";
import type { Row } from "./rows.js";
import { Plan } from "./statement-key.js";
import { afterRule, changedSlots, changing, updateOne } from "./update.js";
import { and, buildCond, planRules, planWhere, TRUE, type Cond, type WhereContext } from "./where.js";
import { ruleOf } from "./write-access.js";
import { withWriteErrors } from "./write-errors.js";
import { hooked } from "./write-hooks.js";
import { updateInput } from "./write-input.js";

/**
 * Updates every record matching `where` that the caller may update; returns how many. With hooks
 * it goes record by record, each decided against the tables as they are before its own change.
 */
export async function updateManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where", "data"]), "updateMany");
  const plan = new Plan(collection.name);
  const { access, where, context, rule } = await planMany(ctx, collection, options, "update", plan);
  const input = await updateInput(ctx, collection, access, options["data"] ?? {});
  if (!hooked(collection, "update")) return { count: await updateWhere(ctx, collection, context, where, rule, input) };
  return ctx.atomic(async (tx) => {
    const ids = await idsOf(tx, collection, plan, where);
    // Each record's own copy: a slug made for one is not another's.
    for (const id of ids) await updateOne(tx, collection, access, id, { ...input });
    return { count: ids.length };
  });
}

/** Deletes every record matching `where` that the caller may delete; returns how many. */
export async function deleteManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where"]), "deleteMany");
  const plan = new Plan(collection.name);
  const { access, where } = await planMany(ctx, collection, options, "delete", plan);
  if (hooked(collection, "delete")) {
    return ctx.atomic(async (tx) => {
      const ids = await idsOf(tx, collection, plan, where);
      for (const id of ids) await deleteOne(tx, collection, access, id);
      return { count: ids.length };
    });
  }
  const query = ctx.cache.get(plan.key("deleteWhere"), plan.values, () => {
    const query = ctx.runtime.kysely.deleteFrom(`${collection.name} as t0`);
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  const result = await withWriteErrors(ctx, collection, "delete", undefined, () => execute(ctx, query));
  return { count: Number(result.numAffectedRows ?? 0) };
}

function requireWhere(options: Record<string, unknown>, what: string): unknown {
  if (!("where" in options) || options["where"] === undefined) {
    throw apiError("INVALID_QUERY", `where: ${what} needs a where (use {} to mean every record)`, { path: "where" });
  }
  return options["where"];
}

/** The records a many-write reaches: `where` AND the caller's `list` rule AND its rule for the write. */
async function planMany(
  ctx: DataContext,
  collection: CollectionModel,
  options: Record<string, unknown>,
  operation: "update" | "delete",
  plan: Plan,
): Promise<{ access: Access | undefined; where: Cond; context: WhereContext; rule: Cond }> {
  const where = requireWhere(options, `${operation}Many`);
  checkLimits(ctx, collection, { where });
  // With hooks a many-write goes record by record, which also reads the `get` rule.
  const access = await accessFor(ctx.trusted, ctx.user, ctx.model, collection, ["list", "get", operation], where, undefined, options["data"]);
  if (ruleOf(access, collection, operation) === false) throw denied(ctx.user, `You may not ${operation} ${collection.name}.`);
  const context = whereContext(ctx, plan, access);
  const planned = planWhere(context, collection, where, "where");
  const [listRule, rule] = planRules(context, collection, ["list", operation]) as [Cond, Cond];
  return { access, context, rule, where: and(planned, listRule, rule) };
}

/** The ids of the records a many-write reaches, when it must go record by record (hooks). */
async function idsOf(ctx: DataContext, collection: CollectionModel, plan: Plan, where: Cond): Promise<string[]> {
  const query = ctx.cache.get(plan.key("ids"), plan.values, () => {
    const query = ctx.runtime.kysely.selectFrom(`${collection.name} as t0`).select("t0.id");
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  return (await execute<{ id: string }>(ctx, query)).rows.map((row) => row.id);
}

/**
 * The update of every record `where` reaches, in one statement, after one that refuses the
 * whole write when the update rule (`rule`, planned in `where`) would not hold for some record
 * after the change; that one only when the change sets a column the rule reads.
 */
async function updateWhere(
  ctx: DataContext,
  collection: CollectionModel,
  context: WhereContext,
  where: Cond,
  rule: Cond,
  input: Record<string, unknown>,
): Promise<number> {
  const plan = context.plan;
  const after = afterRule(context, collection, rule, changing(collection, input));
  const changed = collection.columns.filter((column) => input[column.name] !== undefined);
  const values = [...plan.values];
  const first = values.length;
  for (const column of changed) values.push(ctx.runtime.encode(column.kind, input[column.name]));
  values.push(ctx.runtime.encode("datetime", new Date()));
  const names = changed.map((column) => column.name);
  const row = () => changedRow(ctx.runtime, collection, "t0", changedSlots(changed, first));
  if (after !== TRUE) {
    const check = ctx.cache.get(plan.key("updateCheck", ...names), values, () => {
      const query = ctx.runtime.kysely
        .selectFrom(`${collection.name} as t0`)
        .select("t0.id")
        .where(sql<SqlBool>`not ${holdsFor(ctx.runtime, row(), after)}`)
        .limit(1);
      return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
    });
    if ((await execute(ctx, check)).rows.length > 0) throw denied(ctx.user, `You may not update these ${collection.name} records.`);
  }
  const query = ctx.cache.get(plan.key("updateWhere", ...names), values, () => {
    let query = ctx.runtime.kysely
      .updateTable(`${collection.name} as t0`)
      .set(Object.fromEntries([...changed.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])));
    if (where !== TRUE) query = query.where(buildCond(ctx.runtime, where, "t0"));
    // Decided again in the write: a record changed since the check is skipped, never written unchecked.
    if (after !== TRUE) query = query.where(holdsFor(ctx.runtime, row(), after));
    return query.returning("id");
  });
  const rows = await withWriteErrors(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  return rows.length;
}
