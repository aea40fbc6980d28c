/**
 * @internal The identity of a statement: every kind of statement the data layer compiles, and
 * the key that names one statement's shape in the compiled-query cache. Keys are built here
 * only, from the choices planning records, so that the grammar that keeps two shapes apart is
 * in one place.
 * @module
 */
import type { ColumnModel, ComputedModel } from "../model/model.js";
import type { FilterOperator } from "../define/operators.js";

/**
 * Every kind of statement, once: the first part of its keys. Keys of two kinds never meet (a
 * kind is a word without the `:` that ends it), so a kind named twice would be a compile error
 * (a duplicate property) and a new kind cannot take another's keys.
 */
const STATEMENT_KINDS = {
  list: "the records of a page of `list`",
  count: "the number of records a filter reaches (`count`, `list` with `count`)",
  get: "one record by id, for `get`",
  include: "the related records of an included relation, for every record at once",
  includeCapped: "the same, reading at most what the caller's row budget has left",
  computed: "the computed fields of records a write returns",
  exists: "whether a record exists for the caller under some rules (NOT_FOUND or FORBIDDEN)",
  readable: "which of some ids name records the caller may get (its `belongsTo` values)",
  insert: "the insert of one record",
  insertChecked: "the insert of one record that holds the caller's create rule",
  insertMany: "the insert of a batch of `createMany`",
  createRule: "how many of a batch of new records the caller's create rule holds for",
  update: "the update of one record by id",
  updateWhere: "the update of every record an `updateMany` reaches",
  updateCheck: "whether an `updateMany` would move some record out of the caller's update rule",
  delete: "the delete of one record by id",
  deleteWhere: "the delete of every record a `deleteMany` reaches",
  whole: "one whole record, read for the hooks of its write",
  ids: "the ids of the records a many-write reaches, when it goes record by record",
  upsertFind: "the id of the record an upsert names by a unique value",
  versions: "which of some versions of records (kept by the event log) a subscriber may list, as it reads them",
} as const satisfies Record<string, string>;

/** A kind of statement (see `STATEMENT_KINDS`). */
export type StatementKind = keyof typeof STATEMENT_KINDS;

/** Every kind of statement, in the order they are declared. */
export const statementKinds = Object.keys(STATEMENT_KINDS) as StatementKind[];

const KIND = /^[a-z][A-Za-z]*$/;
const PREFIX = Object.create(null) as Record<StatementKind, string>;
for (const kind of statementKinds) {
  // A kind holds no character of the grammar, so that no key of one kind begins another's.
  if (!KIND.test(kind)) throw new Error(`The statement kind "${kind}" is not a word of letters.`);
  PREFIX[kind] = `${kind}:`;
}

declare const statement: unique symbol;
/** The key of one statement's shape: made by this module only (`Plan.key`, `statementKey`). */
export type StatementKey = string & { readonly [statement]: true };

declare const shape: unique symbol;
/** The key part of the columns and computed fields a read fetches (see `shapeKey`). */
export type ShapeKey = string & { readonly [shape]: true };

/**
 * The key of a statement that is planned from nothing but `parts` (names of the schema, or
 * numbers): those of `kind` built with the same parts must compile to the same SQL.
 */
export function statementKey(kind: StatementKind, ...parts: readonly (string | number)[]): StatementKey {
  let key = `${PREFIX[kind]}#`;
  for (const part of parts) key += `${part}|`;
  return key as StatementKey;
}

/** The key part of the columns a read fetches and the computed fields it selects, in order. */
export function shapeKey(columns: readonly ColumnModel[], computed: readonly ComputedModel[]): ShapeKey {
  let key = "";
  for (const column of columns) key += `${column.name},`;
  if (computed.length > 0) {
    key += "|c:";
    for (const field of computed) key += `${field.name},`;
  }
  return key as ShapeKey;
}

/** How a value of a filter is checked and encoded: what `encodeValue` (where.ts) does with it. */
export type Encoding = "value" | "ordered" | "list" | "pattern";

/**
 * One value a filter bound, as planning recorded it (when its plan records, see `Plan.recorded`):
 * where it came from and how it was encoded, so that another value in the same place of a
 * filter of the same shape can be bound without planning it again.
 */
export interface BoundValue {
  /** The value as the filter held it. */
  readonly raw: unknown;
  /** The value bound (`raw` checked and encoded). */
  readonly encoded: unknown;
  /** Its index in the plan's values. */
  readonly index: number;
  readonly column: ColumnModel;
  readonly path: string;
  readonly encoding: Encoding;
  readonly op: FilterOperator;
}

