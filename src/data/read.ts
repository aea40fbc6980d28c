/**
 * @internal Reads: `list`, `get` and `count`.
 * @module
 */
import { sql } from "kysely";
import { accessFor, denied, type Access, type RuleValue } from "../access/caller-access.js";
import { invalidQuery as invalid } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { getStatement, keepPlan, matchKept, statementOf, verifyKept, type KeptMatch } from "./kept-plan.js";
import { planComputed } from "./computed.js";
import { execute, type DataContext } from "./context.js";
import { budgetOf, withIncludes } from "./includes.js";
import { encodeCursor, orderTerms, planAfterCursor, planOrder } from "./order.js";
import { checkId, checkLimits, checkOptions, limitsOf, planById, planReadShape, whereContext } from "./planning.js";
import { decode, project, selectFrom, type Row } from "./rows.js";
import { checkLimit, planShape, type ReadShape } from "./shape.js";
import { Plan, type StatementKey } from "./statement-key.js";
import { and, buildCond, FALSE, planRule, planWhere, TRUE, type Cond, type WhereContext } from "./where.js";

/** The default page size of `list`. */
export const DEFAULT_LIMIT = 100;

const LIST_OPTIONS = new Set(["where", "orderBy", "limit", "offset", "cursor", "count", "select", "include"]);
const READ_OPTIONS = new Set(["select", "include"]);
/** The options of a get given none: read, never changed. */
const NO_OPTIONS: Record<string, unknown> = Object.freeze({});


/** Decodes rows (fetched with their computed fields), loads their includes and projects them. */
async function finish(ctx: DataContext, shape: ReadShape, rows: Row[], access: Access | undefined): Promise<Row[]> {
  decode(shape, ctx, rows);
  return withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
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
  const maxLimit = ctx.trusted ? Infinity : ctx.shared.limits.maxLimit;
  const limit = options["limit"] === undefined ? Math.min(DEFAULT_LIMIT, maxLimit) : checkLimit(options["limit"], "limit");
  if (limit > maxLimit) invalid("limit", `at most ${maxLimit}`);
  const offset = options["offset"] === undefined ? 0 : checkLimit(options["offset"], "offset");
  const cursor = options["cursor"] ?? undefined;
  if (cursor !== undefined && typeof cursor !== "string") invalid("cursor", "expected the nextCursor of a previous page");
  if (cursor !== undefined && offset > 0) invalid("offset", "use either cursor or offset, not both");
  if (options["count"] !== undefined && typeof options["count"] !== "boolean") invalid("count", "expected a boolean");

  const access = await accessFor(ctx.trusted, ctx.user, model, collection, ["list"], options["where"], options["include"]);
  if (access !== undefined && access.rule(collection, "list") === false) {
    throw denied(ctx.user, `You may not list ${collection.name}.`);
  }
  const plan = new Plan(collection.name);
  const { where, context } = planFilter(ctx, plan, collection, access, options["where"], "list");
  const countKey = options["count"] === true ? plan.key("count") : undefined;
  const order = planOrder(collection, options["orderBy"], "orderBy", access);
  plan.order(order);
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
  plan.shape(shape.key);
  const computed = planComputed(context, shape);
  const limitIndex = plan.param(limit + 1);
  const offsetIndex = offset > 0 ? plan.param(offset) : -1;
  if (offsetIndex >= 0) plan.offset();

  const query = ctx.cache.get(plan.key("list"), plan.values, () => {
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
  if (countKey !== undefined) result.total = await countPlanned(ctx, collection, where, countKey, plan.values);
  return result;
}

async function countPlanned(
  ctx: DataContext,
  collection: CollectionModel,
  where: Cond,
  key: StatementKey,
  values: readonly unknown[],
): Promise<number> {
  const query = ctx.cache.get(key, values, () => {
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
  const access = await accessFor(ctx.trusted, ctx.user, ctx.model, collection, ["list"], options["where"]);
  if (access !== undefined && access.rule(collection, "list") === false) {
    throw denied(ctx.user, `You may not list ${collection.name}.`);
  }
  const plan = new Plan(collection.name);
  const { where } = planFilter(ctx, plan, collection, access, options["where"], "list");
  return countPlanned(ctx, collection, where, plan.key("count"), plan.values);
}

/**
 * Reads one record by id, or `null` (also when the caller may not see it). A get without
 * `select` or `include` of a collection without computed fields is planned once per shape of
 * its caller's rule (kept-plan.ts); the others are planned each time.
 */
export async function getRecord(
  ctx: DataContext,
  collection: CollectionModel,
  id: unknown,
  rawOptions: unknown,
): Promise<Row | null> {
  const key = checkId(id);
  const options = rawOptions === undefined ? NO_OPTIONS : checkOptions(rawOptions, READ_OPTIONS, "get");
  checkLimits(ctx, collection, options);
  let access = accessFor(ctx.trusted, ctx.user, ctx.model, collection, ["get"], undefined, options["include"]);
  if (access instanceof Promise) access = await access;
  const keeps = options["select"] === undefined && options["include"] === undefined && collection.computed.length === 0;
  if (!keeps) return getPlanned(ctx, collection, key, options, access, undefined);
  const rule = access === undefined ? undefined : access.rule(collection, "get");
  if (rule === false) {
    planReadShape(ctx, collection, options, access);
    return null;
  }
  const matched = matchKept(ctx.runtime, collection, "get", key, rule);
  if (matched === undefined) return getPlanned(ctx, collection, key, options, access, { rule, matched });
  const shape = planReadShape(ctx, collection, options, access);
  const statement = statementOf(matched, shape);
  if (statement === undefined) return getPlanned(ctx, collection, key, options, access, { rule, matched });
  const values = matched.values;
  const query = ctx.cache.get(statement.key, values, statement.build);
  if (ctx.cache.verifying) {
    const plan = new Plan(collection.name);
    planById(whereContext(ctx, plan, access), collection, key, ["get"]);
    plan.shape(shape.key);
    verifyKept(statement, values, plan.key("get"), plan.values);
  }
  const rows = (await execute<Row>(ctx, query)).rows;
  if (rows.length === 0) return null;
  // A get reads one row, within any budget: there are no includes to count.
  decode(shape, ctx, rows);
  return project(shape, rows)[0]!;
}

/** A get planned the way of every read; kept for the next of its shape when `keep` says so. */
async function getPlanned(
  ctx: DataContext,
  collection: CollectionModel,
  key: string,
  options: Record<string, unknown>,
  access: Access | undefined,
  keep: { rule: RuleValue | undefined; matched: KeptMatch | undefined } | undefined,
): Promise<Row | null> {
  const plan = new Plan(collection.name);
  if (keep !== undefined) plan.recorded = [];
  const context = whereContext(ctx, plan, access);
  const condition = planById(context, collection, key, ["get"]);
  const shape = planReadShape(ctx, collection, options, access);
  if (condition === FALSE) return null;
  plan.shape(shape.key);
  const computed = planComputed(context, shape);
  const statementKey = plan.key("get");
  const query = ctx.cache.get(statementKey, plan.values, () =>
    selectFrom(ctx, shape, "t0", computed).where(buildCond(ctx.runtime, condition, "t0")),
  );
  if (keep !== undefined) {
    const statement = getStatement(ctx.runtime, shape, statementKey, condition);
    keepPlan("get", ctx.runtime, collection, key, keep.rule, shape, statement, plan, plan.values.length, keep.matched);
  }
  const rows = (await execute<Row>(ctx, query)).rows;
  if (rows.length === 0) return null;
  return (await finish(ctx, shape, rows, access))[0]!;
}
