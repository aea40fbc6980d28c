/**
 * @internal Queries that tell, before any DDL runs, whether the data allows a change.
 * @module
 */
import { sql, type Kysely } from "kysely";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * @internal Whether `table` holds at least one row.
 * @example
 * ```ts
 * const refuse = !column.nullable && (await hasRows(trx, "posts"));
 * ```
 */
export async function hasRows(db: Kysely<any>, table: string): Promise<boolean> {
  const { rows } = await sql<{ one: number }>`select 1 as one from ${sql.raw(quoteIdentifier(table))} limit 1`.execute(db);
  return rows.length > 0;
}

/**
 * @internal How many distinct values of `columns` more than one row of `table` holds (rows with
 * a `NULL` among them excepted, as a unique index excepts them). With no columns, every row
 * holds the same (empty) value.
 * @example
 * ```ts
 * await countDuplicateValues(trx, "posts", ["slug"]); // 2: two slugs are each held by several rows
 * ```
 */
export async function countDuplicateValues(db: Kysely<any>, table: string, columns: readonly string[]): Promise<number> {
  const from = sql.raw(quoteIdentifier(table));
  if (columns.length === 0) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${from}`.execute(db);
    return Number(rows[0]!.n) > 1 ? 1 : 0;
  }
  const list = sql.raw(columns.map(quoteIdentifier).join(", "));
  const notNull = sql.raw(columns.map((column) => `${quoteIdentifier(column)} is not null`).join(" and "));
  const { rows } = await sql<{ n: number | string }>`
    select count(*) as n from (
      select 1 as one from ${from} where ${notNull} group by ${list} having count(*) > 1
    ) as duplicated`.execute(db);
  return Number(rows[0]!.n);
}

/**
 * @internal How many rows of `table` hold in `column` an id that `target` does not have; when
 * the target table does not exist yet, every non-null value counts.
 * @example
 * ```ts
 * await countDanglingReferences(trx, "posts", "author", "users", true); // 0: the key can be added
 * ```
 */
export async function countDanglingReferences(
  db: Kysely<any>,
  table: string,
  column: string,
  target: string,
  targetExists: boolean,
): Promise<number> {
  const from = sql.raw(quoteIdentifier(table));
  const value = sql.raw(`c.${quoteIdentifier(column)}`);
  const missing = targetExists
    ? sql`and not exists (select 1 from ${sql.raw(quoteIdentifier(target))} as r where r."id" = ${value})`
    : sql``;
  const { rows } = await sql<{ n: number | string }>`
    select count(*) as n from ${from} as c where ${value} is not null ${missing}`.execute(db);
  return Number(rows[0]!.n);
}
