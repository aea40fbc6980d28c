/**
 * @internal `where`: checked against the schema, planned into a condition tree with bound
 * values, then built into SQL.
 * @module
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from "kysely";
import { z } from "zod";
import type { Access } from "../access/caller-access.js";
import type { Operation } from "../define/rules.js";
import { ApiError, invalidQuery as invalid } from "../errors/api-error.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import { joinColumnOf, type CollectionModel, type ColumnModel, type Model, type RelationModel } from "../model/model.js";
import { FILTER_OPERATORS, type FilterOperator } from "../define/operators.js";
import { storableDate } from "../model/datetime.js";
import { NUL, NUL_REFUSED } from "../model/text.js";
import { Slot } from "./compiled-query-cache.js";
import { limitExceeded, type ResolvedLimits } from "./limits.js";
import type { Encoding, Plan } from "./statement-key.js";
import { isPlainObject } from "../define/object-keys.js";
import { describeValue } from "../model/field-messages.js";

/** A planned condition: SQL with every value replaced by its index in the plan. */
export type Cond =
  | { readonly t: "cmp"; readonly column: string; readonly op: "=" | "<" | "<=" | ">" | ">="; readonly p: number }
  | { readonly t: "null"; readonly column: string; readonly not: boolean }
  | { readonly t: "distinct"; readonly column: string; readonly p: number }
  | { readonly t: "in"; readonly column: ColumnModel; readonly p: number; readonly not: boolean }
  | { readonly t: "match"; readonly column: string; readonly p: number }
  | { readonly t: "and" | "or"; readonly items: readonly Cond[] }
  | { readonly t: "not"; readonly item: Cond }
  | { readonly t: "one"; readonly relation: RelationModel; readonly alias: string; readonly where: Cond }
  | {
      readonly t: "many";
      readonly quantifier: "some" | "none" | "every";
      readonly relation: RelationModel;
      readonly alias: string;
      readonly where: Cond;
      /** For `every`: which related records count (those the caller may list). */
      readonly visible?: Cond;
    }
  | { readonly t: "const"; readonly value: boolean };

/** What planning a filter needs besides the filter. */
export interface WhereContext {
  /** The statement the filter is planned into. */
  readonly plan: Plan;
  readonly runtime: DialectRuntime;
  readonly model: Model;
  /**
   * The caller's rules and field masks. `undefined` plans without them: for the system scope,
   * and for trusted code's own filter (see `trustedContext`).
   */
  readonly access: Access | undefined;
}

/**
 * The context that plans trusted code's own filter (a rule's, a computed field's) into the same
 * statement: without the caller's field masks and relation rules, which are there to restrict
 * the caller, not the code that decides for it.
 */
export function trustedContext(ctx: WhereContext): WhereContext {
  if (ctx.access === undefined) return ctx;
  return { plan: ctx.plan, runtime: ctx.runtime, model: ctx.model, access: undefined };
}

const OPERATORS = new Set<string>(FILTER_OPERATORS);
const COMPARE = { eq: "=", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;
const isoDatetime = z.iso.datetime({ offset: true });
export const TRUE: Cond = { t: "const", value: true };
export const FALSE: Cond = { t: "const", value: false };

/**
 * Checks a value compared with a column outside a filter (the value `upsert` looks a record up
 * by), as a filter's value is checked: `INVALID_QUERY` at `path` otherwise. Encoded for the driver.
 */
export function comparedValue(runtime: DialectRuntime, column: ColumnModel, value: unknown, path: string): unknown {
  return filterValue(runtime, column, value, path, true);
}

/** Checks one value against the column it is compared with, and encodes it for the driver. */
function filterValue(runtime: DialectRuntime, column: ColumnModel, value: unknown, path: string, strictEnum: boolean): unknown {
  switch (column.kind) {
    case "id":
    case "text": {
      if (typeof value !== "string") invalid(path, `expected a string, got ${describeValue(value)}`);
      if (value.includes(NUL)) invalid(path, NUL_REFUSED);
      const values = column.field?.values;
      if (strictEnum && values !== undefined && !values.includes(value)) {
        invalid(path, `"${value}" is not one of ${values.map((v) => `"${v}"`).join(", ")}`);
      }
      return value;
    }
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) invalid(path, `expected a whole number, got ${describeValue(value)}`);
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) invalid(path, `expected a number, got ${describeValue(value)}`);
      return value;
    case "boolean":
      if (typeof value !== "boolean") invalid(path, `expected a boolean, got ${describeValue(value)}`);
      return runtime.encode("boolean", value);
    case "datetime": {
      let date: Date | undefined;
      if (value instanceof Date) date = value;
      else if (typeof value === "string" && isoDatetime.safeParse(value).success) date = new Date(value);
      if (date === undefined || Number.isNaN(date.getTime())) {
        invalid(path, `expected a Date or an ISO 8601 date-time with a time zone, got ${describeValue(value)}`);
      }
      if (!storableDate(date)) invalid(path, "expected a date-time from year 1 to year 9999");
      return runtime.encode("datetime", date);
    }
    case "json":
      return invalid(path, "JSON fields can only be tested with isNull");
  }
}

