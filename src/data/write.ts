/**
 * @internal Writes: validated with zod, one statement each where the database allows, and
 * driver errors turned into clear `ApiError`s.
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import type { z } from "zod";
import { apiError, type ApiError, type FieldIssue } from "../errors/api-error.js";
import type { CollectionModel } from "../schema/model.js";
import { Slot } from "./compiled-query-cache.js";
import { execute, type DataContext } from "./context.js";
import { Plan } from "./plan.js";
import { checkId, checkOptions, finish, planReadOptions, type Row } from "./read.js";
import { buildCond, planWhere, TRUE } from "./where.js";

function issuesOf(error: z.ZodError, prefix: readonly (string | number)[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        issues.push({ path: [...path, key], code: "unrecognized_keys", message: `Unknown field "${key}"` });
      }
    } else {
      issues.push({ path, code: issue.code, message: issue.message });
    }
  }
  return issues;
}

function validationError(collection: string, issues: FieldIssue[]): ApiError {
  const summary = issues.map((issue) => `${issue.path.join(".") || "(input)"}: ${issue.message}`).join("; ");
  return apiError("VALIDATION_FAILED", `Invalid ${collection} input: ${summary}`, { issues });
}

/** Validates a write; throws `VALIDATION_FAILED` listing each field's problem. */
function validate(schema: z.ZodType<Record<string, unknown>>, collection: string, data: unknown): Record<string, unknown> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(collection, issuesOf(result.error, []));
  return result.data;
}

/** A new record: validated input, defaults, a generated id and timestamps. */
function prepareCreate(collection: CollectionModel, input: Record<string, unknown>, now: Date): Row {
  const record: Row = { ...input };
  record["id"] ??= uuidv7();
  for (const [name, fallback] of collection.defaults) {
    if (record[name] !== undefined) continue;
    const value = fallback?.value;
    record[name] = fallback === undefined ? null : typeof value === "function" ? (value as () => unknown)() : value;
  }
  record["createdAt"] = now;
  record["updatedAt"] = now;
  return record;
}

function encodeRecord(ctx: DataContext, collection: CollectionModel, record: Row, into: unknown[]): void {
  for (const column of collection.columns) into.push(ctx.runtime.encode(column.kind, record[column.name]));
}

/** Turns a driver error of a write into an `ApiError` that says what was wrong. */
async function writeError(
  ctx: DataContext,
  collection: CollectionModel,
  error: unknown,
  operation: "write" | "delete",
  written?: Row,
): Promise<unknown> {
  const kind = ctx.runtime.classify(error);
  if (kind?.kind === "unique") {
    let fields = kind.columns;
    if (fields === undefined && kind.constraint !== undefined) {
      fields =
        kind.constraint === `${collection.name}_pkey`
          ? ["id"]
          : collection.indexes.find((index) => index.name === kind.constraint)?.columns;
    }
    const names = fields ?? [];
    return apiError(
      "UNIQUE_VIOLATION",
      `Another ${collection.name} record already has this ${names.join(", ") || "value"}.`,
      { fields: names },
    );
  }
  if (kind?.kind === "foreignKey") {
    if (operation === "delete") {
      const by = collection.referencedBy.filter((ref) => ref.onDelete === "restrict");
      return apiError(
        "STILL_REFERENCED",
        `This ${collection.name} record is still referenced (by ${by.map((ref) => `${ref.collection}.${ref.column}`).join(", ")}); delete or change those first.`,
        { referencedBy: by.map((ref) => `${ref.collection}.${ref.column}`) },
      );
    }
    const fields = kind.column !== undefined ? [kind.column] : await missingReferences(ctx, collection, written);
    return apiError(
      "REFERENCE_NOT_FOUND",
      `${fields.map((name) => `${collection.name}.${name}`).join(", ") || "A reference"} points to a record that does not exist.`,
      {
        issues: fields.map((name) => ({ path: [name], code: "reference_not_found", message: "No such record" })),
      },
    );
  }
  return error;
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

async function guarded<T>(
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

const returning = (columns: readonly { name: string }[]) => columns.map((column) => column.name);

/** Creates one record and returns it as read back (with `select`/`include` applied). */
export async function createRecord(ctx: DataContext, collection: CollectionModel, data: unknown, options: unknown): Promise<Row> {
  const shape = planReadOptions(ctx, collection, options, "create");
  const record = prepareCreate(collection, validate(collection.createSchema, collection.name, data), new Date());
  const values: unknown[] = [];
  encodeRecord(ctx, collection, record, values);
  const query = ctx.cache.get(`W+:${collection.name}|${shape.key}`, values, () =>
    ctx.runtime.kysely
      .insertInto(collection.name)
      .values(Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(i)])))
      .returning(returning(shape.columns)),
  );
  const rows = await guarded(ctx, collection, "write", record, async () => (await execute<Row>(ctx, query)).rows);
  return (await finish(ctx, shape, rows))[0]!;
}

