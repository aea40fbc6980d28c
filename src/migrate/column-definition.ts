/**
 * @internal How a model column is declared in SQL: its type, nullability, default and reference.
 * @module
 */
import type { OnDelete } from "../schema/field.js";
import type { ColumnKind, ColumnModel } from "../schema/model.js";
import type { DialectName } from "../schema/types.js";
import { quoteIdentifier, sqlLiteral } from "./sql-literal.js";

const SQL_TYPES: Record<DialectName, Record<ColumnKind, string>> = {
  sqlite: {
    id: "TEXT",
    text: "TEXT",
    integer: "INTEGER",
    number: "REAL",
    boolean: "INTEGER",
    datetime: "TEXT",
    json: "TEXT",
  },
  // Spelled as format_type() prints them, so that introspection compares equal.
  postgres: {
    id: "text",
    text: "text",
    integer: "bigint",
    number: "double precision",
    boolean: "boolean",
    datetime: "timestamp with time zone",
    json: "jsonb",
  },
};

// Same text as Date#toISOString(), so rows written by SQL and by cimiento sort and parse alike.
const SQLITE_NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))";

const ON_DELETE: Record<OnDelete, string> = { restrict: "RESTRICT", cascade: "CASCADE", setNull: "SET NULL" };

/**
 * @internal The SQL type of a column kind.
 * @example
 * ```ts
 * sqlType("postgres", "datetime"); // "timestamp with time zone"
 * ```
 */
export function sqlType(dialect: DialectName, kind: ColumnKind): string {
  return SQL_TYPES[dialect][kind];
}

/**
 * @internal Whether a live type is the one a column kind needs (SQLite spells types any case).
 * @example
 * ```ts
 * sameType("sqlite", "integer", "integer"); // true
 * ```
 */
export function sameType(dialect: DialectName, kind: ColumnKind, liveType: string): boolean {
  const expected = sqlType(dialect, kind);
  return dialect === "sqlite" ? liveType.toUpperCase() === expected : liveType === expected;
}

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
 * sqlDefault("postgres", "posts", posts.columnsByName.get("published")!); // "false"
 * ```
 */
export function sqlDefault(dialect: DialectName, table: string, column: ColumnModel): string | undefined {
  if (isTimestamp(column)) return dialect === "postgres" ? "now()" : SQLITE_NOW;
  const value = column.sqlDefault?.value;
  if (value === undefined || value === null) return undefined;
  return sqlLiteral(dialect, column.kind, value, `${table}.${column.name}`);
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
 * foreign key (SQLite); PostgreSQL adds foreign keys as constraints once every table exists.
 * @example
 * ```ts
 * columnDefinition("sqlite", "posts", views, { withReference: true }); // "views" INTEGER NOT NULL DEFAULT 0
 * ```
 */
export function columnDefinition(
  dialect: DialectName,
  table: string,
  column: ColumnModel,
  options: { withReference: boolean },
): string {
  const parts = [quoteIdentifier(column.name), sqlType(dialect, column.kind)];
  if (!column.nullable) parts.push("NOT NULL");
  if (column.kind === "id") parts.push("PRIMARY KEY");
  const fallback = sqlDefault(dialect, table, column);
  if (fallback !== undefined) parts.push(`DEFAULT ${fallback}`);
  if (options.withReference && column.references !== undefined) parts.push(referencesClause(column.references));
  return parts.join(" ");
}
