/**
 * @internal Generated fields: slugs made from another field, and sequences numbered from a
 * counter in cimiento's own table. Both are filled at create, in the create's transaction.
 * @module
 */
import { randomBytes } from "node:crypto";
import slugify from "@sindresorhus/slugify";
import { sql } from "kysely";
import { newId } from "../support/ids.js";
import { ApiError } from "../errors/api-error.js";
import { systemCollection } from "../define/collection.js";
import { field } from "../define/field.js";
import type { CollectionModel, GeneratedModel, Model } from "../model/model.js";
import type { DataContext } from "./context.js";
import type { Row } from "./rows.js";

/** The counters of sequence fields, one row per `collection.field`. */
export const SEQUENCES_TABLE = "cimiento_sequences";

export const sequencesTable = systemCollection(SEQUENCES_TABLE, {
  fields: {
    /** `collection.field` */
    name: field.text().unique(),
    /** The last value given. */
    value: field.integer(),
  },
});

/** The system table of sequences, for `createBackend` (only when some collection has one). */
export const sequenceTables = { [SEQUENCES_TABLE]: sequencesTable };

/** Whether some collection of the model has a `field.sequence()`. */
export function hasSequences(model: Model): boolean {
  for (const collection of model.collections.values()) {
    if (collection.generated.some((generated) => generated.kind === "sequence")) return true;
  }
  return false;
}

type SlugModel = Extract<GeneratedModel, { kind: "slug" }>;
type SequenceModel = Extract<GeneratedModel, { kind: "sequence" }>;

/** The longest slug made from a source, before a `-2`, `-3`, ... suffix. */
export const MAX_SLUG_LENGTH = 100;

/** The slug a source value gives: lower-case ASCII words joined by `-`, or a random one. */
export function slugOf(value: unknown): string {
  const made = typeof value === "string" ? slugify(value, { decamelize: false }) : "";
  const base = made.slice(0, MAX_SLUG_LENGTH).replace(/-+$/, "");
  // Nothing to make a slug of (punctuation, a script without a transliteration): a random one.
  return base === "" ? randomBytes(5).toString("hex") : base;
}

/** Whether a create or update of this collection may write generated values. */
export function generates(collection: CollectionModel, operation: "create" | "update"): boolean {
  if (operation === "create") return collection.generated.length > 0;
  return collection.generated.some((generated) => generated.kind === "slug" && generated.update);
}

/**
 * The slugs of one family taken in the table: `base` and `base-<anything>`, with the ids of
 * their records, and (when `own` is given) that record's current slug and source value.
 */
async function family(
  ctx: DataContext,
  collection: CollectionModel,
  slug: SlugModel,
  base: string,
  own?: string,
): Promise<{ taken: Set<string>; own: Row | undefined }> {
  const runtime = ctx.runtime;
  const column = slug.column.name;
  const pattern = runtime.encodePattern("startsWith", `${base}-`);
  const rows = (await ctx.db
    .selectFrom(collection.name)
    .select(["id", column, slug.from])
    .where((eb) =>
      eb.or([
        eb(column, "=", base),
        runtime.match(sql.ref(column), pattern),
        ...(own === undefined ? [] : [eb("id", "=", own)]),
      ]),
    )
    .execute()) as Row[];
  const taken = new Set<string>();
  let ownRow: Row | undefined;
  for (const row of rows) {
    if (row["id"] === own) ownRow = row;
    else taken.add(row[column] as string);
  }
  return { taken, own: ownRow };
}