/** Creates many records in one transaction, in batches of multi-row inserts. */
export async function createManyRecords(
  ctx: DataContext,
  collection: CollectionModel,
  data: unknown,
  options: unknown,
): Promise<Row[]> {
  if (!Array.isArray(data)) {
    throw validationError(collection.name, [{ path: [], code: "invalid_type", message: "Expected an array of records" }]);
  }
  const shape = planReadOptions(ctx, collection, options, "createMany");
  const now = new Date();
  const issues: FieldIssue[] = [];
  const records: Row[] = [];
  data.forEach((item, i) => {
    const result = collection.createSchema.safeParse(item);
    if (result.success) records.push(prepareCreate(collection, result.data, now));
    else issues.push(...issuesOf(result.error, [i]));
  });
  if (issues.length > 0) throw validationError(collection.name, issues);
  if (records.length === 0) return [];
  const width = collection.columns.length;
  const batchSize = Math.max(1, Math.min(500, Math.floor(ctx.runtime.maxParameters / width)));
  return ctx.atomic(async (tx) => {
    const byId = new Map<unknown, Row>();
    for (let start = 0; start < records.length; start += batchSize) {
      const batch = records.slice(start, start + batchSize);
      const values: unknown[] = [];
      for (const record of batch) encodeRecord(tx, collection, record, values);
      const query = tx.cache.get(`W*:${collection.name}|${batch.length}|${shape.key}`, values, () =>
        tx.runtime.kysely
          .insertInto(collection.name)
          .values(
            batch.map((_, row) =>
              Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(row * width + i)])),
            ),
          )
          .returning(returning(shape.columns)),
      );
      const rows = await guarded(tx, collection, "write", batch.length === 1 ? batch[0] : undefined, async () =>
        (await execute<Row>(tx, query)).rows,
      );
      for (const row of rows) byId.set(row["id"], row);
    }
    // Returned in the order given, whatever order the database returned them in.
    const ordered = records.map((record) => byId.get(record["id"])!);
    return finish(tx, shape, ordered);
  });
}

function changedColumns(collection: CollectionModel, input: Record<string, unknown>): string[] {
  return collection.columns.filter((column) => input[column.name] !== undefined).map((column) => column.name);
}

/** Updates one record by id; `NOT_FOUND` when there is none. */
export async function updateRecord(
  ctx: DataContext,
  collection: CollectionModel,
  id: unknown,
  data: unknown,
  options: unknown,
): Promise<Row> {
  const key = checkId(id);
  const shape = planReadOptions(ctx, collection, options, "update");
  const input = validate(collection.updateSchema, collection.name, data);
  const changed = changedColumns(collection, input);
  const values: unknown[] = [];
  for (const name of changed) {
    values.push(ctx.runtime.encode(collection.columnsByName.get(name)!.kind, input[name]));
  }
  values.push(ctx.runtime.encode("datetime", new Date()), key);
  const query = ctx.cache.get(`W~:${collection.name}|${changed.join(",")}|${shape.key}`, values, () =>
    ctx.runtime.kysely
      .updateTable(collection.name)
      .set(Object.fromEntries([...changed, "updatedAt"].map((name, i) => [name, new Slot(i)])))
      .where("id", "=", new Slot(changed.length + 1))
      .returning(returning(shape.columns)),
  );
  const rows = await guarded(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  if (rows.length === 0) throw notFound(collection, key);
  return (await finish(ctx, shape, rows))[0]!;
}

/** The error for a record that does not exist (for the caller). */
export function notFound(collection: CollectionModel, id: string): ApiError {
  return apiError("NOT_FOUND", `No ${collection.name} record with id "${id}".`, { collection: collection.name, id });
}

function requireWhere(options: Record<string, unknown>, what: string): unknown {
  if (!("where" in options) || options["where"] === undefined) {
    throw apiError("INVALID_QUERY", `where: ${what} needs a where (use {} to mean every record)`, { path: "where" });
  }
  return options["where"];
}

/** Updates every record matching `where`; returns how many. */
export async function updateManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where", "data"]), "updateMany");
  const plan = new Plan(`W~*:${collection.name}|`);
  const where = planWhere({ plan, runtime: ctx.runtime, model: ctx.model, aliases: 0 }, collection, requireWhere(options, "updateMany"), "where");
  const input = validate(collection.updateSchema, collection.name, options["data"] ?? {});
  const changed = changedColumns(collection, input);
  const first = plan.values.length;
  for (const name of changed) plan.param(ctx.runtime.encode(collection.columnsByName.get(name)!.kind, input[name]));
  plan.param(ctx.runtime.encode("datetime", new Date()));
  plan.key += `|${changed.join(",")}`;
  const query = ctx.cache.get(plan.key, plan.values, () => {
    let query = ctx.runtime.kysely
      .updateTable(`${collection.name} as t0`)
      .set(Object.fromEntries([...changed, "updatedAt"].map((name, i) => [name, new Slot(first + i)])));
    if (where !== TRUE) query = query.where(buildCond(ctx.runtime, where, "t0"));
    return query;
  });
  const result = await guarded(ctx, collection, "write", input, () => execute(ctx, query));
  return { count: Number(result.numAffectedRows ?? 0) };
}

