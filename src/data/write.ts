/**
 * @internal Writes: field rules, hooks, validation, collection rules in SQL, and driver errors
 * turned into clear `ApiError`s. Without hooks or filter rules a write is one statement.
 * @module
 */
import { sql } from "kysely";
import { v7 as uuidv7 } from "uuid";
import type { z } from "zod";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import { writeIssues } from "../access/field-writes.js";
import type { Operation } from "../access/rules.js";
import { ApiError, apiError, type FieldIssue } from "../errors/api-error.js";
import { issuesOf, validationError } from "../errors/validation.js";
import { hookContext } from "../hooks/hook-context.js";
import type { CollectionModel } from "../schema/model.js";
import { Slot } from "./compiled-query-cache.js";
import { afterCommit, execute, type DataContext } from "./context.js";
import { generates, withGeneratedValues, withUpdatedSlugs } from "./generated.js";
import { Plan } from "./plan.js";
import {
  checkId,
  checkOptions,
  complete,
  decodeAll,
  planById,
  planReadShape,
  whereContext,
  reachable,
  readAccess,
  type Row,
} from "./read.js";
import type { ReadShape } from "./shape.js";
import { and, buildCond, planRule, planWhere, TRUE, type Cond } from "./where.js";

// ---------------------------------------------------------------------------------------------
// Validation

/** Checks one input: field rules first, then the schema; all problems in one error. */
function validate(
  schema: z.ZodType<Record<string, unknown>>,
  collection: CollectionModel,
  access: Access | undefined,
  input: unknown,
): Record<string, unknown> {
  const { issues, data } = writeIssues(access, collection, input);
  const result = schema.safeParse(data);
  if (!result.success) issues.push(...issuesOf(result.error, []));
  if (issues.length > 0) throw validationError(`Invalid ${collection.name} input`, issues);
  return result.data!;
}

/**
 * The data to create: the caller's input, through `beforeCreate` (which sees it with types
 * checked, required fields not yet), then validated in full.
 */
async function createInput(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  data: unknown,
): Promise<Record<string, unknown>> {
  const hook = collection.hooks.beforeCreate;
  if (hook === undefined) return validate(collection.createSchema, collection, access, data);
  const partial = validate(collection.draftSchema, collection, access, data);
  const changed = await hook({ ...hookContext(ctx), data: partial });
  return validate(collection.createSchema, collection, undefined, changed ?? partial);
}