/** The first of `base`, `base-2`, `base-3`, ... that is not taken. */
function firstFree(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Fills the slugs the records lack; one query per distinct slug base. Returns the columns it
 * filled, by record, so that a retry can make them again.
 */
async function fillSlugs(ctx: DataContext, collection: CollectionModel, records: readonly Row[]): Promise<[Row, string][]> {
  const filled: [Row, string][] = [];
  for (const generated of collection.generated) {
    if (generated.kind !== "slug") continue;
    const column = generated.column.name;
    // Slugs given in this batch are taken too.
    const given = new Set<string>();
    const byBase = new Map<string, Row[]>();
    for (const record of records) {
      const value = record[column];
      if (typeof value === "string") {
        given.add(value);
        continue;
      }
      const base = slugOf(record[generated.from]);
      byBase.set(base, [...(byBase.get(base) ?? []), record]);
    }
    for (const [base, group] of byBase) {
      const { taken } = await family(ctx, collection, generated, base);
      for (const value of given) taken.add(value);
      for (const record of group) {
        const slug = firstFree(base, taken);
        taken.add(slug);
        record[column] = slug;
        filled.push([record, column]);
      }
    }
  }
  return filled;
}

/**
 * Takes values of a sequence: `count` new ones, and (when `floor` is above the counter) moves
 * the counter up to `floor` first. One statement, which locks the counter's row until the
 * transaction ends, so concurrent creates get distinct values. The counter never goes below the
 * largest value the table holds (a value set by a versioned migration, or by the system scope).
 * Returns the last value taken.
 */
async function takeSequence(
  ctx: DataContext,
  collection: CollectionModel,
  sequence: SequenceModel,
  count: number,
  floor: number,
): Promise<number> {
  const now = ctx.runtime.encode("datetime", new Date());
  const largest = sql`(select max(${sql.ref(sequence.column.name)}) from ${sql.table(collection.name)})`;
  const start = ctx.runtime.greatest([sql`coalesce(${largest}, 0)`, sql`${floor}`]);
  const next = ctx.runtime.greatest([sql`${sql.table(SEQUENCES_TABLE)}."value"`, sql`excluded."value" - ${count}`]);
  const { rows } = await sql<{ value: number | string }>`
    insert into ${sql.table(SEQUENCES_TABLE)} ("id", "name", "value", "createdAt", "updatedAt")
    values (${newId()}, ${sequence.counter}, ${start} + ${count}, ${now}, ${now})
    on conflict ("name") do update
      set "value" = ${next} + ${count},
          "updatedAt" = ${now}
    returning "value"`.execute(ctx.db);
  return Number(rows[0]!.value);
}

/** Fills the sequence values the records lack, in the order of the records. */
async function fillSequences(ctx: DataContext, collection: CollectionModel, records: readonly Row[]): Promise<void> {
  for (const generated of collection.generated) {
    if (generated.kind !== "sequence") continue;
    const column = generated.column.name;
    const missing = records.filter((record) => record[column] === undefined);
    let floor = 0;
    for (const record of records) {
      const value = record[column];
      if (typeof value === "number" && value > floor) floor = value;
    }
    if (missing.length === 0 && floor === 0) continue;
    const last = await takeSequence(ctx, collection, generated, missing.length, floor);
    missing.forEach((record, i) => (record[column] = last - missing.length + 1 + i));
  }
}

const SLUG_RETRIES = 10;

/**
 * Runs a write of slugs that a concurrent transaction may have taken since they were made. Where
 * a write transaction holds the whole database (SQLite), that cannot happen; elsewhere the write
 * runs under a savepoint, and a unique violation on a slug cimiento made rolls back to it, makes
 * the slugs again (now seeing the other transaction's) and retries. A retry first takes a lock of
 * the collection until the transaction ends, so that a burst of creates of one title (which all
 * pick the same free slug) is settled one by one rather than by retrying in a herd.
 */
async function retryingSlugs<T>(
  ctx: DataContext,
  collection: CollectionModel,
  filled: [Row, string][],
  remake: () => Promise<[Row, string][]>,
  write: () => Promise<T>,
): Promise<T> {
  if (filled.length === 0 || !ctx.runtime.concurrentWrites || ctx.transaction === undefined) return write();
  for (let attempt = 1; ; attempt++) {
    await sql`savepoint cimiento_slug`.execute(ctx.db);
    try {
      const result = await write();
      await sql`release savepoint cimiento_slug`.execute(ctx.db);
      return result;
    } catch (error) {
      const columns = new Set(filled.map(([, column]) => column));
      const fields = error instanceof ApiError && error.code === "UNIQUE_VIOLATION" ? error.details?.["fields"] : undefined;
      const onSlug = Array.isArray(fields) && fields.some((name) => columns.has(name as string));
      if (!onSlug || attempt >= SLUG_RETRIES) throw error;
      await sql`rollback to savepoint cimiento_slug`.execute(ctx.db);
      if (attempt === 1) {
        await ctx.runtime.lock(ctx.db, `cimiento_slug:${collection.name}`);
      }
      for (const [record, column] of filled) delete record[column];
      filled = await remake();
    }
  }
}

/**
 * Fills the generated values the records of a create lack (sequences, then slugs), then runs
 * `write`, the insert (retried when a concurrent create took a slug, see `retryingSlugs`).
 */
export async function withGeneratedValues<T>(
  ctx: DataContext,
  collection: CollectionModel,
  records: readonly Row[],
  write: () => Promise<T>,
): Promise<T> {
  if (collection.generated.length === 0) return write();
  await fillSequences(ctx, collection, records);
  const remake = () => fillSlugs(ctx, collection, records);
  return retryingSlugs(ctx, collection, await remake(), remake, write);
}

/**
 * Makes again the slugs with `{ update: true }` whose source an update of record `id` changes
 * (to a value other than the record's), unless the update sets the slug itself; then runs
 * `write`. The record keeps its slug when it is already of the new source's family.
 */
export async function withUpdatedSlugs<T>(
  ctx: DataContext,
  collection: CollectionModel,
  id: string,
  input: Record<string, unknown>,
  write: () => Promise<T>,
): Promise<T> {
  const remake = async (): Promise<[Row, string][]> => {
    const filled: [Row, string][] = [];
    for (const generated of collection.generated) {
      if (generated.kind !== "slug" || !generated.update) continue;
      const column = generated.column.name;
      const source = input[generated.from];
      // A source set to null keeps the slug.
      if (source === undefined || source === null || input[column] !== undefined) continue;
      const base = slugOf(source);
      const { taken, own } = await family(ctx, collection, generated, base, id);
      // No such record (the write then says NOT_FOUND), or its source does not change.
      if (own === undefined || own[generated.from] === source) continue;
      const current = own[column] as string;
      const ownFamily = current === base || (current.startsWith(`${base}-`) && /^\d+$/.test(current.slice(base.length + 1)));
      if (ownFamily) continue;
      input[column] = firstFree(base, taken);
      filled.push([input, column]);
    }
    return filled;
  };
  return retryingSlugs(ctx, collection, await remake(), remake, write);
}
