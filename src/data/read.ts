/**
 * @internal Reads: `list`, `get` and `count`.
 * @module
 */
import { sql, type Compilable } from "kysely";
import { accessFor, denied, type Access, type RuleValue } from "../access/caller-access.js";
import { invalidQuery as invalid } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { getStatement, keepPlan, listedOf, listingOf, matchKept, statementOf, verifyKept, type KeptMatch, type KeptPage, type KeptStatement } from "./kept-plan.js";
import { planComputed } from "./computed.js";
import { execute, type DataContext } from "./context.js";
import { budgetOf, withIncludes } from "./includes.js";
import { encodeCursor, orderName, orderTerms, planAfterCursor, planOrder, type NamedOrder } from "./order.js";
import { checkId, checkLimits, checkOptions, limitsOf, planById, planReadShape, whereContext } from "./planning.js";
import { decode, project, selectColumns, selectFrom, type Row } from "./rows.js";
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

/** A list's page size, offset, cursor and whether it counts, checked. */
interface Paging {
  readonly limit: number;
  readonly offset: number;
  readonly cursor: string | undefined;
  readonly count: boolean;
}

/**
 * Lists records: the caller's filter AND its `list` rule, in SQL. A list without `select`,
 * `include` or `cursor` of a collection without computed fields is planned once per shape of its
 * filters and listing (kept-plan.ts); the others are planned each time.
 */
export async function listRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<ListResult> {
  const options = checkOptions(rawOptions, LIST_OPTIONS, "list");
  checkLimits(ctx, collection, options);
  const maxLimit = ctx.trusted ? Infinity : ctx.shared.limits.maxLimit;
  const limit = options["limit"] === undefined ? Math.min(DEFAULT_LIMIT, maxLimit) : checkLimit(options["limit"], "limit");
  if (limit > maxLimit) invalid("limit", `at most ${maxLimit}`);
  const offset = options["offset"] === undefined ? 0 : checkLimit(options["offset"], "offset");
  const cursor = options["cursor"] ?? undefined;
  if (cursor !== undefined && typeof cursor !== "string") invalid("cursor", "expected the nextCursor of a previous page");
  if (cursor !== undefined && offset > 0) invalid("offset", "use either cursor or offset, not both");
  if (options["count"] !== undefined && typeof options["count"] !== "boolean") invalid("count", "expected a boolean");
  const paging: Paging = { limit, offset, cursor, count: options["count"] === true };

  const access = await accessFor(ctx.trusted, ctx.user, ctx.model, collection, ["list"], options["where"], options["include"]);
  const rule = access === undefined ? undefined : access.rule(collection, "list");
  if (rule === false) throw denied(ctx.user, `You may not list ${collection.name}.`);
  const keeps = cursor === undefined && options["select"] === undefined && options["include"] === undefined && collection.computed.length === 0;
  if (!keeps) return listPlanned(ctx, collection, options, paging, access, undefined);
  const readable = planReadShape(ctx, collection, NO_OPTIONS, access).key;
  const filters = [options["where"], rule];
  const matched = matchKept(ctx.runtime, collection, "list", undefined, filters);
  const statement = matched === undefined ? undefined : listedOf(matched, readable, options["orderBy"], offset > 0, paging.count);
  if (statement === undefined) return listPlanned(ctx, collection, options, paging, access, { filters, readable, matched });
  const kept = statement.page!;
  const values = matched!.values;
  values.push(limit + 1);
  if (offset > 0) values.push(offset);
  const query = ctx.cache.get(statement.key, values, statement.build);
  if (ctx.cache.verifying) {
    verifyKept(statement, values, () => {
      const planned = planList(ctx, collection, options, paging, access, undefined);
      return { key: planned.key, values: planned.plan.values };
    });
  }
  const result = await page(ctx, kept, (await execute<Row>(ctx, query)).rows, limit, access);
  // Without a cursor, the condition is the filter the count counts.
  if (kept.count !== undefined) result.total = await countPlanned(ctx, collection, statement.condition, kept.count, values);
  return result;
}

/** What a list is kept by when it is planned: its filters' value, the fields its caller may read, and its rule's template if it had one. */
interface ListKeep {
  readonly filters: unknown[];
  readonly readable: string;
  readonly matched: KeptMatch | undefined;
}

