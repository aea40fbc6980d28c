/**
 * @internal `update` of one record by id: without hooks one statement, which holds the caller's
 * rules before the change and its update rule after it, decided against the tables as they are
 * before the write (see proposed.ts).
 * @module
 */
import type { Compilable } from "kysely";
import type { Access } from "../access/caller-access.js";
import type { CollectionModel, ColumnModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { complete } from "./complete.js";
import { execute, type DataContext } from "./context.js";
import { generates, withUpdatedSlugs } from "./generated.js";
import { hookContext } from "./hook-context.js";
import { checkId, idCondition, whereContext } from "./planning.js";
import { changedRow, holdsFor } from "./proposed.js";
import { decodeAll, type Row } from "./rows.js";
import { keepPlan, matchKept, statementOf, updateRules, verifyKept, type KeptStatement } from "./kept-plan.js";
import { Plan, type StatementKey } from "./statement-key.js";
import { and, buildCond, planRule, planRules, TRUE, type Cond, type WhereContext } from "./where.js";
import { ruleOf, shapeFor, unreachable } from "./write-access.js";
import { withWriteErrors } from "./write-errors.js";
import { afterWrite, hooked, inTransactionIf, keepsChanges, needsTransaction, readWhole, snapshot } from "./write-hooks.js";
import { updateInput, validate } from "./write-input.js";

/** Updates one record by id; `NOT_FOUND` when the caller cannot see it, `FORBIDDEN` when it may not change it. */
export async function updateRecord(
  ctx: DataContext,
  collection: CollectionModel,
  id: unknown,
  data: unknown,
  options: unknown,
): Promise<Row> {
  const key = checkId(id);
  const { access, shape } = await shapeFor(ctx, collection, options, "update", ["get", "update"], data);
  if (ruleOf(access, collection, "update") === false) throw await unreachable(ctx, collection, access, key, "update");
  const input = await updateInput(ctx, collection, access, data);
  return inTransactionIf(ctx, needsTransaction(collection, "update"), async (c) => {
    const updated = await updateOne(c, collection, access, key, input);
    return (await complete(c, shape, [updated], access))[0]!;
  });
}

/**
 * The whole update of one record by id, in `ctx`, with the caller's validated `input`; returns
 * it whole and decoded. One statement: `UPDATE ... WHERE` the record is the caller's to update
 * before the change AND its update rule holds for the record as it would be after it, decided
 * against the tables as they are before it.
 */
export async function updateOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  checked: Record<string, unknown>,
): Promise<Row> {
  let input = checked;
  const hooks = collection.hooks;
  // Without hooks, events or a slug made anew, the update is its one statement: its plan is kept
  // per shape of the caller's rules and the fields it sets (kept-plan.ts).
  const keeps = !hooked(collection, "update");
  const rules = keeps ? updateRules(access, collection) : undefined;
  const matched = keeps ? matchKept(ctx.runtime, collection, "update", id, rules) : undefined;
  const changedColumns = keeps ? givenColumns(collection, input) : [];
  const changedKey = keeps ? changedColumns.map((column) => column.name).join(",") : "";
  const kept = matched === undefined ? undefined : statementOf(matched, changedKey);
  if (kept !== undefined) return updateKept(ctx, collection, access, id, input, changedColumns, kept, matched!.values);

  const plan = new Plan(collection.name);
  if (keeps) plan.recorded = [];
  const context = whereContext(ctx, plan, access);
  const { condition, rule } = planCondition(context, collection, id);
  let previous: Row | null = null;
  if (hooks.beforeUpdate !== undefined || hooks.afterUpdate !== undefined || keepsChanges(collection)) {
    previous = (await readWhole(ctx, collection, plan, condition)) ?? null;
    if (previous === null) throw await unreachable(ctx, collection, access, id, "update");
    if (hooks.beforeUpdate !== undefined) {
      const changed = await hooks.beforeUpdate(hookContext(ctx, { data: input, previous: snapshot(previous) as never }));
      if (changed !== undefined) input = validate(collection.updateSchema, collection, undefined, changed);
    }
  }
  const after = afterRule(context, collection, rule, changing(collection, input));
  const first = plan.values.length;
  const write = async () => {
    // Planned anew on each run: a retried write may set a different slug.
    plan.values.length = first;
    const columns = givenColumns(collection, input);
    const { key, build } = updateStatement(ctx, plan, collection, condition, after, columns, input);
    if (keeps && after === TRUE) keepPlan("update", ctx.runtime, collection, id, rules, changedKey, { key, condition, build }, plan, first, matched);
    const query = ctx.cache.get(key, plan.values, build);
    return withWriteErrors(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  };
  const rows = generates(collection, "update") ? await withUpdatedSlugs(ctx, collection, id, input, write) : await write();
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "update");
  decodeAll(ctx, collection, rows);
  const updated = rows[0]!;
  await afterWrite(ctx, collection, "update", updated, previous);
  return updated;
}

/**
 * The statement of an update that sets `columns` of `input` (and `updatedAt`) where `condition`
 * and `after` hold, its values bound to `plan` after its condition's.
 */
