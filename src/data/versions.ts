/**
 * @internal Versions of records, as a subscriber reads them: rows the event log kept (a record
 * before or after a write), read through the subscriber's `list` rule and `where` with its
 * `select` and `include`, in one statement over the rows as a derived table. The rule and the
 * filter are decided on the version's own values, their relation filters on the tables as they
 * are when the statement runs, like any read.
 * @module
 */
import { sql } from "kysely";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { computedColumns, planComputed } from "./computed.js";
import { execute, type DataContext } from "./context.js";
import { budgetOf, withIncludes } from "./includes.js";
import { checkLimits, checkOptions, limitsOf, whereContext } from "./planning.js";
import { decode, type Row } from "./rows.js";
import { planShape } from "./shape.js";
import { Plan } from "./statement-key.js";
import { and, buildCond, FALSE, planRule, planWhere, TRUE } from "./where.js";

const SUBSCRIBE_OPTIONS = new Set(["where", "select", "include"]);

/** The column of a version's place in its batch: not a field name (those begin with a letter). */
const POSITION = "$position";

/** The most versions one statement reads. */
const BATCH = 200;

/** The options of a subscription, checked: what `readVersions` takes. */
export interface VersionQuery {
  readonly collection: CollectionModel;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Checks a subscription's options (`where`, `select`, `include`) for the context's caller as
 * `list` would, and that it may list the collection at all; throws what `list` throws.
 */
export async function checkVersionQuery(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<VersionQuery> {
  const options = checkOptions(rawOptions, SUBSCRIBE_OPTIONS, "subscribe");
  const query = { collection, options };
  const access = await accessOf(ctx, query);
  if (access !== undefined && access.rule(collection, "list") === false) throw denied(ctx.user, `You may not list ${collection.name}.`);
  // Planned once now, so that a malformed where, select or include fails the subscription.
  await readVersions(ctx, query, []);
  return query;
}

function accessOf(ctx: DataContext, query: VersionQuery): Promise<Access | undefined> | Access | undefined {
  checkLimits(ctx, query.collection, query.options);
  return accessFor(ctx.trusted, ctx.user, ctx.model, query.collection, ["list"], query.options["where"], query.options["include"]);
}

/**
 * Each version (the columns of a record as the database is given them, by name) as the
 * context's caller reads it under `query`, or `undefined` where its `list` rule or the `where`
 * does not hold for it.
 */
export async function readVersions(ctx: DataContext, query: VersionQuery, versions: readonly Row[]): Promise<(Row | undefined)[]> {
  const { collection, options } = query;
  const { runtime, model } = ctx;
  const access = await accessOf(ctx, query);
  const read = new Array<Row | undefined>(versions.length).fill(undefined);
  if (access !== undefined && access.rule(collection, "list") === false) return read;
  const plan = new Plan(collection.name);
  const context = whereContext(ctx, plan, access);
  const where = and(planWhere(context, collection, options["where"], "where"), planRule(context, collection, "list"));
  const shape = planShape(runtime, model, collection, options["select"], options["include"], "", access, limitsOf(ctx, access));
  plan.shape(shape.key);
  const computed = planComputed(context, shape);
  if (where === FALSE) return read;
  const width = collection.columns.length + 1;
  const first = plan.values.length;
  const size = Math.max(1, Math.min(BATCH, Math.floor((runtime.maxParameters - first) / width)));
  for (let start = 0; start < versions.length; start += size) {
    const batch = versions.slice(start, start + size);
    const values = plan.values.slice();
    batch.forEach((version, i) => {
      for (const column of collection.columns) values.push(version[column.name] ?? null);
      values.push(start + i);
    });
    const statement = ctx.cache.get(plan.key("versions", batch.length), values, () => {
      const rows = [];
      for (let row = 0; row < batch.length; row++) {
        const at = first + row * width;
        const columns = collection.columns.map((column, i) => sql`${runtime.typed(new Slot(at + i), column.kind)} as ${sql.ref(column.name)}`);
        columns.push(sql`${runtime.typed(new Slot(at + width - 1), "integer")} as ${sql.ref(POSITION)}`);
        rows.push(sql`select ${sql.join(columns)}`);
      }
      let select = runtime.kysely
        .selectFrom(sql`(${sql.join(rows, sql` union all `)})`.as("t0"))
        .select(shape.columns.map((column) => `t0.${column.name}`))
        .select(sql.ref(`t0.${POSITION}`).as(POSITION));
      if (computed.length > 0) select = select.select(computedColumns(runtime, computed, "t0"));
      return where === TRUE ? select : select.where(buildCond(runtime, where, "t0"));
    });
    const rows = (await execute<Row>(ctx, statement)).rows;
    const positions = rows.map((row) => {
      const position = Number(row[POSITION]);
      delete row[POSITION];
      return position;
    });
    decode(shape, ctx, rows);
    const records = await withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
    records.forEach((record, i) => (read[positions[i]!] = record));
  }
  return read;
}
