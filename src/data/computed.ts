/**
 * @internal Computed fields (`field.count`, `field.exists`): planned per statement, since their
 * filter may depend on the caller, and selected as correlated subqueries.
 * @module
 */
import { sql, type AliasedRawBuilder, type RawBuilder } from "kysely";
import { ApiError } from "../errors/api-error.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel, ComputedModel } from "../model/model.js";
import { and, buildCond, FALSE, planRule, planWhere, TRUE, trustedContext, type Cond, type WhereContext } from "./where.js";
import { isPlainObject } from "../define/object-keys.js";

/** A computed field planned for one statement: the related records it counts, under `alias`. */
export interface ComputedSelection {
  readonly field: ComputedModel;
  readonly alias: string;
  readonly where: Cond;
}

/** What planning computed fields needs of a read's shape: its collection and computed fields. */
export interface ComputedOf {
  readonly collection: CollectionModel;
  readonly computed: readonly ComputedModel[];
}

const NONE: readonly ComputedSelection[] = [];

/**
 * Plans the computed fields of a shape into the statement of `ctx`: the field's own filter
 * (trusted code, like a rule), AND the related collection's `list` rule for the caller.
 */
export function planComputed(ctx: WhereContext, shape: ComputedOf): readonly ComputedSelection[] {
  if (shape.computed.length === 0) return NONE;
  const user = ctx.access?.user ?? null;
  const name = shape.collection.name;
  return shape.computed.map((field) => {
    const target = ctx.model.collections.get(field.relation.target)!;
    const value: unknown = typeof field.where === "function" ? field.where({ user }) : field.where;
    if (typeof value !== "boolean" && !isPlainObject(value)) {
      throw new Error(`The where of the computed field ${name}.${field.name} returned ${value === null ? "null" : typeof value}; it returns true, false or a where filter.`);
    }
    ctx.plan.computed(field.name);
    const alias = ctx.plan.alias();
    let where: Cond = value === false ? FALSE : TRUE;
    if (isPlainObject(value)) {
      try {
        where = planWhere(trustedContext(ctx), target, value, `${name}.${field.name}.where`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        throw new Error(`The where of the computed field ${name}.${field.name} is not valid: ${error.message}`);
      }
    }
    if (where === FALSE) ctx.plan.countsNothing();
    else where = and(where, planRule(ctx, target, "list"));
    return { field, alias, where };
  });
}

/** The SQL of a computed field, for a record of the table aliased `outer`. */
function computedSql(runtime: DialectRuntime, selection: ComputedSelection, outer: string): RawBuilder<unknown> {
  const { field, alias, where } = selection;
  if (where === FALSE) return field.kind === "count" ? sql`0` : sql`1 = 0`;
  const relation = field.relation;
  const link = sql`${sql.ref(`${alias}.${relation.column}`)} = ${sql.ref(`${outer}.id`)}`;
  const test = where === TRUE ? link : sql`${link} and ${buildCond(runtime, where, alias)}`;
  const from = sql`from ${sql.table(relation.target)} as ${sql.raw(alias)} where ${test}`;
  return field.kind === "count" ? sql`(select count(*) ${from})` : sql`exists (select 1 ${from})`;
}

/** The select-list entries of computed fields, named after them. */
export function computedColumns(
  runtime: DialectRuntime,
  selections: readonly ComputedSelection[],
  outer: string,
): AliasedRawBuilder<unknown, string>[] {
  return selections.map((selection) => computedSql(runtime, selection, outer).as(selection.field.name));
}

/** Turns the driver's values of computed fields into numbers and booleans, in place. */
export function decodeComputed(runtime: DialectRuntime, shape: Pick<ComputedOf, "computed">, rows: Record<string, unknown>[]): void {
  for (const field of shape.computed) {
    const name = field.name;
    if (field.kind === "count") for (const row of rows) row[name] = Number(row[name]);
    else for (const row of rows) row[name] = runtime.decode("boolean", row[name]) === true;
  }
}
