/**
 * @internal `create`: one record, without hooks in one statement, its rule included (after one
 * statement per collection its `belongsTo` values point to, for a caller whose rule there is a
 * filter). The create rule is decided on the proposed record, against the tables as they are
 * before the write (see proposed.ts).
 * @module
 */
import { sql } from "kysely";
import { denied, type Access } from "../access/caller-access.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { complete } from "./complete.js";
import { execute, type DataContext } from "./context.js";
import { withGeneratedValues } from "./generated.js";
import { whereContext } from "./planning.js";
import { newRows } from "./proposed.js";
import { checkReferences } from "./references.js";
import { decodeAll, type Row } from "./rows.js";
import { Plan, statementKey } from "./statement-key.js";
import { buildCond, FALSE, planRule } from "./where.js";
import { ruleOf, shapeFor } from "./write-access.js";
import { withWriteErrors } from "./write-errors.js";
import { afterWrite, completeInput, inTransactionIf, needsTransaction } from "./write-hooks.js";
import { createInput, encodeRecord, newRecord } from "./write-input.js";

/** Creates one record and returns it as the caller reads it (with `select`/`include`). */
export async function createRecord(ctx: DataContext, collection: CollectionModel, data: unknown, options: unknown): Promise<Row> {
  const { access, shape } = await shapeFor(ctx, collection, options, "create", ["create"], data);
  if (ruleOf(access, collection, "create") === false) throw denied(ctx.user, `You may not create ${collection.name}.`);
  return inTransactionIf(ctx, needsTransaction(collection, "create"), async (c) => {
    const created = (await createOne(c, collection, access, data))!;
    return (await complete(c, shape, [created], access))[0]!;
  });
}

/**
 * The whole create of one record, in `ctx` (a transaction when hooks or generated values need
 * one); `undefined` when `conflict` names a unique column that already holds its value.
 */
export async function createOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  data: unknown,
  conflict?: string,
): Promise<Row | undefined> {
  const input = createInput(collection, access, data);
  await checkReferences(ctx, collection, access, [input]);
  const record = newRecord(collection, await completeInput(ctx, collection, input), new Date());
  const rule = ruleOf(access, collection, "create");
  // With a conflict to skip, an insert that writes nothing would not say why: the rule is
  // decided first, on its own.
  const checked = rule !== true && conflict === undefined;
  const created = await withGeneratedValues(ctx, collection, [record], async () => {
    if (rule !== true && !checked) await requireRule(ctx, collection, access, [record]);
    return insert(ctx, collection, access, record, checked, conflict);
  });
  if (created === undefined) {
    if (checked) throw denied(ctx.user, `You may not create this ${collection.name} record.`);
    return undefined;
  }
  await afterWrite(ctx, collection, "create", created, null);
  return created;
}

/**
 * Inserts one validated record; returns it whole and decoded, or `undefined` when it is not
 * written: when the caller's create rule (a filter, `checked` by the insert itself) does not
 * hold for it, or when `conflict` names a unique column that already holds its value.
 */
async function insert(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  record: Row,
  checked: boolean,
  conflict?: string,
): Promise<Row | undefined> {
  const values: unknown[] = [];
  encodeRecord(ctx, collection, record, values);
  let query;
  if (checked) {
    // INSERT ... SELECT ... WHERE <rule>: one statement, whose rule reads the tables as they are
    // before the row is in them.
    const plan = new Plan(collection.name);
    plan.values.push(...values);
    const rule = planRule(whereContext(ctx, plan, access), collection, "create");
    query = ctx.cache.get(plan.key("insertChecked"), plan.values, () => {
      const names = collection.columns.map((column) => column.name);
      const kysely = ctx.runtime.kysely;
      const proposed = kysely
        .selectFrom(newRows(ctx.runtime, collection, 1, 0).as("t0"))
        .select(names.map((name) => `t0.${name}`))
        .where(buildCond(ctx.runtime, rule, "t0"));
      return kysely.insertInto(collection.name).columns(names).expression(proposed).returningAll();
    });
  } else {
    const key = conflict === undefined ? statementKey("insert", collection.name) : statementKey("insert", collection.name, conflict);
    query = ctx.cache.get(key, values, () => {
      const insert = ctx.runtime.kysely
        .insertInto(collection.name)
        .values(Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(i)])));
      return (conflict === undefined ? insert : insert.onConflict((c) => c.column(conflict).doNothing())).returningAll();
    });
  }
  const rows = await withWriteErrors(ctx, collection, "write", record, async () => (await execute<Row>(ctx, query)).rows);
  decodeAll(ctx, collection, rows);
  return rows[0];
}

/**
 * Refuses the whole create when the caller's create rule does not hold for every new record,
 * decided against the tables as they are before any is written: one statement per batch.
 */
export async function requireRule(ctx: DataContext, collection: CollectionModel, access: Access | undefined, records: readonly Row[]): Promise<void> {
  const plan = new Plan(collection.name);
  const rule = planRule(whereContext(ctx, plan, access), collection, "create");
  const refused = () =>
    denied(ctx.user, `You may not create ${records.length === 1 ? "this" : "these"} ${collection.name} record${records.length === 1 ? "" : "s"}.`);
  if (rule === FALSE) throw refused();
  const width = collection.columns.length;
  const first = plan.values.length;
  const batchSize = Math.max(1, Math.min(500, Math.floor((ctx.runtime.maxParameters - first) / width)));
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    const values = [...plan.values];
    for (const record of batch) encodeRecord(ctx, collection, record, values);
    const query = ctx.cache.get(plan.key("createRule", batch.length), values, () =>
      ctx.runtime.kysely
        .selectFrom(newRows(ctx.runtime, collection, batch.length, first).as("t0"))
        .select(sql<number>`count(*)`.as("count"))
        .where(buildCond(ctx.runtime, rule, "t0")),
    );
    const count = Number((await execute<{ count: number | string }>(ctx, query)).rows[0]!.count);
    if (count !== batch.length) throw refused();
  }
}