/** A list planned: its statement, its plan, and what its page is read with. */
interface PlannedList {
  readonly key: StatementKey;
  readonly plan: Plan;
  readonly where: Cond;
  readonly page: KeptPage;
  readonly build: () => Compilable<unknown>;
  readonly condition: Cond;
  readonly conditionValues: number;
}

/** Plans a list the way of every read, recording its bound values when it is to be kept. */
function planList(
  ctx: DataContext,
  collection: CollectionModel,
  options: Record<string, unknown>,
  paging: Paging,
  access: Access | undefined,
  keep: ListKeep | undefined,
): PlannedList {
  const { runtime, model } = ctx;
  const plan = new Plan(collection.name);
  if (keep !== undefined) plan.recorded = [];
  const { where, context } = planFilter(ctx, plan, collection, access, options["where"], "list");
  const conditionValues = plan.values.length;
  const count = paging.count ? plan.key("count") : undefined;
  const order = planOrder(collection, options["orderBy"], "orderBy", access);
  const named: NamedOrder = { order, orderName: orderName(order) };
  plan.order(order);
  const after = paging.cursor === undefined ? TRUE : planAfterCursor(runtime, plan, named, paging.cursor);
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
  const limitIndex = plan.param(paging.limit + 1);
  const offsetIndex = paging.offset > 0 ? plan.param(paging.offset) : -1;
  if (offsetIndex >= 0) plan.offset();
  // The page's condition; `where` alone is what its count counts (the same without a cursor).
  const condition = and(where, after);
  // Kept beyond the request (kept-plan.ts): built from nothing of its caller's (no context, no value).
  const build = () => {
    let query = selectColumns(runtime, shape, "t0", computed);
    if (condition !== TRUE) query = query.where(buildCond(runtime, condition, "t0"));
    for (const term of orderTerms(order, "t0")) query = query.orderBy(term);
    query = query.limit(new Slot(limitIndex) as unknown as number);
    if (offsetIndex >= 0) query = query.offset(new Slot(offsetIndex) as unknown as number);
    return query;
  };
  return { key: plan.key("list"), plan, where, page: { shape, ...named, count }, build, condition, conditionValues };
}

/** A list planned the way of every read; kept for the next of its shape when `keep` says so. */
async function listPlanned(
  ctx: DataContext,
  collection: CollectionModel,
  options: Record<string, unknown>,
  paging: Paging,
  access: Access | undefined,
  keep: ListKeep | undefined,
): Promise<ListResult> {
  const planned = planList(ctx, collection, options, paging, access, keep);
  const { key, plan, where, page: kept, build, condition } = planned;
  const query = ctx.cache.get(key, plan.values, build);
  // A relation filter plans the related collection's rule and fields, which the kept shapes do not hold.
  const listing = keep === undefined || plan.related ? undefined : listingOf(keep.readable, options["orderBy"], paging.offset > 0, paging.count);
  if (listing !== undefined) {
    const statement: KeptStatement = { key, condition, build, page: kept };
    keepPlan("list", ctx.runtime, collection, undefined, keep!.filters, listing, statement, plan, planned.conditionValues, keep!.matched);
  }
  const result = await page(ctx, kept, (await execute<Row>(ctx, query)).rows, paging.limit, access);
  if (kept.count !== undefined) result.total = await countPlanned(ctx, collection, where, kept.count, plan.values);
  return result;
}

/** The page of a list's rows (one more than `limit` when there are more): decoded, with its includes, and the cursor after it. */
async function page(ctx: DataContext, listed: KeptPage, rows: Row[], limit: number, access: Access | undefined): Promise<ListResult> {
  const more = rows.length > limit;
  if (more) rows.pop();
  const shape = listed.shape;
  decode(shape, ctx, rows);
  const last = rows.at(-1);
  const nextCursor = more && last !== undefined ? encodeCursor(listed, last) : null;
  const items = await withIncludes(ctx, shape, rows, budgetOf(limitsOf(ctx, access), rows.length));
  return { items, nextCursor };
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
    verifyKept(statement, values, () => {
      const plan = new Plan(collection.name);
      planById(whereContext(ctx, plan, access), collection, key, ["get"]);
      plan.shape(shape.key);
      return { key: plan.key("get"), values: plan.values };
    });
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
