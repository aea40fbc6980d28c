/**
 * @internal The literals of column defaults in DDL, where no parameter can be bound (a default
 * is part of the statement text): the checks every dialect shares, spelled the dialect's way.
 * @module
 */
import { SchemaError } from "../errors/schema-error.js";
import type { ColumnKind } from "../model/model.js";

/** @internal How a dialect spells the literals of column defaults. */
export interface LiteralSpelling {
  /** The string literal of `value` (which holds no NUL). */
  string(value: string): string;
  boolean(value: boolean): string;
  /** The string literal of an ISO time, as a datetime. */
  datetime(literal: string): string;
  /** The string literal of a JSON text, as a JSON value. */
  json(literal: string): string;
}

function stringLiteral(spelling: LiteralSpelling, value: string, where: string): string {
  if (value.includes("\0")) {
    throw new SchemaError(`The default of "${where}" contains a NUL character, which a SQL literal cannot hold.`);
  }
  return spelling.string(value);
}

function numberLiteral(value: unknown, where: string): string {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new SchemaError(`The default of "${where}" must be a finite number, got ${String(value)}.`);
  }
  return String(value);
}

/**
 * @internal The SQL literal of a column default of kind `kind`, spelled by `spelling`; `where`
 * (`table.column`) names the column in errors.
 * @example
 * ```ts
 * ddlLiteral(SQLITE_LITERALS, "boolean", true, "posts.published"); // 1
 * ```
 */
export function ddlLiteral(spelling: LiteralSpelling, kind: ColumnKind, value: unknown, where: string): string {
  if (value === null || value === undefined) return "NULL";
  switch (kind) {
    case "boolean":
      if (typeof value !== "boolean") throw new SchemaError(`The default of "${where}" must be a boolean.`);
      return spelling.boolean(value);
    case "integer":
    case "number":
      return numberLiteral(value, where);
    case "datetime": {
      const date = value instanceof Date ? value : new Date(String(value));
      if (Number.isNaN(date.getTime())) throw new SchemaError(`The default of "${where}" is not a valid date.`);
      return spelling.datetime(stringLiteral(spelling, date.toISOString(), where));
    }
    case "json":
      return spelling.json(stringLiteral(spelling, JSON.stringify(value), where));
    case "id":
    case "text":
      return stringLiteral(spelling, String(value), where);
  }
}
