/**
 * @internal Reads: `list`, `get`, `count`, and the loading of included relations in a constant
 * number of statements (one per included relation, whatever the number of records).
 * @module
 */
import { sql, type SelectQueryBuilder, type SqlBool } from "kysely";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import { invalidQuery as invalid } from "../errors/api-error.js";
import type { CollectionModel } from "../schema/model.js";
import { NUL, NUL_REFUSED } from "../schema/text.js";
import { Slot } from "./compiled-query-cache.js";
import { execute, type DataContext } from "./context.js";
import { encodeCursor, orderKey, orderTerms, planAfterCursor, planOrder } from "./order.js";
import type { Operation } from "../access/rules.js";
import { Plan } from "./plan.js";
import { checkIncludeSize, checkLimit, planShape, type IncludePlan, type ReadShape } from "./shape.js";
import { RowBudget, type ResolvedLimits } from "./limits.js";
import { computedColumns, decodeComputed, planComputed, type ComputedSelection } from "./computed.js";
import { and, buildCond, checkWhereSize, FALSE, planRule, planWhere, TRUE, type Cond, type WhereContext } from "./where.js";

/** A row as it goes through decoding and includes. */
export type Row = Record<string, unknown>;

/** The default page size of `list`. */
export const DEFAULT_LIMIT = 100;

const LIST_OPTIONS = new Set(["where", "orderBy", "limit", "offset", "cursor", "count", "select", "include"]);
const READ_OPTIONS = new Set(["select", "include"]);


