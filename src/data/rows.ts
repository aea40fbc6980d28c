/**
 * @internal Records as statements return them: the select of a shape, driver values decoded,
 * and the fields a `select` keeps.
 * @module
 */
import type { SelectQueryBuilder } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel } from "../model/model.js";
import { computedColumns, decodeComputed, type ComputedSelection } from "./computed.js";
import type { DataContext } from "./context.js";
import { collectionDecoders, decodeRows } from "./decoders.js";
import type { ReadShape } from "./shape.js";

/** A row as it goes through decoding and includes. */
export type Row = Record<string, unknown>;

/** Selects the columns of a shape, and its computed fields, from its table aliased `alias`. */
export function selectFrom(
  ctx: DataContext,
  shape: ReadShape,
  alias: string,
  computed: readonly ComputedSelection[],
): SelectQueryBuilder<any, any, Row> {
  return selectColumns(ctx.runtime, shape, alias, computed);
}

/** The same, from the runtime alone: for a statement built again later, with no caller's context at hand. */
export function selectColumns(
  runtime: DialectRuntime,
  shape: ReadShape,
  alias: string,
  computed: readonly ComputedSelection[],
): SelectQueryBuilder<any, any, Row> {
  const query = runtime.kysely
    .selectFrom(`${shape.collection.name} as ${alias}`)
    .select(shape.columns.map((column) => `${alias}.${column.name}`));
  return computed.length === 0 ? query : query.select(computedColumns(runtime, computed, alias));
}

/**
 * Turns driver values into the values users see, in place; datetimes into their ISO text rather
 * than `Date`s for a context with `textDates` where the database holds them as text.
 */
export function decode(shape: ReadShape, ctx: DataContext, rows: Row[]): void {
  if (shape.computed.length > 0) decodeComputed(ctx.runtime, shape, rows);
  decodeRows(ctx.textDates ? shape.decoders.texts : shape.decoders.dates, rows);
}

/** Decodes rows holding every column of a collection, in place (datetimes as `Date`s). */
export function decodeAll(ctx: DataContext, collection: CollectionModel, rows: Row[]): void {
  decodeRows(collectionDecoders(ctx.runtime, collection).dates, rows);
}

/** Keeps only the fields a `select` asked for (rows are rebuilt: deleting keys is slow). */
export function project(shape: ReadShape, rows: Row[]): Row[] {
  const output = shape.output;
  if (output === undefined) return rows;
  return rows.map((row) => {
    const kept: Row = {};
    for (const name of output) kept[name] = row[name];
    return kept;
  });
}
