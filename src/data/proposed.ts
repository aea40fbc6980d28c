/**
 * @internal Rules over proposed records: the rows a create or an update would write, as a
 * derived table that a planned rule is built over. The rule is decided on the record's own new
 * values, while its relation filters read the tables as they are before the write: a write never
 * satisfies its own rule (a membership that makes its creator a team's owner is not proof that
 * the creator owns the team).
 * @module
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { buildCond, type Cond } from "./where.js";

/** The alias of a proposed row inside a write whose target table is `t0`. */
const PROPOSED = "p0";

/**
 * New records: `count` rows of bound values, each row's values in `collection.columns` order,
 * the first at slot `first`. One `select` per row, joined with `union all` (SQLite takes at most
 * 500 of them, the size of a create's batch).
 */
export function newRows(runtime: DialectRuntime, collection: CollectionModel, count: number, first: number): RawBuilder<unknown> {
  const width = collection.columns.length;
  const rows: RawBuilder<unknown>[] = [];
  for (let row = 0; row < count; row++) {
    const values = collection.columns.map(
      (column, i) => sql`${runtime.typed(new Slot(first + row * width + i), column.kind)} as ${sql.ref(column.name)}`,
    );
    rows.push(sql`select ${sql.join(values)}`);
  }
  return sql`(${sql.join(rows, sql` union all `)})`;
}

/**
 * A changed record: the row of the table aliased `alias` (in the statement around it) with the
 * columns named in `slots` set to those bound values.
 */
export function changedRow(
  runtime: DialectRuntime,
  collection: CollectionModel,
  alias: string,
  slots: ReadonlyMap<string, number>,
): RawBuilder<unknown> {
  const values = collection.columns.map((column) => {
    const slot = slots.get(column.name);
    const value = slot === undefined ? sql.ref(`${alias}.${column.name}`) : runtime.typed(new Slot(slot), column.kind);
    return sql`${value} as ${sql.ref(column.name)}`;
  });
  return sql`(select ${sql.join(values)})`;
}

/** Whether a planned rule holds for a proposed row (a `changedRow`), as a condition. */
export function holdsFor(runtime: DialectRuntime, row: RawBuilder<unknown>, rule: Cond): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from ${row} as ${sql.raw(PROPOSED)} where ${buildCond(runtime, rule, PROPOSED)})`;
}