function updateStatement(
  ctx: DataContext,
  plan: Plan,
  collection: CollectionModel,
  condition: Cond,
  after: Cond,
  columns: readonly ColumnModel[],
  input: Record<string, unknown>,
): { key: StatementKey; build: () => Compilable<unknown> } {
  const first = plan.values.length;
  bindChanges(ctx, plan.values, columns, input);
  const runtime = ctx.runtime;
  const build = () => {
    const update = runtime.kysely
      .updateTable(`${collection.name} as t0`)
      .set(Object.fromEntries([...columns.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])))
      .where(buildCond(runtime, condition, "t0"));
    if (after === TRUE) return update.returningAll();
    const row = changedRow(runtime, collection, "t0", changedSlots(columns, first));
    return update.where(holdsFor(runtime, row, after)).returningAll();
  };
  return { key: plan.key("update", ...columns.map((column) => column.name)), build };
}

/** Binds the values an update sets: `columns` of `input`, encoded, then `updatedAt`, now. */
function bindChanges(ctx: DataContext, values: unknown[], columns: readonly ColumnModel[], input: Record<string, unknown>): void {
  for (const column of columns) values.push(ctx.runtime.encode(column.kind, input[column.name]));
  values.push(ctx.runtime.encode("datetime", new Date()));
}

/**
 * An update by id without hooks whose plan was kept: its condition's values (`values`, bound by
 * the match) and the changes bound to the kept statement; in the verifying mode, planned again
 * and compared.
 */
async function updateKept(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  input: Record<string, unknown>,
  columns: readonly ColumnModel[],
  kept: KeptStatement,
  values: unknown[],
): Promise<Row> {
  bindChanges(ctx, values, columns, input);
  const query = ctx.cache.get(kept.key, values, kept.build);
  if (ctx.cache.verifying) {
    // The time of the change is now, not the kept statement's: the rest must be the same.
    verifyKept(kept, values.slice(0, -1), () => {
      const plan = new Plan(collection.name);
      const context = whereContext(ctx, plan, access);
      const { condition, rule } = planCondition(context, collection, id);
      const after = afterRule(context, collection, rule, changing(collection, input));
      const { key } = updateStatement(ctx, plan, collection, condition, after, columns, input);
      return { key, values: plan.values.slice(0, -1) };
    });
  }
  const rows = await withWriteErrors(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "update");
  decodeAll(ctx, collection, rows);
  return rows[0]!;
}

/**
 * The caller's update rule, planned again for the record after the change (no moving a record
 * out of the caller's reach). `TRUE` when it holds for any record, and when the change sets none
 * of the record's own columns the rule reads: then `rule`, the same rule planned on the record
 * before the change (which the write's condition holds), decides it alike, since what the rule
 * reads elsewhere is read from the tables as they are before the write in both.
 */
export function afterRule(context: WhereContext, collection: CollectionModel, rule: Cond, changed: ReadonlySet<string>): Cond {
  if (context.access === undefined || context.access.rule(collection, "update") === true || !reads(rule, changed)) return TRUE;
  context.plan.afterChange();
  return planRule(context, collection, "update");
}

/**
 * The condition of an update of `id`: the record is one the caller can see and may update. And
 * the update rule's own part of it, which `afterRule` plans again for the record after the change.
 */
function planCondition(context: WhereContext, collection: CollectionModel, id: string): { condition: Cond; rule: Cond } {
  const byId = idCondition(context, id);
  const [readRule, rule] = planRules(context, collection, ["get", "update"]) as [Cond, Cond];
  return { condition: and(byId, readRule, rule), rule };
}

/** The columns `input` gives a value, which an update of it sets (with `updatedAt`). */
function givenColumns(collection: CollectionModel, input: Record<string, unknown>): ColumnModel[] {
  return collection.columns.filter((column) => input[column.name] !== undefined);
}

/** The columns an update of `input` may set: those it gives, a slug made anew, and `updatedAt`. */
export function changing(collection: CollectionModel, input: Record<string, unknown>): Set<string> {
  const names = new Set<string>(["updatedAt"]);
  for (const column of collection.columns) if (input[column.name] !== undefined) names.add(column.name);
  for (const generated of collection.generated) if (generated.kind === "slug" && generated.update) names.add(generated.column.name);
  return names;
}

/** Whether a planned condition reads one of `columns` of its own record (not of related ones). */
function reads(cond: Cond, columns: ReadonlySet<string>): boolean {
  switch (cond.t) {
    case "cmp":
    case "null":
    case "distinct":
    case "match":
      return columns.has(cond.column);
    case "in":
      return columns.has(cond.column.name);
    case "and":
    case "or":
      return cond.items.some((item) => reads(item, columns));
    case "not":
      return reads(cond.item, columns);
    case "one":
      return columns.has(cond.relation.column);
    case "many":
      return columns.has("id");
    case "const":
      return false;
  }
}

/**
 * The slots of a changed record's new values, by column: the changed columns from `first` on, in
 * `collection.columns` order, then `updatedAt`.
 */
export function changedSlots(changed: readonly ColumnModel[], first: number): Map<string, number> {
  const slots = new Map(changed.map((column, i) => [column.name, first + i]));
  slots.set("updatedAt", first + changed.length);
  return slots;
}