/** The planning context of one statement of `ctx`, for a caller's `access`. */
export function whereContext(ctx: DataContext, plan: Plan, access: Access | undefined): WhereContext {
  return { plan, runtime: ctx.runtime, model: ctx.model, aliases: 0, access };
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

function selectFrom(
  ctx: DataContext,
  shape: ReadShape,
  alias: string,
  computed: readonly ComputedSelection[],
): SelectQueryBuilder<any, any, Row> {
  const query = ctx.runtime.kysely
    .selectFrom(`${shape.collection.name} as ${alias}`)
    .select(shape.columns.map((column) => `${alias}.${column.name}`));
  return computed.length === 0 ? query : query.select(computedColumns(ctx.runtime, computed, alias));
}

/** Turns driver values into the values users see, in place. */
function decode(shape: ReadShape, ctx: DataContext, rows: Row[]): void {
  if (shape.computed.length > 0) decodeComputed(ctx.runtime, shape, rows);
  const decoded = shape.decoded;
  if (decoded.length === 0) return;
  const runtime = ctx.runtime;
  for (const row of rows) {
    for (const column of decoded) row[column.name] = runtime.decode(column.kind, row[column.name]);
  }
}

/** Keeps only the fields a `select` asked for (rows are rebuilt: deleting keys is slow). */
function project(shape: ReadShape, rows: Row[]): Row[] {
  const output = shape.output;
  if (output === undefined) return rows;
  return rows.map((row) => {
    const kept: Row = {};
    for (const name of output) kept[name] = row[name];
    return kept;
  });
}

/** The limits of a caller's operation: `undefined` for the system scope (whose access is `undefined`). */
function limitsOf(ctx: DataContext, access: Access | undefined): ResolvedLimits | undefined {
  return access === undefined ? undefined : ctx.shared.limits;
}

/**
 * Checks a caller's options against the backend's limits, before anything walks them (the
 * rules a filter or an include needs are found by walking them). Nothing for the system scope.
 */
export function checkLimits(ctx: DataContext, collection: CollectionModel, options: Record<string, unknown>): void {
  if (ctx.system) return;
  const limits = ctx.shared.limits;
  checkWhereSize(collection, ctx.model, options["where"], limits);
  checkIncludeSize(ctx.model, collection, options["include"], limits);
}

/**
 * Loads the includes of rows and projects them to the shape; with a budget (a caller's read),
 * refuses an answer of more records than it allows.
 */
async function withIncludes(ctx: DataContext, shape: ReadShape, rows: Row[], budget: RowBudget | undefined): Promise<Row[]> {
  for (const include of shape.includes) await loadInclude(ctx, include, rows, budget);
  const projected = project(shape, rows);
  if (budget !== undefined && shape.includes.length > 0) countPlaced(shape, projected, budget);
  return projected;
}

/**
 * Counts the records of an answer as it will be written out: a related record included in
 * several places is written at each, so it counts at each. Each distinct record is weighed
 * once (the answer holds shared objects), so the count costs what the answer holds, not what
 * it would print.
 */
function countPlaced(shape: ReadShape, rows: readonly Row[], budget: RowBudget): void {
  const weights = new Map<Row, number>();
  const weigh = (row: Row, of: ReadShape): number => {
    let weight = weights.get(row);
    if (weight !== undefined) return weight;
    weight = 1;
    for (const include of of.includes) {
      const value = row[include.relation.name];
      if (Array.isArray(value)) for (const item of value as Row[]) weight += weigh(item, include.shape);
      else if (value !== null && typeof value === "object") weight += weigh(value as Row, include.shape);
      if (weight > budget.max) budget.exceeded();
    }
    weights.set(row, weight);
    return weight;
  };
  let total = 0;
  for (const row of rows) {
    total += weigh(row, shape);
    if (total > budget.max) budget.exceeded();
  }
}

/** The row budget of a caller's operation; `undefined` for the system scope. */
function budgetOf(limits: ResolvedLimits | undefined, rows: number): RowBudget | undefined {
  if (limits === undefined) return undefined;
  const budget = new RowBudget(limits.rowsPerRequest);
  budget.read(rows);
  return budget;
}

/** Decodes rows (fetched with their computed fields), loads their includes and projects them. */
async function finish(ctx: DataContext, shape: ReadShape, rows: Row[], access: Access | undefined): Promise<Row[]> {
  decode(shape, ctx, rows);
  return withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
}

/**
 * Completes decoded rows that a write returned: computes their computed fields (one statement;
 * `null` for rows that no longer exist, after a delete), loads their includes and projects them
 * to the shape.
 */
export async function complete(
  ctx: DataContext,
  shape: ReadShape,
  rows: Row[],
  access: Access | undefined,
  exist = true,
): Promise<Row[]> {
  if (shape.computed.length > 0) {
    if (exist) await loadComputed(ctx, shape, rows, access);
    else for (const row of rows) for (const field of shape.computed) row[field.name] = null;
  }
  return withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
}

async function loadComputed(ctx: DataContext, shape: ReadShape, rows: Row[], access: Access | undefined): Promise<void> {
  if (rows.length === 0) return;
  const runtime = ctx.runtime;
  const plan = new Plan(`K:${shape.collection.name}|`);
  const context = whereContext(ctx, plan, access);
  const computed = planComputed(context, shape);
  const ids = plan.param(runtime.encodeList("text", rows.map((row) => row["id"])));
  const query = ctx.cache.get(plan.key, plan.values, () =>
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

/** Decodes rows holding every column of a collection, in place. */
export function decodeAll(ctx: DataContext, collection: CollectionModel, rows: Row[]): void {
  const runtime = ctx.runtime;
  for (const row of rows) {
    for (const column of collection.columns) {
      if (runtime.decodes(column.kind)) row[column.name] = runtime.decode(column.kind, row[column.name]);
    }
  }
}

async function loadInclude(ctx: DataContext, include: IncludePlan, rows: Row[], budget: RowBudget | undefined): Promise<void> {
  const { relation, shape, plan } = include;
  if (rows.length === 0) return;
  const one = relation.kind === "one";
  const keys = new Set<unknown>();
  for (const row of rows) {
    const key = row[one ? relation.column : "id"];
    if (key !== null) keys.add(key);
  }
  let related: Row[] = [];
  // Each related record's join key, taken before nested includes may replace it with a record.
  let joinKeys: unknown[] = [];
  if (keys.size > 0) {
    const values = [...plan.values, ctx.runtime.encodeList("text", [...keys])];
    const listIndex = plan.values.length;
    if (include.limit !== undefined) values.push(include.limit);
    // A caller's statement reads no more rows than its budget has left, plus one to tell.
    const capIndex = budget === undefined ? -1 : values.push(budget.cap) - 1;
    const query = ctx.cache.get(capIndex < 0 ? plan.key : `${plan.key}|cap`, values, () => {
      const joinColumn = one ? "id" : relation.column;
      const link = ctx.runtime.inList(sql.ref(`t0.${joinColumn}`), new Slot(listIndex), "text");
      const inner = selectFrom(ctx, shape, "t0", include.computed).where(
        include.where === TRUE ? link : sql<SqlBool>`${link} and ${buildCond(ctx.runtime, include.where, "t0")}`,
      );
      if (include.limit === undefined) {
        let query = inner;
        for (const term of orderTerms(include.order, "t0")) query = query.orderBy(term);
        return capIndex < 0 ? query : query.limit(new Slot(capIndex) as unknown as number);
      }
      const window = sql.join(orderTerms(include.order, "t0"));
      const numbered = inner.select(
        sql<number>`row_number() over (partition by ${sql.ref(`t0.${relation.column}`)} order by ${window})`.as("__rank"),
      );
      const ranked = ctx.runtime.kysely
        .selectFrom(numbered.as("ranked"))
        .select([...shape.columns, ...shape.computed].map((column) => `ranked.${column.name}`))
        .where("ranked.__rank", "<=", new Slot(listIndex + 1) as unknown as number)
        .orderBy("ranked.__rank");
      return capIndex < 0 ? ranked : ranked.limit(new Slot(capIndex) as unknown as number);
    });
    related = (await execute<Row>(ctx, query)).rows;
    budget?.read(related.length);
    // Includes of the related records, before projection drops the columns they join on.
    decode(shape, ctx, related);
    joinKeys = related.map((row) => row[one ? "id" : relation.column]);
    for (const nested of shape.includes) await loadInclude(ctx, nested, related, budget);
  }
  if (one) {
    const byId = new Map<unknown, Row>();
    const projected = project(shape, related);
    projected.forEach((row, i) => byId.set(joinKeys[i], row));
    for (const row of rows) {
      const key = row[relation.column];
      row[relation.name] = key === null ? null : (byId.get(key) ?? null);
    }
    return;
  }
  const groups = new Map<unknown, Row[]>();
  const projected = project(shape, related);
  projected.forEach((row, i) => {
    const key = joinKeys[i];
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = []));
    group.push(row);
  });
  for (const row of rows) row[relation.name] = groups.get(row["id"]) ?? [];
}

/** The result of `list`. */
export interface ListResult {
  items: Row[];
  nextCursor: string | null;
  total?: number;
}

/** Plans the filter of a read: the caller's `where` AND its rule for `operation`. */
function planFilter(
  ctx: DataContext,
  plan: Plan,
  collection: CollectionModel,
  access: Access | undefined,
  where: unknown,
  operation: "list" | "get",
): { where: Cond; context: WhereContext } {
  const context = whereContext(ctx, plan, access);
  const planned = planWhere(context, collection, where, "where");
  return { where: and(planned, planRule(context, collection, operation)), context };
}

/** Lists records: the caller's filter AND its `list` rule, in SQL. */
export async function listRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<ListResult> {
  const options = checkOptions(rawOptions, LIST_OPTIONS, "list");
  const { runtime, model } = ctx;
  checkLimits(ctx, collection, options);
  const maxLimit = ctx.system ? Infinity : ctx.shared.limits.maxLimit;
  const limit = options["limit"] === undefined ? Math.min(DEFAULT_LIMIT, maxLimit) : checkLimit(options["limit"], "limit");
  if (limit > maxLimit) invalid("limit", `at most ${maxLimit}`);
  const offset = options["offset"] === undefined ? 0 : checkLimit(options["offset"], "offset");
  const cursor = options["cursor"] ?? undefined;
  if (cursor !== undefined && typeof cursor !== "string") invalid("cursor", "expected the nextCursor of a previous page");
  if (cursor !== undefined && offset > 0) invalid("offset", "use either cursor or offset, not both");
  if (options["count"] !== undefined && typeof options["count"] !== "boolean") invalid("count", "expected a boolean");

  const access = await accessFor(ctx.system, ctx.user, model, collection, ["list"], options["where"], options["include"]);
  if (access !== undefined && access.rule(collection, "list") === false) {
    throw denied(ctx.user, `You may not list ${collection.name}.`);
  }
  const plan = new Plan(`L:${collection.name}|`);
  const { where, context } = planFilter(ctx, plan, collection, access, options["where"], "list");
  const whereKey = plan.key;
  const order = planOrder(collection, options["orderBy"], "orderBy", access);
  plan.key += `|o:${orderKey(order)}`;
  const after = cursor === undefined ? TRUE : planAfterCursor(runtime, plan, order, cursor);
  const shape = planShape(
    runtime,
    model,
    collection,
    options["select"],
    options["include"],
    "",
    access,
    limitsOf(ctx, access),
    order.map((key) => key.column),
  );
  plan.key += `|s:${shape.key}`;
  const computed = planComputed(context, shape);
  const limitIndex = plan.param(limit + 1);
  const offsetIndex = offset > 0 ? plan.param(offset) : -1;
  if (offsetIndex >= 0) plan.key += "|off";

  const query = ctx.cache.get(plan.key, plan.values, () => {
    let query = selectFrom(ctx, shape, "t0", computed);
    const condition = and(where, after);
    if (condition !== TRUE) query = query.where(buildCond(runtime, condition, "t0"));
    for (const term of orderTerms(order, "t0")) query = query.orderBy(term);
    query = query.limit(new Slot(limitIndex) as unknown as number);
    if (offsetIndex >= 0) query = query.offset(new Slot(offsetIndex) as unknown as number);
    return query;
  });
  const rows = (await execute<Row>(ctx, query)).rows;
  const more = rows.length > limit;
  if (more) rows.pop();
  decode(shape, ctx, rows);
  const last = rows.at(-1);
  const nextCursor = more && last !== undefined ? encodeCursor(order, last) : null;
  const items = await withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
  const result: ListResult = { items, nextCursor };
  if (options["count"] === true) result.total = await countPlanned(ctx, collection, where, whereKey, plan.values);
  return result;
}

async function countPlanned(
  ctx: DataContext,
  collection: CollectionModel,
  where: Cond,
  whereKey: string,
  values: readonly unknown[],
): Promise<number> {
  const query = ctx.cache.get(`C:${whereKey}`, values, () => {
    let query = ctx.runtime.kysely.selectFrom(`${collection.name} as t0`).select(sql<number>`count(*)`.as("count"));
    if (where !== TRUE) query = query.where(buildCond(ctx.runtime, where, "t0"));
    return query;
  });
  const rows = (await execute<{ count: number | string }>(ctx, query)).rows;
  return Number(rows[0]!.count);
}

/** Counts the records matching `where` that the caller may list. */
export async function countRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<number> {
  const options = checkOptions(rawOptions, new Set(["where"]), "count");
  checkLimits(ctx, collection, options);
  const access = await accessFor(ctx.system, ctx.user, ctx.model, collection, ["list"], options["where"]);
  if (access !== undefined && access.rule(collection, "list") === false) {
    throw denied(ctx.user, `You may not list ${collection.name}.`);
  }
  const plan = new Plan(`L:${collection.name}|`);
  const { where } = planFilter(ctx, plan, collection, access, options["where"], "list");
  return countPlanned(ctx, collection, where, plan.key, plan.values);
}

/** Checks an id argument. */
export function checkId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0) invalid("id", "expected a non-empty string");
  if (id.includes(NUL)) invalid("id", NUL_REFUSED);
  return id;
}