/** Deletes one record by id and returns it; `NOT_FOUND` when there is none. */
export async function deleteRecord(ctx: DataContext, collection: CollectionModel, id: unknown): Promise<Row> {
  const key = checkId(id);
  const shape = planReadOptions(ctx, collection, undefined, "delete");
  const query = ctx.cache.get(`W-:${collection.name}`, [key], () =>
    ctx.runtime.kysely
      .deleteFrom(collection.name)
      .where("id", "=", new Slot(0))
      .returning(returning(shape.columns)),
  );
  const rows = await guarded(ctx, collection, "delete", undefined, async () => (await execute<Row>(ctx, query)).rows);
  if (rows.length === 0) throw notFound(collection, key);
  return (await finish(ctx, shape, rows))[0]!;
}

/** Deletes every record matching `where`; returns how many. */
export async function deleteManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where"]), "deleteMany");
  const plan = new Plan(`W-*:${collection.name}|`);
  const where = planWhere({ plan, runtime: ctx.runtime, model: ctx.model, aliases: 0 }, collection, requireWhere(options, "deleteMany"), "where");
  const query = ctx.cache.get(plan.key, plan.values, () => {
    const query = ctx.runtime.kysely.deleteFrom(`${collection.name} as t0`);
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  const result = await guarded(ctx, collection, "delete", undefined, () => execute(ctx, query));
  return { count: Number(result.numAffectedRows ?? 0) };
}

/**
 * Updates the record that `where` (one unique field, or the id) names, or creates it when there
 * is none. Race-free: the insert skips on conflict, and then the record that won is updated.
 */
export async function upsertRecord(ctx: DataContext, collection: CollectionModel, rawArgs: unknown, options: unknown): Promise<Row> {
  const args = checkOptions(rawArgs, new Set(["where", "create", "update"]), "upsert");
  const where = args["where"];
  const entries = typeof where === "object" && where !== null ? Object.entries(where).filter(([, v]) => v !== undefined) : [];
  const [name, value] = entries[0] ?? [];
  const column = name === undefined ? undefined : collection.columnsByName.get(name);
  const unique =
    column !== undefined &&
    (column.name === "id" || collection.indexes.some((index) => index.unique && index.columns.length === 1 && index.columns[0] === column.name));
  if (entries.length !== 1 || !unique || value === null || typeof value === "object") {
    throw apiError(
      "INVALID_QUERY",
      `where: upsert needs exactly one unique field (or id) and its value, e.g. { where: { slug: "hello" } }`,
      { path: "where" },
    );
  }
  const shape = planReadOptions(ctx, collection, options, "upsert");
  const encoded = ctx.runtime.encode(column.kind, value);
  return ctx.atomic(async (tx) => {
    const find = async () =>
      (
        await tx.db
          .selectFrom(collection.name)
          .select("id")
          .where(column.name, "=", encoded)
          .executeTakeFirst()
      )?.["id"] as string | undefined;
    let id = await find();
    if (id === undefined) {
      const createData = { ...(args["create"] as Record<string, unknown> | undefined), [column.name]: value };
      const record = prepareCreate(collection, validate(collection.createSchema, collection.name, createData), new Date());
      const values: unknown[] = [];
      encodeRecord(tx, collection, record, values);
      const query = tx.cache.get(`W+?:${collection.name}|${column.name}|${shape.key}`, values, () =>
        tx.runtime.kysely
          .insertInto(collection.name)
          .values(Object.fromEntries(collection.columns.map((c, i) => [c.name, new Slot(i)])))
          .onConflict((conflict) => conflict.column(column.name).doNothing())
          .returning(returning(shape.columns)),
      );
      const rows = await guarded(tx, collection, "write", record, async () => (await execute<Row>(tx, query)).rows);
      if (rows.length > 0) return (await finish(tx, shape, rows))[0]!;
      id = await find();
      if (id === undefined) throw apiError("INTERNAL", "The upserted record vanished while being written.");
    }
    return updateRecord(tx, collection, id, args["update"] ?? {}, options);
  });
}