/**
 * Checks and encodes a value of a filter, as planning does (`INVALID_QUERY` at `path` when it
 * does not fit the column): `value` for equality and lists' items, `ordered` for comparisons,
 * `list` for `in` / `notIn`, `pattern` for `contains`, `startsWith` and `endsWith`.
 */
export function encodeValue(runtime: DialectRuntime, column: ColumnModel, raw: unknown, path: string, encoding: Encoding, op: FilterOperator): unknown {
  switch (encoding) {
    case "value":
      return filterValue(runtime, column, raw, path, true);
    case "ordered":
      return filterValue(runtime, column, raw, path, false);
    case "list": {
      if (!Array.isArray(raw)) invalid(path, `expected an array, got ${describeValue(raw)}`);
      const encoded = raw.map((item, i) => filterValue(runtime, column, item, `${path}[${i}]`, true));
      return runtime.encodeList(column.kind, encoded);
    }
    case "pattern":
      if (typeof raw !== "string") invalid(path, `expected a string, got ${describeValue(raw)}`);
      if (raw.includes(NUL)) invalid(path, NUL_REFUSED);
      return runtime.encodePattern(op as "contains" | "startsWith" | "endsWith", raw);
  }
}

/** Binds a value of a filter to the plan (checked and encoded), recording it when the plan records. */
function bind(ctx: WhereContext, column: ColumnModel, raw: unknown, path: string, encoding: Encoding, op: FilterOperator): number {
  const plan = ctx.plan;
  const encoded = encodeValue(ctx.runtime, column, raw, path, encoding, op);
  const index = plan.param(encoded);
  plan.recorded?.push({ raw, encoded, index, column, path, encoding, op });
  return index;
}

function fieldFilter(ctx: WhereContext, column: ColumnModel, filter: Record<string, unknown>, path: string): Cond {
  const plan = ctx.plan;
  const items: Cond[] = [];
  for (const op of Object.keys(filter)) {
    const value = filter[op];
    if (value === undefined) continue;
    const at = `${path}.${op}`;
    if (column.kind === "json" && op !== "isNull") invalid(at, "JSON fields can only be tested with isNull");
    if (!OPERATORS.has(op)) {
      invalid(at, `unknown operator "${op}" (operators: ${FILTER_OPERATORS.join(", ")})`);
    }
    const operator = op as FilterOperator;
    switch (operator) {
      case "isNull":
        if (typeof value !== "boolean") invalid(at, `expected a boolean, got ${describeValue(value)}`);
        plan.nullTest(value);
        items.push({ t: "null", column: column.name, not: !value });
        break;
      case "eq":
      case "ne":
        if (value === null) {
          plan.nullTest(op === "eq");
          items.push({ t: "null", column: column.name, not: op === "ne" });
        } else {
          const p = bind(ctx, column, value, at, "value", operator);
          plan.operator(operator);
          items.push(op === "eq" ? { t: "cmp", column: column.name, op: "=", p } : { t: "distinct", column: column.name, p });
        }
        break;
      case "gt":
      case "gte":
      case "lt":
      case "lte": {
        if (column.kind === "boolean") invalid(at, "booleans cannot be ordered; use eq or ne");
        const p = bind(ctx, column, value, at, "ordered", operator);
        plan.operator(operator);
        items.push({ t: "cmp", column: column.name, op: COMPARE[operator], p });
        break;
      }
      case "in":
      case "notIn": {
        if (!Array.isArray(value)) invalid(at, `expected an array, got ${describeValue(value)}`);
        if (column.kind === "boolean") invalid(at, "use eq or ne on booleans");
        const p = bind(ctx, column, value, at, "list", operator);
        plan.operator(operator);
        items.push({ t: "in", column, p, not: op === "notIn" });
        break;
      }
      case "contains":
      case "startsWith":
      case "endsWith": {
        if (column.kind !== "text" && column.kind !== "id") invalid(at, `${op} applies to text fields only`);
        // bind() refuses what is not a string, or holds NUL.
        const p = bind(ctx, column, value, at, "pattern", operator);
        plan.operator(operator);
        items.push({ t: "match", column: column.name, p });
        break;
      }
    }
  }
  // An empty operator object constrains nothing.
  if (items.length === 0) return TRUE;
  return items.length === 1 ? items[0]! : { t: "and", items };
}

