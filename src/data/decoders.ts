/**
 * @internal Column decoders: how the driver values of a row's columns become the values users
 * see, planned once per set of columns (a read shape's, a collection's) rather than decided per
 * value.
 * @module
 */
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel, ColumnModel } from "../model/model.js";

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

/** The decoders of every column of a collection, by runtime: planned once, not per write. */
const wholeDecoders = new WeakMap<DialectRuntime, WeakMap<CollectionModel, ShapeDecoders>>();

/** The decoders of rows holding every column of `collection`, planned the first time they are asked for. */
export function collectionDecoders(runtime: DialectRuntime, collection: CollectionModel): ShapeDecoders {
  let byCollection = wholeDecoders.get(runtime);
  if (byCollection === undefined) wholeDecoders.set(runtime, (byCollection = new WeakMap()));
  let decoders = byCollection.get(collection);
  if (decoders === undefined) byCollection.set(collection, (decoders = decodersOf(runtime, collection.columns)));
  return decoders;
}

/** Applies `decoders` to every row, in place. */
export function decodeRows(decoders: readonly ColumnDecoder[], rows: Record<string, unknown>[]): void {
  if (decoders.length === 0) return;
  for (const row of rows) {
    for (let i = 0; i < decoders.length; i++) {
      const { name, decode } = decoders[i]!;
      row[name] = decode(row[name]);
    }
  }
}
