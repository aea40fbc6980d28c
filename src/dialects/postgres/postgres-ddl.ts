/**
 * @internal PostgreSQL's DDL, as the schema sync writes it: foreign keys added as constraints
 * once every table exists.
 * @module
 */
import type { ColumnKind } from "../../model/model.js";
import { ddlLiteral, type LiteralSpelling } from "../ddl-literal.js";
import type { DialectDdl } from "../dialect.js";

// Spelled as format_type() prints them, so that introspection compares equal.
const TYPES: Record<ColumnKind, string> = {
  id: "text",
  text: "text",
  integer: "bigint",
  number: "double precision",
  boolean: "boolean",
  datetime: "timestamp with time zone",
  json: "jsonb",
};

const LITERALS: LiteralSpelling = {
  // E'' reads the same whatever standard_conforming_strings says, once backslashes are doubled.
  string: (value) => `E'${value.replaceAll("'", "''").replaceAll("\\", "\\\\")}'`,
  boolean: (value) => String(value),
  datetime: (literal) => `${literal}::timestamptz`,
  json: (literal) => `${literal}::jsonb`,
};

/** @internal PostgreSQL's DDL. */
export const postgresDdl: DialectDdl = {
  displayName: "PostgreSQL",
  columnType: (kind) => TYPES[kind],
  sameType: (kind, liveType) => liveType === TYPES[kind],
  literal: (kind, value, where) => ddlLiteral(LITERALS, kind, value, where),
  currentTime: "now()",
  tableOptions: "",
  supportsAddForeignKey: true,
  addColumnLimit: () => undefined,
};
