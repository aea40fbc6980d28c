/**
 * @internal How a model column is declared in SQL: its type, nullability, default and reference.
 * @module
 */
import type { DialectDdl } from "../dialects/dialect.js";
import type { OnDelete } from "../define/field.js";
import type { ColumnModel } from "../model/model.js";
import { quoteIdentifier } from "./quote-identifier.js";

const ON_DELETE: Record<OnDelete, string> = { restrict: "RESTRICT", cascade: "CASCADE", setNull: "SET NULL" };

/**
 * @internal `createdAt` and `updatedAt`: the columns whose default is the current time.
 * @example
 * ```ts
 * isTimestamp(posts.columnsByName.get("createdAt")!); // true
 * ```
 */
export function isTimestamp(column: ColumnModel): boolean {
  return column.field === undefined && column.kind === "datetime";
}

/**
 * @internal The SQL default of a column, or `undefined` when it has none (or only `NULL`).
 * @example
 * ```ts
 * sqlDefault(runtime.ddl, "posts", posts.columnsByName.get("published")!); // "false" on PostgreSQL
 * ```
 */
export function sqlDefault(ddl: DialectDdl, table: string, column: ColumnModel): string | undefined {
  if (isTimestamp(column)) return ddl.currentTime;
  const value = column.sqlDefault?.value;
  if (value === undefined || value === null) return undefined;
  return ddl.literal(column.kind, value, `${table}.${column.name}`);
}

/**
 * @internal `REFERENCES "target" ("id") ON DELETE ...` for a belongsTo column.
 * @example
 * ```ts
 * referencesClause({ table: "users", onDelete: "setNull" }); // REFERENCES "users" ("id") ON DELETE SET NULL
 * ```
 */
export function referencesClause(references: NonNullable<ColumnModel["references"]>): string {
  return `REFERENCES ${quoteIdentifier(references.table)} ("id") ON DELETE ${ON_DELETE[references.onDelete]}`;
}

/**
 * @internal The column's definition in CREATE TABLE or ADD COLUMN. `withReference` inlines its
 * foreign key, where the dialect cannot add one later.
 * @example
 * ```ts
 * columnDefinition(runtime.ddl, "posts", views, { withReference: true }); // "views" INTEGER NOT NULL DEFAULT 0 on SQLite
 * ```
 */
export function columnDefinition(ddl: DialectDdl, table: string, column: ColumnModel, options: { withReference: boolean }): string {
  const parts = [quoteIdentifier(column.name), ddl.columnType(column.kind)];
  if (!column.nullable) parts.push("NOT NULL");
  if (column.kind === "id") parts.push("PRIMARY KEY");
  const fallback = sqlDefault(ddl, table, column);
  if (fallback !== undefined) parts.push(`DEFAULT ${fallback}`);
  if (options.withReference && column.references !== undefined) parts.push(referencesClause(column.references));
  return parts.join(" ");
}
