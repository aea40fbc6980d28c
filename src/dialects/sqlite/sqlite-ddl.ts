/**
 * @internal SQLite's DDL, as the schema sync writes it: STRICT tables, types in capitals,
 * foreign keys declared inline (its ALTER TABLE cannot add one later).
 * @module
 */
import type { ColumnKind } from "../../model/model.js";
import { ddlLiteral, type LiteralSpelling } from "../ddl-literal.js";
import type { DialectDdl } from "../dialect.js";

const TYPES: Record<ColumnKind, string> = {
  id: "TEXT",
  text: "TEXT",
  integer: "INTEGER",
  number: "REAL",
  boolean: "INTEGER",
  datetime: "TEXT",
  json: "TEXT",
};

// Same text as Date#toISOString(), so rows written by SQL and by cimiento sort and parse alike.
const NOW = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))";

// Stored the way the runtime encodes values: booleans as 0/1, datetimes and JSON as text.
const LITERALS: LiteralSpelling = {
  string: (value) => `'${value.replaceAll("'", "''")}'`,
  boolean: (value) => (value ? "1" : "0"),
  datetime: (literal) => literal,
  json: (literal) => literal,
};

/** @internal SQLite's DDL. */
export const sqliteDdl: DialectDdl = {
  displayName: "SQLite",
  columnType: (kind) => TYPES[kind],
  // SQLite keeps a declared type as it was written, in any case.
  sameType: (kind, liveType) => liveType.toUpperCase() === TYPES[kind],
  literal: (kind, value, where) => ddlLiteral(LITERALS, kind, value, where),
  currentTime: NOW,
  tableOptions: " STRICT",
  supportsAddForeignKey: false,
  addColumnLimit(table, column, fallback) {
    // An inline reference may only be added with a NULL default (while foreign keys are on).
    if (column.references !== undefined && fallback !== undefined) {
      return {
        kind: "addForeignKey",
        reason: `SQLite cannot add a column that references "${column.references.table}" with a non-NULL default to a table that holds rows`,
      };
    }
    // ADD COLUMN takes constant defaults only.
    if (fallback === NOW) {
      return { kind: "addRequiredColumn", reason: `SQLite cannot fill the rows ${table} holds with the current time` };
    }
    return undefined;
  },
};
