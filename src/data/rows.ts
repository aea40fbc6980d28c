/**
 * @internal Records as statements return them: the select of a shape, driver values decoded,
 * and the fields a `select` keeps.
 * @module
 */
import type { SelectQueryBuilder } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel, ColumnModel } from "../model/model.js";
import { computedColumns, decodeComputed, type ComputedSelection } from "./computed.js";
import type { DataContext } from "./context.js";
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

/** How one fetched column's driver value becomes the value users see. */
export interface ColumnDecoder {
  readonly name: string;
  readonly decode: (value: unknown) => unknown;
}

/** The decoders of the columns whose driver values need one, in the runtime's ways with datetimes. */
export interface ShapeDecoders {
  /** Datetimes as `Date`s. */
  readonly dates: readonly ColumnDecoder[];
  /** Datetimes as their ISO text where the database holds them as text (as `dates` elsewhere). */
  readonly texts: readonly ColumnDecoder[];
}

/** Plans the decoders of `columns`, once per read shape. */
export function decodersOf(runtime: DialectRuntime, columns: readonly ColumnModel[]): ShapeDecoders {
  const dates: ColumnDecoder[] = [];
  const texts: ColumnDecoder[] = [];
  for (const column of columns) {
    const decode = runtime.decoder(column.kind);
    if (decode === undefined) continue;
    dates.push({ name: column.name, decode });
    const text = column.kind === "datetime" ? runtime.datetimeText : undefined;
    texts.push(text === undefined ? { name: column.name, decode } : { name: column.name, decode: text });
  }
  return { dates, texts };
}

/**
 * Turns driver values into the values users see, in place; datetimes into their ISO text rather
 * than `Date`s for a context with `textDates` where the database holds them as text.
 */
export function decode(shape: ReadShape, ctx: DataContext, rows: Row[]): void {
  if (shape.computed.length > 0) decodeComputed(ctx.runtime, shape, rows);
  const decoders = ctx.textDates ? shape.decoders.texts : shape.decoders.dates;
  if (decoders.length === 0) return;
  for (const row of rows) {
    for (let i = 0; i < decoders.length; i++) {
      const { name, decode } = decoders[i]!;
      row[name] = decode(row[name]);
    }
  }
}

/** Decodes rows holding every column of a collection, in place. */
export function decodeAll(ctx: DataContext, collection: CollectionModel, rows: Row[]): void {
  const runtime = ctx.runtime;
  for (const row of rows) {
    for (const column of collection.columns) {
      const decoder = runtime.decoder(column.kind);
      if (decoder !== undefined) row[column.name] = decoder(row[column.name]);
    }
  }
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