/** Checks `select`/`include` options and resolves the caller's access for them. */
export async function readAccess(
  ctx: DataContext,
  collection: CollectionModel,
  rawOptions: unknown,
  what: string,
  operations: readonly Operation[],
): Promise<{ options: Record<string, unknown>; access: Access | undefined }> {
  const options = checkOptions(rawOptions, READ_OPTIONS, what);
  checkLimits(ctx, collection, options);
  const access = await accessFor(ctx.system, ctx.user, ctx.model, collection, operations, undefined, options["include"]);
  return { options, access };
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
  const byId: Cond = { t: "cmp", column: "id", op: "=", p: context.plan.param(id) };
  return and(byId, ...operations.map((operation) => planRule(context, collection, operation)));
}

/** Whether the record exists for the caller under `operations`' rules. */
export async function reachable(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  operations: readonly Operation[],
): Promise<boolean> {
  const plan = new Plan(`E:${collection.name}|${operations.join(",")}|`);
  const condition = planById(whereContext(ctx, plan, access), collection, id, operations);
  if (condition === FALSE) return false;
  const query = ctx.cache.get(plan.key, plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${collection.name} as t0`)
      .select(sql<number>`1`.as("found"))
      .where(buildCond(ctx.runtime, condition, "t0")),
  );
  return (await execute(ctx, query)).rows.length > 0;
}

/** Reads one record by id, or `null` (also when the caller may not see it). */
export async function getRecord(
  ctx: DataContext,
  collection: CollectionModel,
  id: unknown,
  rawOptions: unknown,
): Promise<Row | null> {
  const key = checkId(id);
  const { options, access } = await readAccess(ctx, collection, rawOptions, "get", ["get"]);
  const plan = new Plan(`G:${collection.name}|`);
  const context = whereContext(ctx, plan, access);
  const condition = planById(context, collection, key, ["get"]);
  const shape = planReadShape(ctx, collection, options, access);
  if (condition === FALSE) return null;
  plan.key += `|s:${shape.key}`;
  const computed = planComputed(context, shape);
  const query = ctx.cache.get(plan.key, plan.values, () =>
    selectFrom(ctx, shape, "t0", computed).where(buildCond(ctx.runtime, condition, "t0")),
  );
  const rows = (await execute<Row>(ctx, query)).rows;
  if (rows.length === 0) return null;
  return (await finish(ctx, shape, rows, access))[0]!;
}