/** One sort key, as an order is recorded. */
interface Sorted {
  readonly column: { readonly name: string };
  readonly desc: boolean;
}

/**
 * One statement being planned: its bound values, its table aliases, and the choices of its SQL
 * (fields, operators, nesting, which values are null, rules, shapes) recorded in the order they
 * are made. Two plans that recorded the same choices build the same SQL, so every choice that
 * changes the SQL is recorded, and no value.
 *
 * The choices are written as a string, built as they are made (no tree is serialized per call):
 * names of the schema (letters, digits, `_`) and the marks below, which are none of those.
 */
export class Plan {
  readonly values: unknown[] = [];
  /**
   * The values filters bound, with where each came from, when the plan records them (see
   * `BoundValue` in where.ts): set by a planner that keeps a plan of the statement's shape.
   */
  recorded: BoundValue[] | undefined;
  #key: string;
  #aliases = 0;
  #related = false;

  /** A plan of a statement about `about`: the collection, and what else its SQL is built from. */
  constructor(...about: readonly string[]) {
    let key = "";
    for (const name of about) key += `${name}|`;
    this.#key = key;
  }

  /** Adds a bound value; returns its index for a `Slot`. */
  param(value: unknown): number {
    return this.values.push(value) - 1;
  }

  /** The next table alias of the statement: `t1`, `t2`, ... (`t0` is its own table). */
  alias(): string {
    return `t${++this.#aliases}`;
  }

  /** A filter on a relation is planned (which plans the related collection's rule and fields too). */
  relation(): void {
    this.#related = true;
  }

  /** Whether a filter on a relation was planned, even one that tests nothing. */
  get related(): boolean {
    return this.#related;
  }

  /**
   * The key of the statement of `kind` built from the choices recorded so far, and `parts`, its
   * own choices (names or numbers). A plan may key several statements: a page and its count, an
   * update and the whole record its hooks read.
   */
  key(kind: StatementKind, ...parts: readonly (string | number)[]): StatementKey {
    let key = PREFIX[kind] + this.#key + "#";
    for (const part of parts) key += `${part}|`;
    return key as StatementKey;
  }

  /** A filter object opens: its fields follow, then `closeFilter`. */
  openFilter(): void {
    this.#key += "{";
  }

  closeFilter(): void {
    this.#key += "}";
  }

  /** A field (or `and`, `or`, `not`, a relation) of a filter: its test follows. */
  field(name: string): void {
    this.#key += `${name}:`;
  }

  /** An operator compared with a bound value. */
  operator(op: Exclude<FilterOperator, "isNull">): void {
    this.#key += `${op};`;
  }

  /** A test of `NULL` (`isNull`, or `eq` / `ne` with `null`): `is null`, or `is not null`. */
  nullTest(isNull: boolean): void {
    this.#key += isNull ? "n;" : "N;";
  }

  /** A quantifier over a to-many relation: its filter follows. */
  quantifier(quantifier: "some" | "none" | "every"): void {
    this.#key += `${quantifier}`;
  }

  /** A rule of the caller: allowed, denied, or a filter (which follows). */
  rule(value: boolean | "filter"): void {
    this.#key += value === "filter" ? "R" : value ? "R1;" : "R0;";
  }

  /** A rule of the caller the same as an earlier one of the statement's, which holds it already. */
  sameRule(): void {
    this.#key += "R=;";
  }

  /** A computed field: the filter of what it counts follows, or `countsNothing`. */
  computed(name: string): void {
    this.#key += `|c:${name}:`;
  }

  /** The computed field just recorded counts nothing (its `where` is `false`). */
  countsNothing(): void {
    this.#key += "F";
  }

  /** The order of the records, by these keys. */
  order(keys: readonly Sorted[]): void {
    let key = "|o:";
    for (const sorted of keys) key += `${sorted.column.name}${sorted.desc ? "-" : "+"},`;
    this.#key += key;
  }

  /** Records after a cursor of these values (only which are `NULL` changes the SQL). */
  after(values: readonly unknown[]): void {
    let key = "after:";
    for (const value of values) key += value === null ? "n" : "v";
    this.#key += `${key};`;
  }

  /** The columns and computed fields the statement selects. */
  shape(key: ShapeKey): void {
    this.#key += `|s:${key}`;
  }

  /** A `limit` bound to a value. */
  limit(): void {
    this.#key += "|lim";
  }

  /** An `offset` bound to a value. */
  offset(): void {
    this.#key += "|off";
  }

  /** The caller's update rule over the record after the change: the rule follows. */
  afterChange(): void {
    this.#key += "|after:";
  }
}
