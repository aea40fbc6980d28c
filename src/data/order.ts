/**
 * @internal `orderBy` and keyset cursors: a total order (the id breaks ties), and an opaque
 * cursor that resumes right after the last record of a page.
 * @module
 */
import { sql, type RawBuilder } from "kysely";
import type { Access } from "../access/caller-access.js";
import { apiError, invalidQuery as invalid } from "../errors/api-error.js";
import type { CollectionModel, ColumnModel } from "../model/model.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Cond } from "./where.js";
import type { Plan } from "./statement-key.js";
import { storableDate } from "../model/datetime.js";
import { NUL } from "../model/text.js";

/** One sort key. */
export interface SortKey {
  readonly column: ColumnModel;
  readonly desc: boolean;
}


/**
 * Checks `orderBy` and completes it with the id, in the direction of the last key, so that the
 * order is total. Without `orderBy`, records come in id order (creation order, for generated ids).
 */
export function planOrder(
  collection: CollectionModel,
  orderBy: unknown,
  path: string,
  access: Access | undefined,
): SortKey[] {
  const keys: SortKey[] = [];
  const list = orderBy === undefined ? [] : Array.isArray(orderBy) ? (orderBy as unknown[]) : [orderBy];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    const at = () => (Array.isArray(orderBy) ? `${path}[${i}]` : path);
    if (typeof item !== "object" || item === null) invalid(at(), 'expected an object like { createdAt: "desc" }');
    let name: string | undefined;
    let direction: unknown;
    for (const key of Object.keys(item)) {
      const value = (item as Record<string, unknown>)[key];
      if (value === undefined) continue;
      if (name !== undefined) invalid(at(), "each sort object names exactly one field; use an array for several, in order of precedence");
      name = key;
      direction = value;
    }
    if (name === undefined) invalid(at(), "each sort object names exactly one field; use an array for several, in order of precedence");
    const found = collection.columnsByName.get(name);
    // A field the caller may not see cannot be sorted on: the order would reveal its values.
    const column = found !== undefined && (access === undefined || access.readable(found)) ? found : undefined;
    if (column === undefined) invalid(`${at()}.${name}`, `"${name}" is not a field of "${collection.name}"`);
    if (!column.ordered) invalid(`${at()}.${name}`, "JSON fields cannot be sorted on");
    if (direction !== "asc" && direction !== "desc") invalid(`${at()}.${name}`, 'expected "asc" or "desc"');
    for (const key of keys) if (key.column === column) invalid(`${at()}.${name}`, `"${name}" is sorted on twice`);
    keys.push({ column, desc: direction === "desc" });
  }
  let hasId = false;
  for (const key of keys) if (key.column.name === "id") hasId = true;
  if (!hasId) keys.push({ column: collection.columnsByName.get("id")!, desc: keys.at(-1)?.desc ?? false });
  return keys;
}

/** An order and its name (`orderName`), which its cursors carry. */
export interface NamedOrder {
  readonly order: readonly SortKey[];
  readonly orderName: string;
}

/** The name of an order, which a cursor carries so that it is used with its own order only. */
export function orderName(keys: readonly SortKey[]): string {
  return keys.map((key) => `${key.column.name}${key.desc ? "-" : "+"}`).join(",");
}

/**
 * `ORDER BY` terms. `NULL`s sort first ascending and last descending on every database
 * (PostgreSQL's own default is the reverse), so pages read alike everywhere.
 */
export function orderTerms(keys: readonly SortKey[], alias: string | undefined): RawBuilder<unknown>[] {
  return keys.map(({ column, desc }) => {
    const ref = sql.ref(alias === undefined ? column.name : `${alias}.${column.name}`);
    if (!column.nullable) return desc ? sql`${ref} desc` : sql`${ref} asc`;
    return desc ? sql`${ref} desc nulls last` : sql`${ref} asc nulls first`;
  });
}

// ---------------------------------------------------------------------------------------------
// Cursors

/** The cursor after `row`: the values of its sort keys, and the name of the order they belong to. */
export function encodeCursor({ order, orderName: name }: NamedOrder, row: Record<string, unknown>): string {
  const values = order.map(({ column }) => {
    const value = row[column.name];
    return value instanceof Date ? value.toISOString() : value;
  });
  return Buffer.from(JSON.stringify([name, values])).toString("base64url");
}

function badCursor(message: string): never {
  throw apiError("INVALID_CURSOR", `cursor: ${message}`);
}

function cursorValue(runtime: DialectRuntime, column: ColumnModel, value: unknown): unknown {
  if (value === null) {
    if (!column.nullable) badCursor("it does not belong to this query");
    return null;
  }
  switch (column.kind) {
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) badCursor("it is malformed");
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) badCursor("it is malformed");
      return value;
    case "boolean":
      if (typeof value !== "boolean") badCursor("it is malformed");
      return runtime.encode("boolean", value);
    case "datetime": {
      const date = typeof value === "string" ? new Date(value) : undefined;
      if (date === undefined || !storableDate(date)) badCursor("it is malformed");
      return runtime.encode("datetime", date);
    }
    default:
      if (typeof value !== "string" || value.includes(NUL)) badCursor("it is malformed");
      return value;
  }
}

/**
 * Plans "strictly after the cursor" in the given order: the lexicographic comparison
 * `(k1, k2, ...) > (v1, v2, ...)`, spelled out so that `NULL` keys sort as documented.
 */
export function planAfterCursor(runtime: DialectRuntime, plan: Plan, { order: keys, orderName: name }: NamedOrder, cursor: string): Cond {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    badCursor("it is malformed");
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !Array.isArray(decoded[1])) badCursor("it is malformed");
  if (decoded[0] !== name) badCursor("it belongs to another orderBy");
  const values = decoded[1] as unknown[];
  if (values.length !== keys.length) badCursor("it is malformed");
  const encoded = keys.map((key, i) => cursorValue(runtime, key.column, values[i]));
  plan.after(encoded);

  const alternatives: Cond[] = [];
  for (let i = 0; i < keys.length; i++) {
    const parts: Cond[] = [];
    for (let j = 0; j < i; j++) {
      const column = keys[j]!.column.name;
      parts.push(
        encoded[j] === null
          ? { t: "null", column, not: false }
          : { t: "cmp", column, op: "=", p: plan.param(encoded[j]) },
      );
    }
    const { column, desc } = keys[i]!;
    const value = encoded[i];
    if (value === null) {
      // Ascending, NULLs come first: everything non-null is after. Descending, NULLs come last.
      if (desc) continue;
      parts.push({ t: "null", column: column.name, not: true });
    } else {
      const after: Cond = { t: "cmp", column: column.name, op: desc ? "<" : ">", p: plan.param(value) };
      parts.push(
        desc && column.nullable ? { t: "or", items: [after, { t: "null", column: column.name, not: false }] } : after,
      );
    }
    alternatives.push(parts.length === 1 ? parts[0]! : { t: "and", items: parts });
  }
  if (alternatives.length === 0) return { t: "const", value: false };
  return alternatives.length === 1 ? alternatives[0]! : { t: "or", items: alternatives };
}