function isOperatorObject(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => OPERATORS.has(key));
}

function columnCondition(ctx: WhereContext, column: ColumnModel, value: unknown, path: string): Cond {
  const plan = ctx.plan;
  if (value === null) {
    plan.nullTest(true);
    return { t: "null", column: column.name, not: false };
  }
  if (isPlainObject(value)) return fieldFilter(ctx, column, value, path);
  if (column.kind === "json") invalid(path, "JSON fields can only be tested with isNull");
  const p = bind(ctx, column, value, path, "value", "eq");
  plan.operator("eq");
  return { t: "cmp", column: column.name, op: "=", p };
}

function listOf(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) invalid(path, `expected an array of filters, got ${describeValue(value)}`);
  return value;
}

/**
 * Plans each filter of an `and` / `or` list. An `undefined` filter (or a hole of a sparse array)
 * tests nothing, as `{}` does, and is planned as `{}`: its place in the list is in the key.
 */
function planFilters(ctx: WhereContext, collection: CollectionModel, list: unknown[], at: string): Cond[] {
  const parts: Cond[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    parts.push(planWhere(ctx, collection, item === undefined ? {} : item, `${at}[${i}]`));
  }
  return parts;
}

/**
 * Plans a filter on `collection` (the table aliased `alias`). Every field and operator is
 * checked against the schema; unknown ones are errors, never ignored.
 */
export function planWhere(ctx: WhereContext, collection: CollectionModel, where: unknown, path: string): Cond {
  if (where === undefined) return TRUE;
  if (!isPlainObject(where)) invalid(path, `expected an object, got ${describeValue(where)}`);
  const plan = ctx.plan;
  const items: Cond[] = [];
  plan.openFilter();
  for (const name of Object.keys(where)) {
    const value = where[name];
    if (value === undefined) continue;
    const at = `${path}.${name}`;
    plan.field(name);
    if (name === "and" || name === "or") {
      const parts = planFilters(ctx, collection, listOf(value, at), at);
      items.push(parts.length === 0 ? { t: "const", value: name === "and" } : { t: name, items: parts });
      continue;
    }
    if (name === "not") {
      items.push({ t: "not", item: planWhere(ctx, collection, value, at) });
      continue;
    }
    const column = visibleColumn(ctx, collection, name);
    const relation = visibleRelation(ctx, collection, name);
    if (relation?.kind === "one" && isPlainObject(value) && !isOperatorObject(value)) {
      plan.relation();
      const target = ctx.model.collections.get(relation.target)!;
      const alias = plan.alias();
      const inner = planWhere(ctx, target, value, at);
      items.push({ t: "one", relation, alias, where: and(inner, planRule(ctx, target, "list")) });
      continue;
    }
    if (column !== undefined) {
      items.push(columnCondition(ctx, column, value, at));
      continue;
    }
    if (relation?.kind === "many") {
      plan.relation();
      if (!isPlainObject(value)) invalid(at, "expected { some }, { none } or { every }");
      const target = ctx.model.collections.get(relation.target)!;
      for (const quantifier of Object.keys(value)) {
        if (value[quantifier] === undefined) continue;
        if (quantifier !== "some" && quantifier !== "none" && quantifier !== "every") {
          invalid(`${at}.${quantifier}`, `unknown relation operator "${quantifier}" (use some, none or every)`);
        }
        plan.quantifier(quantifier);
        const alias = plan.alias();
        const inner = planWhere(ctx, target, value[quantifier], `${at}.${quantifier}`);
        // Related records the caller may not list do not exist for it: they match no quantifier.
        const rule = planRule(ctx, target, "list");
        const where = quantifier === "every" ? inner : and(inner, rule);
        items.push({
          t: "many",
          quantifier,
          relation,
          alias,
          where,
          ...(quantifier === "every" ? { visible: rule } : {}),
        });
      }
      continue;
    }
    invalid(at, `"${name}" is not a field of "${collection.name}"`);
  }
  plan.closeFilter();
  if (items.length === 0) return TRUE;
  return items.length === 1 ? items[0]! : { t: "and", items };
}

/** A column the caller may see, or `undefined` (as for a name that is no field). */
function visibleColumn(ctx: WhereContext, collection: CollectionModel, name: string): ColumnModel | undefined {
  const column = collection.columnsByName.get(name);
  if (column === undefined || ctx.access === undefined || ctx.access.readable(column)) return column;
  return undefined;
}

