/**
 * @internal Driver errors of a write turned into `ApiError`s that say what was wrong: a unique
 * value another record holds, a reference to no record, a record still referenced.
 * @module
 */
import { apiError, type ApiError } from "../errors/api-error.js";
import { validationError } from "../errors/validation.js";
import type { CollectionModel } from "../model/model.js";
import type { DataContext } from "./context.js";
import { missingIssue, referenceNotFound } from "./references.js";
import type { Row } from "./rows.js";

/** Turns a driver error of a write into an `ApiError` that says what was wrong. */
async function writeError(
  ctx: DataContext,
  collection: CollectionModel,
  error: unknown,
  operation: "write" | "delete",
  written?: Row,
): Promise<unknown> {
  const kind = ctx.runtime.classify(error);
  if (kind?.kind === "indexRowTooLarge") return indexRowTooLarge(collection, written);
  if (kind?.kind === "unique") {
    let fields = kind.columns;
    if (fields === undefined && kind.constraint !== undefined) {
      fields =
        kind.constraint === `${collection.name}_pkey`
          ? ["id"]
          : collection.indexes.find((index) => index.name === kind.constraint)?.columns;
    }
    return uniqueViolation(collection, fields ?? []);
  }
  if (kind?.kind === "foreignKey") {
    if (operation === "delete") {
      const by = collection.referencedBy.filter((ref) => ref.onDelete === "restrict").map((ref) => `${ref.collection}.${ref.column}`);
      return apiError(
        "STILL_REFERENCED",
        `This ${collection.name} record is still referenced (by ${by.join(", ")}); delete or change those first.`,
        { referencedBy: by },
      );
    }
    const fields = kind.column !== undefined ? [kind.column] : await missingReferences(ctx, collection, written);
    return referenceNotFound(collection, fields, fields.map((name) => missingIssue([name])));
  }
  return error;
}

/** The error of a unique field (or the id) that another record already holds. */
export function uniqueViolation(collection: CollectionModel, fields: readonly string[]): ApiError {
  return apiError("UNIQUE_VIOLATION", `Another ${collection.name} record already has this ${fields.join(", ") || "value"}.`, {
    fields,
  });
}

/** The longest text (in UTF-8 bytes) that is not named as the cause of a too large index row. */
const LONG_INDEXED_TEXT = 1000;

/**
 * `VALIDATION_FAILED` for a write whose values do not fit an index row (PostgreSQL keeps at most
 * about 2,700 bytes per row of a B-tree index, and does not say which index): an issue on each
 * long text the write put in an indexed column, or on every indexed text it wrote.
 */
function indexRowTooLarge(collection: CollectionModel, written: Row | undefined): ApiError {
  const indexed = new Set(collection.indexes.flatMap((index) => index.columns));
  const texts = collection.columns.filter(
    (column) => indexed.has(column.name) && (column.kind === "text" || column.kind === "id") && typeof written?.[column.name] === "string",
  );
  const long = texts.filter((column) => Buffer.byteLength(written![column.name] as string) > LONG_INDEXED_TEXT);
  const named = long.length > 0 ? long : texts;
  const message = "Too long for an index of this collection: an indexed text is kept to about 2,700 bytes";
  return validationError(
    `Invalid ${collection.name} input`,
    named.length === 0 ? [{ path: [], code: "too_big", message }] : named.map((column) => ({ path: [column.name], code: "too_big", message })),
  );
}

/** Finds which `belongsTo` values of a failed write point nowhere (SQLite does not say). */
async function missingReferences(ctx: DataContext, collection: CollectionModel, written: Row | undefined): Promise<string[]> {
  if (written === undefined) return [];
  const missing: string[] = [];
  for (const column of collection.columns) {
    const value = written[column.name];
    if (column.references === undefined || value === null || value === undefined) continue;
    const found = await ctx.db
      .selectFrom(column.references.table)
      .select("id")
      .where("id", "=", value as string)
      .executeTakeFirst();
    if (found === undefined) missing.push(column.name);
  }
  return missing;
}

/** Runs one statement of a write, its driver errors turned into `ApiError`s (`written` is the record it wrote, if one). */
export async function withWriteErrors<T>(
  ctx: DataContext,
  collection: CollectionModel,
  operation: "write" | "delete",
  written: Row | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw await writeError(ctx, collection, error, operation, written);
  }
}