/** A new record: validated input, defaults, a generated id and timestamps. */
function newRecord(collection: CollectionModel, input: Record<string, unknown>, now: Date): Row {
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

// ---------------------------------------------------------------------------------------------
// Driver errors

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
      const by = collection.referencedBy.filter((ref) => ref.onDelete === "restrict").map((ref) => `${ref.collection}.${ref.column}`);
      return apiError(
        "STILL_REFERENCED",
        `This ${collection.name} record is still referenced (by ${by.join(", ")}); delete or change those first.`,
        { referencedBy: by },
      );
    }
    const fields = kind.column !== undefined ? [kind.column] : await missingReferences(ctx, collection, written);
    return apiError(
      "REFERENCE_NOT_FOUND",
      `${fields.map((name) => `${collection.name}.${name}`).join(", ") || "A reference"} points to a record that does not exist.`,
      { issues: fields.map((name) => ({ path: [name], code: "reference_not_found", message: "No such record" })) },
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

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** The caller's rule for an operation as a value: `true` for the system scope. */
function ruleOf(access: Access | undefined, collection: CollectionModel, operation: Operation) {
  return access === undefined ? true : access.rule(collection, operation);
}

/** `NOT_FOUND` for a record the caller cannot see, `FORBIDDEN` for one it sees but may not change. */
async function unreachable(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  action: string,
): Promise<ApiError> {
  if (access !== undefined && (await reachable(ctx, collection, access, id, ["get"]))) {
    return denied(ctx.user, `You may not ${action} this ${collection.name} record.`, { collection: collection.name, id });
  }
  return notFound(collection, id);
}

/** The error for a record that does not exist (for the caller). */
export function notFound(collection: CollectionModel, id: string): ApiError {
  return apiError("NOT_FOUND", `No ${collection.name} record with id "${id}".`, { collection: collection.name, id });
}

/** Runs `fn` in a transaction when the write needs one (hooks, filter rules), else directly. */
function inTransactionIf<T>(ctx: DataContext, needed: boolean, fn: (ctx: DataContext) => Promise<T>): Promise<T> {
  return needed ? ctx.atomic(fn) : fn(ctx);
}

/** Queues the collection's `afterCommit` hook for one change. */
function queueCommitted(
  ctx: DataContext,
  collection: CollectionModel,
  operation: "create" | "update" | "delete",
  record: Row,
  previous: Row | null,
): void {
  const hook = collection.hooks.afterCommit;
  if (hook === undefined) return;
  const user = ctx.user;
  afterCommit(ctx, () => hook({ operation, record: record as never, previous: previous as never, user }));
}

/** A snapshot of a decoded record, so hooks and the caller's copy do not share objects. */
function snapshot(row: Row): Row {
  return structuredClone(row);
}

/** Reads one whole record (every column, decoded) under a condition, for hooks. */
async function readWhole(ctx: DataContext, collection: CollectionModel, plan: Plan, condition: Cond): Promise<Row | undefined> {
  const query = ctx.cache.get(`${plan.key}|whole`, plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${collection.name} as t0`)
      .selectAll("t0")
      .where(buildCond(ctx.runtime, condition, "t0")),
  );
  const rows = (await execute<Row>(ctx, query)).rows;
  decodeAll(ctx, collection, rows);
  return rows[0];
}

async function shapeFor(
  ctx: DataContext,
  collection: CollectionModel,
  rawOptions: unknown,
  what: string,
  operations: readonly Operation[],
): Promise<{ access: Access | undefined; shape: ReadShape }> {
  const { options, access } = await readAccess(ctx, collection, rawOptions, what, operations);
  return { access, shape: planReadShape(ctx, collection, options, access) };
}

// ---------------------------------------------------------------------------------------------
// Create

/**
 * Inserts one validated record; returns it whole and decoded, or `undefined` when `conflict`
 * names a unique column that already holds its value (the insert is then skipped).
 */
async function insert(
  ctx: DataContext,
  collection: CollectionModel,
  record: Row,
  conflict?: string,
): Promise<Row | undefined> {
  const values: unknown[] = [];
  encodeRecord(ctx, collection, record, values);
  const query = ctx.cache.get(`W+:${collection.name}|${conflict ?? ""}`, values, () => {
    const insert = ctx.runtime.kysely
      .insertInto(collection.name)
      .values(Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(i)])));
    return (conflict === undefined ? insert : insert.onConflict((c) => c.column(conflict).doNothing())).returningAll();
  });
  const rows = await guarded(ctx, collection, "write", record, async () => (await execute<Row>(ctx, query)).rows);
  decodeAll(ctx, collection, rows);
  return rows[0];
}

/** The whole create of one record, in `ctx` (a transaction when hooks or rules need one). */
async function createOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  data: unknown,
  conflict?: string,
): Promise<Row | undefined> {
  const record = newRecord(collection, await createInput(ctx, collection, access, data), new Date());
  const created = await withGeneratedValues(ctx, collection, [record], () => insert(ctx, collection, record, conflict));
  if (created === undefined) return undefined;
  if (ruleOf(access, collection, "create") !== true && !(await reachable(ctx, collection, access, record["id"] as string, ["create"]))) {
    throw denied(ctx.user, `You may not create this ${collection.name} record.`);
  }
  await afterWrite(ctx, collection, "create", created, null);
  return created;
}

async function afterWrite(
  ctx: DataContext,
  collection: CollectionModel,
  operation: "create" | "update" | "delete",
  record: Row,
  previous: Row | null,
): Promise<void> {
  const hooks = collection.hooks;
  if (operation === "create" && hooks.afterCreate !== undefined) {
    await hooks.afterCreate({ ...hookContext(ctx), record: snapshot(record) as never });
  } else if (operation === "update" && hooks.afterUpdate !== undefined) {
    await hooks.afterUpdate({ ...hookContext(ctx), record: snapshot(record) as never, previous: previous as never });
  } else if (operation === "delete" && hooks.afterDelete !== undefined) {
    await hooks.afterDelete({ ...hookContext(ctx), record: snapshot(record) as never });
  }
  if (hooks.afterCommit !== undefined) queueCommitted(ctx, collection, operation, snapshot(record), previous);
}

/** Whether hooks run for a write of `operation`: then it goes record by record, in a transaction. */
function hooked(collection: CollectionModel, operation: "create" | "update" | "delete"): boolean {
  const hooks = collection.hooks;
  if (hooks.afterCommit !== undefined) return true;
  if (operation === "create") return hooks.beforeCreate !== undefined || hooks.afterCreate !== undefined;
  // An update that may make a slug again goes record by record, each with its own slug.
  if (operation === "update") return hooks.beforeUpdate !== undefined || hooks.afterUpdate !== undefined || generates(collection, "update");
  return hooks.beforeDelete !== undefined || hooks.afterDelete !== undefined;
}

/** A write needs a transaction for its hooks, or to check a filter rule after it wrote. */
function needsTransaction(
  collection: CollectionModel,
  access: Access | undefined,
  operation: "create" | "update" | "delete",
): boolean {
  const rule = ruleOf(access, collection, operation);
  // Generated values are taken (a sequence) or checked (a slug) in the write's transaction.
  const generating = operation !== "delete" && generates(collection, operation);
  return hooked(collection, operation) || generating || (rule !== true && rule !== false);
}

/** Creates one record and returns it as the caller reads it (with `select`/`include`). */
export async function createRecord(ctx: DataContext, collection: CollectionModel, data: unknown, options: unknown): Promise<Row> {
  const { access, shape } = await shapeFor(ctx, collection, options, "create", ["create"]);
  if (ruleOf(access, collection, "create") === false) throw denied(ctx.user, `You may not create ${collection.name}.`);
  return inTransactionIf(ctx, needsTransaction(collection, access, "create"), async (c) => {
    const created = (await createOne(c, collection, access, data))!;
    return (await complete(c, shape, [{ ...created }], access))[0]!;
  });
}

/** Creates many records in one transaction (all or none), in batches of multi-row inserts. */
export async function createManyRecords(
  ctx: DataContext,
  collection: CollectionModel,
  data: unknown,
  options: unknown,
): Promise<Row[]> {
  if (!Array.isArray(data)) {
    throw validationError(`Invalid ${collection.name} input`, [{ path: [], code: "invalid_type", message: "Expected an array of records" }]);
  }
  const { access, shape } = await shapeFor(ctx, collection, options, "createMany", ["create"]);
  const rule = ruleOf(access, collection, "create");
  if (rule === false) throw denied(ctx.user, `You may not create ${collection.name}.`);
  if (data.length === 0) return [];
  return ctx.atomic(async (tx) => {
    const now = new Date();
    const issues: FieldIssue[] = [];
    const records: Row[] = [];
    for (const [i, item] of data.entries()) {
      try {
        records.push(newRecord(collection, await createInput(tx, collection, access, item), now));
      } catch (error) {
        if (!(error instanceof ApiError && error.code === "VALIDATION_FAILED")) throw error;
        issues.push(...error.issues.map((issue) => ({ ...issue, path: [i, ...issue.path] })));
      }
    }
    if (issues.length > 0) throw validationError(`Invalid ${collection.name} input`, issues);
    const width = collection.columns.length;
    const batchSize = Math.max(1, Math.min(500, Math.floor(tx.runtime.maxParameters / width)));
    const byId = new Map<unknown, Row>();
    await withGeneratedValues(tx, collection, records, async () => {
      byId.clear();
      for (let start = 0; start < records.length; start += batchSize) {
        const batch = records.slice(start, start + batchSize);
        const values: unknown[] = [];
        for (const record of batch) encodeRecord(tx, collection, record, values);
        const query = tx.cache.get(`W*:${collection.name}|${batch.length}`, values, () =>
          tx.runtime.kysely
            .insertInto(collection.name)
            .values(
              batch.map((_, row) =>
                Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(row * width + i)])),
              ),
            )
            .returningAll(),
        );
        const rows = await guarded(tx, collection, "write", batch.length === 1 ? batch[0] : undefined, async () =>
          (await execute<Row>(tx, query)).rows,
        );
        decodeAll(tx, collection, rows);
        for (const row of rows) byId.set(row["id"], row);
      }
    });
    // Returned in the order given, whatever order the database returned them in.
    const created = records.map((record) => byId.get(record["id"])!);
    if (rule !== true) await checkAll(tx, collection, access, created, "create");
    for (const record of created) await afterWrite(tx, collection, "create", record, null);
    return complete(tx, shape, created.map((record) => ({ ...record })), access);
  });
}

/** Refuses the whole write when a written record does not satisfy the caller's rule. */
async function checkAll(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  records: readonly Row[],
  operation: "create" | "update",
): Promise<void> {
  const plan = new Plan(`K:${collection.name}|${operation}|`);
  const context = whereContext(ctx, plan, access);
  const ids = plan.param(ctx.runtime.encodeList("text", records.map((record) => record["id"])));
  const rule = planRule(context, collection, operation);
  const query = ctx.cache.get(plan.key, plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${collection.name} as t0`)
      .select(sql<number>`count(*)`.as("count"))
      .where(ctx.runtime.inList(sql.ref("t0.id"), new Slot(ids), "text"))
      .where(buildCond(ctx.runtime, rule, "t0")),
  );
  const count = Number((await execute<{ count: number }>(ctx, query)).rows[0]!.count);
  if (count !== records.length) {
    throw denied(ctx.user, `You may not ${operation} ${records.length === 1 ? "this" : "these"} ${collection.name} record${records.length === 1 ? "" : "s"}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Update

/** The whole update of one record by id, in `ctx`; returns it whole and decoded. */
async function updateOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  data: unknown,
): Promise<Row> {
  let input = validate(collection.updateSchema, collection, access, data);
  const hooks = collection.hooks;
  const plan = new Plan(`W~:${collection.name}|`);
  // The record must be one the caller can see and may update.
  const condition = planById(whereContext(ctx, plan, access), collection, id, ["get", "update"]);
  let previous: Row | null = null;
  if (hooks.beforeUpdate !== undefined || hooks.afterUpdate !== undefined || hooks.afterCommit !== undefined) {
    previous = (await readWhole(ctx, collection, plan, condition)) ?? null;
    if (previous === null) throw await unreachable(ctx, collection, access, id, "update");
    if (hooks.beforeUpdate !== undefined) {
      const changed = await hooks.beforeUpdate({ ...hookContext(ctx), data: input, previous: snapshot(previous) as never });
      if (changed !== undefined) input = validate(collection.updateSchema, collection, undefined, changed);
    }
  }
  const first = plan.values.length;
  const key = plan.key;
  const write = async () => {
    // Planned anew on each run: a retried write may set a different slug.
    plan.values.length = first;
    const changedColumns = collection.columns.filter((column) => input[column.name] !== undefined);
    for (const column of changedColumns) plan.param(ctx.runtime.encode(column.kind, input[column.name]));
    plan.param(ctx.runtime.encode("datetime", new Date()));
    plan.key = `${key}|set:${changedColumns.map((column) => column.name).join(",")}`;
    const query = ctx.cache.get(plan.key, plan.values, () =>
      ctx.runtime.kysely
        .updateTable(`${collection.name} as t0`)
        .set(Object.fromEntries([...changedColumns.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])))
        .where(buildCond(ctx.runtime, condition, "t0"))
        .returningAll(),
    );
    return guarded(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  };
  const rows = generates(collection, "update") ? await withUpdatedSlugs(ctx, collection, id, input, write) : await write();
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "update");
  decodeAll(ctx, collection, rows);
  const updated = rows[0]!;
  // The record after the change must still satisfy the update rule (no moving it out of reach).
  if (ruleOf(access, collection, "update") !== true) await checkAll(ctx, collection, access, [updated], "update");
  await afterWrite(ctx, collection, "update", updated, previous);
  return updated;
}

/** Updates one record by id; `NOT_FOUND` when the caller cannot see it, `FORBIDDEN` when it may not change it. */
export async function updateRecord(
  ctx: DataContext,
  collection: CollectionModel,
  id: unknown,
  data: unknown,
  options: unknown,
): Promise<Row> {
  const key = checkId(id);
  const { access, shape } = await shapeFor(ctx, collection, options, "update", ["get", "update"]);
  if (ruleOf(access, collection, "update") === false) throw await unreachable(ctx, collection, access, key, "update");
  return inTransactionIf(ctx, needsTransaction(collection, access, "update"), async (c) => {
    const updated = await updateOne(c, collection, access, key, data);
    return (await complete(c, shape, [{ ...updated }], access))[0]!;
  });
}

function requireWhere(options: Record<string, unknown>, what: string): unknown {
  if (!("where" in options) || options["where"] === undefined) {
    throw apiError("INVALID_QUERY", `where: ${what} needs a where (use {} to mean every record)`, { path: "where" });
  }
  return options["where"];
}

/** The records a many-write reaches: `where` AND the caller's `list` rule AND its rule for the write. */
async function planMany(
  ctx: DataContext,
  collection: CollectionModel,
  options: Record<string, unknown>,
  operation: "update" | "delete",
  plan: Plan,
): Promise<{ access: Access | undefined; where: Cond }> {
  const where = requireWhere(options, `${operation}Many`);
  // With hooks a many-write goes record by record, which also reads the `get` rule.
  const access = await accessFor(ctx.system, ctx.user, ctx.model, collection, ["list", "get", operation], where);
  if (ruleOf(access, collection, operation) === false) throw denied(ctx.user, `You may not ${operation} ${collection.name}.`);
  const context = whereContext(ctx, plan, access);
  const planned = planWhere(context, collection, where, "where");
  return { access, where: and(planned, planRule(context, collection, "list"), planRule(context, collection, operation)) };
}

/** The ids of the records a many-write reaches, when it must go record by record (hooks). */
async function idsOf(ctx: DataContext, collection: CollectionModel, plan: Plan, where: Cond): Promise<string[]> {
  const query = ctx.cache.get(`${plan.key}|ids`, plan.values, () => {
    const query = ctx.runtime.kysely.selectFrom(`${collection.name} as t0`).select("t0.id");
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  return (await execute<{ id: string }>(ctx, query)).rows.map((row) => row.id);
}

/** Updates every record matching `where` that the caller may update; returns how many. */
export async function updateManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where", "data"]), "updateMany");
  const plan = new Plan(`W~*:${collection.name}|`);
  const { access, where } = await planMany(ctx, collection, options, "update", plan);
  const data = options["data"] ?? {};
  if (needsTransaction(collection, access, "update")) {
    return ctx.atomic(async (tx) => {
      const input = validate(collection.updateSchema, collection, access, data);
      if (!hooked(collection, "update")) return { count: await updateWhere(tx, collection, access, plan, where, input, true) };
      const ids = await idsOf(tx, collection, plan, where);
      for (const id of ids) await updateOne(tx, collection, access, id, data);
      return { count: ids.length };
    });
  }
  const input = validate(collection.updateSchema, collection, access, data);
  return { count: await updateWhere(ctx, collection, access, plan, where, input, false) };
}

async function updateWhere(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  plan: Plan,
  where: Cond,
  input: Record<string, unknown>,
  check: boolean,
): Promise<number> {
  const changed = collection.columns.filter((column) => input[column.name] !== undefined);
  const values = [...plan.values];
  const first = values.length;
  for (const column of changed) values.push(ctx.runtime.encode(column.kind, input[column.name]));
  values.push(ctx.runtime.encode("datetime", new Date()));
  const key = `${plan.key}|set:${changed.map((column) => column.name).join(",")}`;
  const query = ctx.cache.get(key, values, () => {
    const query = ctx.runtime.kysely
      .updateTable(`${collection.name} as t0`)
      .set(Object.fromEntries([...changed.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])));
    return (where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"))).returning("id");
  });
  const rows = await guarded(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  if (check && rows.length > 0) await checkAll(ctx, collection, access, rows, "update");
  return rows.length;
}

// ---------------------------------------------------------------------------------------------
// Delete

async function deleteOne(ctx: DataContext, collection: CollectionModel, access: Access | undefined, id: string): Promise<Row> {
  const plan = new Plan(`W-:${collection.name}|`);
  const condition = planById(whereContext(ctx, plan, access), collection, id, ["get", "delete"]);
  const hook = collection.hooks.beforeDelete;
  if (hook !== undefined) {
    const record = await readWhole(ctx, collection, plan, condition);
    if (record === undefined) throw await unreachable(ctx, collection, access, id, "delete");
    await hook({ ...hookContext(ctx), record: snapshot(record) as never });
  }
  const query = ctx.cache.get(plan.key, plan.values, () =>
    ctx.runtime.kysely
      .deleteFrom(`${collection.name} as t0`)
      .where(buildCond(ctx.runtime, condition, "t0"))
      .returningAll(),
  );
  const rows = await guarded(ctx, collection, "delete", undefined, async () => (await execute<Row>(ctx, query)).rows);
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "delete");
  decodeAll(ctx, collection, rows);
  await afterWrite(ctx, collection, "delete", rows[0]!, null);
  return rows[0]!;
}

/** Deletes one record by id and returns it; `NOT_FOUND` / `FORBIDDEN` as for update. */
export async function deleteRecord(ctx: DataContext, collection: CollectionModel, id: unknown): Promise<Row> {
  const key = checkId(id);
  const { access, shape } = await shapeFor(ctx, collection, undefined, "delete", ["get", "delete"]);
  if (ruleOf(access, collection, "delete") === false) throw await unreachable(ctx, collection, access, key, "delete");
  return inTransactionIf(ctx, needsTransaction(collection, access, "delete"), async (c) => {
    const deleted = await deleteOne(c, collection, access, key);
    // The record no longer exists: there is nothing left to compute its computed fields from.
    return (await complete(c, shape, [{ ...deleted }], access, false))[0]!;
  });
}

/** Deletes every record matching `where` that the caller may delete; returns how many. */
export async function deleteManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where"]), "deleteMany");
  const plan = new Plan(`W-*:${collection.name}|`);
  const { access, where } = await planMany(ctx, collection, options, "delete", plan);
  if (hooked(collection, "delete")) {
    return ctx.atomic(async (tx) => {
      const ids = await idsOf(tx, collection, plan, where);
      for (const id of ids) await deleteOne(tx, collection, access, id);
      return { count: ids.length };
    });
  }
  const query = ctx.cache.get(plan.key, plan.values, () => {
    const query = ctx.runtime.kysely.deleteFrom(`${collection.name} as t0`);
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  const result = await guarded(ctx, collection, "delete", undefined, () => execute(ctx, query));
  return { count: Number(result.numAffectedRows ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// Upsert

/**
 * Updates the record that `where` (one unique field, or the id) names, or creates it when there
 * is none. Race-free: the insert skips on conflict, and then the record that won is updated.
 */
export async function upsertRecord(ctx: DataContext, collection: CollectionModel, rawArgs: unknown, options: unknown): Promise<Row> {
  const args = checkOptions(rawArgs, new Set(["where", "create", "update"]), "upsert");
  const { access, shape } = await shapeFor(ctx, collection, options, "upsert", ["get", "create", "update"]);
  const where = args["where"];
  const entries = typeof where === "object" && where !== null ? Object.entries(where).filter(([, v]) => v !== undefined) : [];
  const [name, value] = entries[0] ?? [];
  const found = name === undefined ? undefined : collection.columnsByName.get(name);
  // A field the caller may not see is no field for it: whether it exists, or a record with its
  // value does, must not show.
  const column = found !== undefined && (access === undefined || access.readable(found)) ? found : undefined;
  const unique =
    column !== undefined &&
    (column.name === "id" ||
      collection.indexes.some((index) => index.unique && index.columns.length === 1 && index.columns[0] === column.name));
  if (entries.length !== 1 || !unique || value === null || typeof value === "object") {
    throw apiError(
      "INVALID_QUERY",
      `where: upsert needs exactly one unique field (or id) and its value, e.g. { where: { slug: "hello" } }`,
      { path: "where" },
    );
  }
  const encoded = ctx.runtime.encode(column.kind, value);
  return ctx.atomic(async (tx) => {
    const find = async () =>
      (await tx.db.selectFrom(collection.name).select("id").where(column.name, "=", encoded).executeTakeFirst())?.["id"] as
        | string
        | undefined;
    let id = await find();
    let record: Row | undefined;
    if (id === undefined) {
      if (ruleOf(access, collection, "create") === false) throw denied(tx.user, `You may not create ${collection.name}.`);
      const createData = { ...(args["create"] as Record<string, unknown> | undefined), [column.name]: value };
      record = await createOne(tx, collection, access, createData, column.name);
      if (record === undefined) id = await find();
    }
    if (record === undefined) {
      if (id === undefined) throw apiError("INTERNAL", "The upserted record vanished while being written.");
      if (ruleOf(access, collection, "update") === false) throw await unreachable(tx, collection, access, id, "update");
      record = await updateOne(tx, collection, access, id, args["update"] ?? {});
    }
    return (await complete(tx, shape, [{ ...record }], access))[0]!;
  });
}