/** A relation the caller may follow: it must see the column that joins it. */
function visibleRelation(ctx: WhereContext, collection: CollectionModel, name: string): RelationModel | undefined {
  const relation = collection.relations.get(name);
  if (relation === undefined || ctx.access === undefined) return relation;
  return ctx.access.readable(joinColumnOf(ctx.model, collection, relation)) ? relation : undefined;
}

/**
 * Plans the caller's rule for `operation` on `collection`: true, false, or its filter. A rule is
 * trusted code: its filter is planned without the caller's field masks and relation rules.
 * `TRUE` for the system scope.
 */
export function planRule(ctx: WhereContext, collection: CollectionModel, operation: Operation): Cond {
  const access = ctx.access;
  if (access === undefined) return TRUE;
  const value = access.rule(collection, operation);
  if (value === true || value === false) {
    ctx.plan.rule(value);
    return value ? TRUE : FALSE;
  }
  ctx.plan.rule("filter");
  try {
    return planWhere(trustedContext(ctx), collection, value, `access.${operation}`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    throw new Error(`The access rule ${collection.name}.${operation} returned an invalid filter: ${error.message}`);
  }
}

/**
 * Plans the caller's rules for `operations`, in turn: a rule whose filter is the same as an
 * earlier one's (as a blog's `get` and `update` often are) is not planned again, and is that
 * one's condition (which `and` then holds once).
 */
export function planRules(ctx: WhereContext, collection: CollectionModel, operations: readonly Operation[]): Cond[] {
  const conds: Cond[] = [];
  for (let i = 0; i < operations.length; i++) {
    const access = ctx.access;
    const value = access?.rule(collection, operations[i]!);
    let same = -1;
    if (typeof value === "object") for (let j = 0; j < i && same < 0; j++) if (sameFilter(access!.rule(collection, operations[j]!), value)) same = j;
    if (same < 0) conds.push(planRule(ctx, collection, operations[i]!));
    else {
      ctx.plan.sameRule();
      conds.push(conds[same]!);
    }
  }
  return conds;
}

/**
 * Whether two rule filters are the same: plain objects with the same keys in the same order,
 * arrays, `Date`s and primitives of the same values. Any other object (whose state its keys may
 * not show) is never the same as another.
 */
export function sameFilter(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  const prototype = Object.getPrototypeOf(a) as unknown;
  if (prototype !== Object.getPrototypeOf(b) || (prototype !== Object.prototype && prototype !== Array.prototype && prototype !== null)) return false;
  const keys = Object.keys(a);
  const others = Object.keys(b);
  if (keys.length !== others.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key !== others[i] || !sameFilter((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Combines conditions with AND, dropping the trivially true ones and a condition given twice. */
export function and(...conds: Cond[]): Cond {
  if (conds.some((cond) => cond.t === "const" && !cond.value)) return FALSE;
  const items = conds.filter((cond, i) => !(cond.t === "const" && cond.value) && conds.indexOf(cond) === i);
  if (items.length === 0) return TRUE;
  return items.length === 1 ? items[0]! : { t: "and", items };
}

function ref(alias: string, column: string): RawBuilder<unknown> {
  return sql.ref(`${alias}.${column}`);
}

/**
 * Builds the SQL of a planned condition over the table aliased `alias`. Conditions are
 * two-valued: a comparison with `NULL` counts as false, and `not` is "is not true", so
 * `not` always yields exactly the rows its operand does not.
 */
export function buildCond(runtime: DialectRuntime, cond: Cond, alias: string): Expression<SqlBool> {
  switch (cond.t) {
    case "const":
      return cond.value ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`;
    case "cmp":
      return sql<SqlBool>`${ref(alias, cond.column)} ${sql.raw(cond.op)} ${new Slot(cond.p)}`;
    case "null":
      return cond.not
        ? sql<SqlBool>`${ref(alias, cond.column)} is not null`
        : sql<SqlBool>`${ref(alias, cond.column)} is null`;
    case "distinct":
      return runtime.distinct(ref(alias, cond.column), new Slot(cond.p));
    case "in": {
      const test = runtime.inList(ref(alias, cond.column.name), new Slot(cond.p), cond.column.kind);
      return cond.not ? sql<SqlBool>`(${ref(alias, cond.column.name)} is null or not (${test}))` : test;
    }
    case "match":
      return runtime.match(ref(alias, cond.column), new Slot(cond.p));
    case "and":
    case "or": {
      const parts = cond.items.map((item) => buildCond(runtime, item, alias));
      return sql<SqlBool>`(${sql.join(parts, sql.raw(cond.t === "and" ? " and " : " or "))})`;
    }
    case "not":
      return sql<SqlBool>`((${buildCond(runtime, cond.item, alias)}) is not true)`;
    case "one": {
      const { relation, alias: inner } = cond;
      const target = sql`${sql.table(relation.target)} as ${sql.raw(inner)}`;
      const test = buildCond(runtime, cond.where, inner);
      if (runtime.relationFilters === "in") {
        return sql<SqlBool>`${ref(alias, relation.column)} in (select ${ref(inner, "id")} from ${target} where ${test})`;
      }
      return sql<SqlBool>`exists (select 1 from ${target} where ${ref(inner, "id")} = ${ref(alias, relation.column)} and ${test})`;
    }
    case "many": {
      const { relation, alias: inner } = cond;
      const test = buildCond(runtime, cond.where, inner);
      if (runtime.relationFilters === "in") {
        // Each subquery is evaluated once, whatever the number of rows: nested relation filters
        // cost the sum of their tables, not the product of their fan-outs. Joining columns that
        // are null are left out, so that NOT IN is never unknown.
        const joining = sql`${ref(inner, relation.column)} from ${sql.table(relation.target)} as ${sql.raw(inner)} where ${ref(inner, relation.column)} is not null`;
        if (cond.quantifier === "some") return sql<SqlBool>`${ref(alias, "id")} in (select ${joining} and ${test})`;
        if (cond.quantifier === "none") return sql<SqlBool>`${ref(alias, "id")} not in (select ${joining} and ${test})`;
        const counted = cond.visible === undefined || cond.visible === TRUE ? joining : sql`${joining} and ${buildCond(runtime, cond.visible, inner)}`;
        return sql<SqlBool>`${ref(alias, "id")} not in (select ${counted} and ((${test}) is not true))`;
      }
      const link = sql`${ref(inner, relation.column)} = ${ref(alias, "id")}`;
      if (cond.quantifier === "every") {
        const counted =
          cond.visible === undefined || cond.visible === TRUE ? link : sql`${link} and ${buildCond(runtime, cond.visible, inner)}`;
        return sql<SqlBool>`not exists (select 1 from ${sql.table(relation.target)} as ${sql.raw(inner)} where ${counted} and ((${test}) is not true))`;
      }
      const exists = sql<SqlBool>`exists (select 1 from ${sql.table(relation.target)} as ${sql.raw(inner)} where ${link} and ${test})`;
      return cond.quantifier === "some" ? exists : sql<SqlBool>`not ${exists}`;
    }
  }
}

/**
 * Checks a caller's filter against the backend's limits before anything walks it: at most
 * `whereDepth` levels of `and` / `or` / `not` and relation filters, and `whereConditions` tests
 * (an operator on a field, a relation filter; a filter of an `and` / `or` list that tests
 * nothing counts as one). `LIMIT_EXCEEDED` otherwise. What is not a filter is left to the
 * planner, which reports it.
 */
export function checkWhereSize(collection: CollectionModel, model: Model, where: unknown, limits: ResolvedLimits): void {
  let conditions = 0;
  const count = (added: number) => {
    conditions += added;
    if (conditions > limits.whereConditions) {
      limitExceeded("whereConditions", limits.whereConditions, `A where holds more than ${limits.whereConditions} conditions`);
    }
  };
  const walk = (target: CollectionModel, value: unknown, depth: number): void => {
    if (!isPlainObject(value)) return;
    if (depth > limits.whereDepth) limitExceeded("whereDepth", limits.whereDepth, `A where nests more than ${limits.whereDepth} levels deep`);
    for (const name of Object.keys(value)) {
      const item = value[name];
      if (item === undefined) continue;
      if (name === "and" || name === "or") {
        if (!Array.isArray(item)) continue;
        for (const part of item) {
          // Each filter of the list counts as one at least (`{}` tests nothing, and is still one
          // more term of the SQL), so that a list is bounded whatever its filters hold.
          const before = conditions;
          walk(target, part, depth + 1);
          if (conditions === before) count(1);
        }
        continue;
      }
      if (name === "not") {
        walk(target, item, depth + 1);
        continue;
      }
      const relation = target.relations.get(name);
      const related = relation === undefined ? undefined : model.collections.get(relation.target);
      if (relation !== undefined && related !== undefined && isPlainObject(item) && !isOperatorObject(item)) {
        count(1);
        if (relation.kind === "one") walk(related, item, depth + 1);
        else for (const quantifier of Object.keys(item)) walk(related, item[quantifier], depth + 1);
        continue;
      }
      count(isPlainObject(item) ? Math.max(1, Object.keys(item).length) : 1);
    }
  };
  walk(collection, where, 1);
}
