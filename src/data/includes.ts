/**
 * @internal The loading of included relations in a constant number of statements (one per
 * included relation, whatever the number of records), and the count of an answer's records
 * against a caller's budget.
 * @module
 */
import { sql, type SqlBool } from "kysely";
import { Slot } from "./compiled-query-cache.js";
import { execute, type DataContext } from "./context.js";
import { RowBudget, type ResolvedLimits } from "./limits.js";
import { orderTerms } from "./order.js";
import { decode, project, selectFrom, type Row } from "./rows.js";
import type { IncludePlan, ReadShape } from "./shape.js";
import { buildCond, TRUE } from "./where.js";

/** The row budget of a caller's operation, with `rows` already read; `undefined` for the system scope. */
export function budgetOf(limits: ResolvedLimits | undefined, rows: number): RowBudget | undefined {
  if (limits === undefined) return undefined;
  const budget = new RowBudget(limits.rowsPerRequest);
  budget.read(rows);
  return budget;
}

/**
 * Loads the includes of rows and projects them to the shape; with a budget (a caller's read),
 * refuses an answer of more records than it allows.
 */
export async function withIncludes(ctx: DataContext, shape: ReadShape, rows: Row[], budget: RowBudget | undefined): Promise<Row[]> {
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
    const query = ctx.cache.get(plan.key(capIndex < 0 ? "include" : "includeCapped"), values, () => {
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
