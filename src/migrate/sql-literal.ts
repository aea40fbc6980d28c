/**
 * @internal Identifiers and literals written into DDL, where no parameter can be bound (a
 * column default is part of the statement text).
 * @module
 */
import { SchemaError } from "../errors/schema-error.js";
import type { ColumnKind } from "../schema/model.js";
import type { DialectName } from "../schema/types.js";

/**
 * @internal `name` as a double-quoted SQL identifier.
 * @example
 * ```ts
 * quoteIdentifier('my "table"'); // "my ""table"""
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function stringLiteral(dialect: DialectName, value: string, where: string): string {
  if (value.includes("\0")) {
    throw new SchemaError(`The default of "${where}" contains a NUL character, which a SQL literal cannot hold.`);
  }
  const quoted = value.replaceAll("'", "''");
  // E'' reads the same whatever standard_conforming_strings says, once backslashes are doubled.
  return dialect === "postgres" ? `E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

function numberLiteral(value: unknown, where: string): string {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new SchemaError(`The default of "${where}" must be a finite number, got ${String(value)}.`);
  }
  return String(value);
}

/**
 * @internal The SQL literal of a column default of kind `kind`, stored the way the dialect
 * runtime encodes values (SQLite: booleans as 0/1, datetimes and JSON as text).
 * `where` (`table.column`) names the column in errors.
 * @example
 * ```ts
 * sqlLiteral("sqlite", "boolean", true, "posts.published");   // 1
 * sqlLiteral("postgres", "json", ["a"], "posts.tags");        // E'["a"]'::jsonb
 * sqlLiteral("sqlite", "text", "it's", "posts.title");       // 'it''s'
 * ```
 */
export function sqlLiteral(dialect: DialectName, kind: ColumnKind, value: unknown, where: string): string {
  if (value === null || value === undefined) return "NULL";
  switch (kind) {
    case "boolean":
      if (typeof value !== "boolean") throw new SchemaError(`The default of "${where}" must be a boolean.`);
      return dialect === "postgres" ? String(value) : value ? "1" : "0";
    case "integer":
    case "number":
      return numberLiteral(value, where);
    case "datetime": {
      const date = value instanceof Date ? value : new Date(String(value));
      if (Number.isNaN(date.getTime())) throw new SchemaError(`The default of "${where}" is not a valid date.`);
      const literal = stringLiteral(dialect, date.toISOString(), where);
      return dialect === "postgres" ? `${literal}::timestamptz` : literal;
    }
    case "json": {
      const literal = stringLiteral(dialect, JSON.stringify(value), where);
      return dialect === "postgres" ? `${literal}::jsonb` : literal;
    }
    case "id":
    case "text":
      return stringLiteral(dialect, String(value), where);
  }
}
