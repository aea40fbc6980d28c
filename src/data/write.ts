/**
 * @internal Writes: field rules, hooks, validation, collection rules in SQL, and driver errors
 * turned into clear `ApiError`s. Without hooks a create or an update by id is one statement,
 * its rule included (after one statement per collection its `belongsTo` values point to, for a
 * caller whose rule there is a filter). A create or update rule is decided on the proposed
 * record, against the tables as they are before the write (see proposed.ts).
 * @module
 */
import { sql, type SqlBool } from "kysely";
import { v7 as uuidv7 } from "uuid";
import type { z } from "zod";
import { accessFor, denied, type Access } from "../access/caller-access.js";
import { writeIssues } from "../access/field-writes.js";
import type { Operation } from "../access/rules.js";
import { ApiError, apiError, type FieldIssue } from "../errors/api-error.js";
import { issuesOf, validationError } from "../errors/validation.js";
import { hookContext } from "../hooks/hook-context.js";
import type { CollectionModel, ColumnModel } from "../schema/model.js";
import { Slot } from "./compiled-query-cache.js";
import { afterCommit, execute, type DataContext } from "./context.js";
import { generates, withGeneratedValues, withUpdatedSlugs } from "./generated.js";
import { Plan } from "./plan.js";
import { changedRow, holdsFor, newRows } from "./proposed.js";
import { complete } from "./complete.js";
import { checkId, checkLimits, checkOptions, planById, planReadShape, whereContext } from "./planning.js";
import { reachable } from "./read.js";
import { decodeAll, type Row } from "./rows.js";
import { checkReferences, missingIssue, referenceNotFound } from "./references.js";
import type { ReadShape } from "./shape.js";
import { and, buildCond, FALSE, planRule, planWhere, TRUE, type Cond, type WhereContext } from "./where.js";

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
 * The caller's input to a create, validated: in full, or (when `beforeCreate` will complete it)
 * with types checked and required fields not yet. An `id` is an unknown field for callers
 * unless the collection allows client ids.
 */
function createInput(collection: CollectionModel, access: Access | undefined, data: unknown): Record<string, unknown> {
  const drafted = collection.hooks.beforeCreate !== undefined;
  const schema =
    access === undefined
      ? drafted ? collection.draftSchema : collection.createSchema
      : drafted ? collection.callerDraftSchema : collection.callerCreateSchema;
  return validate(schema, collection, access, data);
}

/** The data to create: a validated input through `beforeCreate`, then validated in full. */
async function completeInput(ctx: DataContext, collection: CollectionModel, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const hook = collection.hooks.beforeCreate;
  if (hook === undefined) return input;
  const changed = await hook({ ...hookContext(ctx), data: input });
  return validate(collection.createSchema, collection, undefined, changed ?? input);
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
function uniqueViolation(collection: CollectionModel, fields: readonly string[]): ApiError {
  return apiError("UNIQUE_VIOLATION", `Another ${collection.name} record already has this ${fields.join(", ") || "value"}.`, {
    fields,
  });
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

const READ_OPTIONS = new Set(["select", "include"]);

/**
 * The caller's access for a write and the shape of what it returns: the rules of `operations`,
 * of the includes, and the `get` rules of the collections `written` points to.
 */
async function shapeFor(
  ctx: DataContext,
  collection: CollectionModel,
  rawOptions: unknown,
  what: string,
  operations: readonly Operation[],
  written: unknown,
): Promise<{ access: Access | undefined; shape: ReadShape }> {
  const options = checkOptions(rawOptions, READ_OPTIONS, what);
  checkLimits(ctx, collection, options);
  const access = await accessFor(ctx.system, ctx.user, ctx.model, collection, operations, undefined, options["include"], written);
  return { access, shape: planReadShape(ctx, collection, options, access) };
}

// ---------------------------------------------------------------------------------------------
// Create

/**
 * Inserts one validated record; returns it whole and decoded, or `undefined` when it is not
 * written: when the caller's create rule (a filter, `checked` by the insert itself) does not
 * hold for it, or when `conflict` names a unique column that already holds its value.
 */
async function insert(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  record: Row,
  checked: boolean,
  conflict?: string,
): Promise<Row | undefined> {
  const values: unknown[] = [];
  encodeRecord(ctx, collection, record, values);
  let query;
  if (checked) {
    // INSERT ... SELECT ... WHERE <rule>: one statement, whose rule reads the tables as they are
    // before the row is in them.
    const plan = new Plan(`V:${collection.name}|`);
    plan.values.push(...values);
    const rule = planRule(whereContext(ctx, plan, access), collection, "create");
    query = ctx.cache.get(plan.key, plan.values, () => {
      const names = collection.columns.map((column) => column.name);
      const kysely = ctx.runtime.kysely;
      const proposed = kysely
        .selectFrom(newRows(ctx.runtime, collection, 1, 0).as("t0"))
        .select(names.map((name) => `t0.${name}`))
        .where(buildCond(ctx.runtime, rule, "t0"));
      return kysely.insertInto(collection.name).columns(names).expression(proposed).returningAll();
    });
  } else {
    query = ctx.cache.get(`W+:${collection.name}|${conflict ?? ""}`, values, () => {
      const insert = ctx.runtime.kysely
        .insertInto(collection.name)
        .values(Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(i)])));
      return (conflict === undefined ? insert : insert.onConflict((c) => c.column(conflict).doNothing())).returningAll();
    });
  }
  const rows = await guarded(ctx, collection, "write", record, async () => (await execute<Row>(ctx, query)).rows);
  decodeAll(ctx, collection, rows);
  return rows[0];
}

/**
 * The whole create of one record, in `ctx` (a transaction when hooks or generated values need
 * one); `undefined` when `conflict` names a unique column that already holds its value.
 */
async function createOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  data: unknown,
  conflict?: string,
): Promise<Row | undefined> {
  const input = createInput(collection, access, data);
  await checkReferences(ctx, collection, access, [input]);
  const record = newRecord(collection, await completeInput(ctx, collection, input), new Date());
  const rule = ruleOf(access, collection, "create");
  // With a conflict to skip, an insert that writes nothing would not say why: the rule is
  // decided first, on its own.
  const checked = rule !== true && conflict === undefined;
  const created = await withGeneratedValues(ctx, collection, [record], async () => {
    if (rule !== true && !checked) await requireRule(ctx, collection, access, [record]);
    return insert(ctx, collection, access, record, checked, conflict);
  });
  if (created === undefined) {
    if (checked) throw denied(ctx.user, `You may not create this ${collection.name} record.`);
    return undefined;
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

/**
 * A write needs a transaction for its hooks and generated values (taken, for a sequence, or
 * checked, for a slug, in the write's transaction); its rules are part of its statements.
 */
function needsTransaction(collection: CollectionModel, operation: "create" | "update" | "delete"): boolean {
  return hooked(collection, operation) || (operation !== "delete" && generates(collection, operation));
}

/** Creates one record and returns it as the caller reads it (with `select`/`include`). */
export async function createRecord(ctx: DataContext, collection: CollectionModel, data: unknown, options: unknown): Promise<Row> {
  const { access, shape } = await shapeFor(ctx, collection, options, "create", ["create"], data);
  if (ruleOf(access, collection, "create") === false) throw denied(ctx.user, `You may not create ${collection.name}.`);
  return inTransactionIf(ctx, needsTransaction(collection, "create"), async (c) => {
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
  const { access, shape } = await shapeFor(ctx, collection, options, "createMany", ["create"], data);
  const rule = ruleOf(access, collection, "create");
  if (rule === false) throw denied(ctx.user, `You may not create ${collection.name}.`);
  if (data.length === 0) return [];
  return ctx.atomic(async (tx) => {
    const now = new Date();
    const inputs = await each(collection, data, async (item) => createInput(collection, access, item));
    await checkReferences(tx, collection, access, inputs, true);
    const completed = await each(collection, inputs, (input) => completeInput(tx, collection, input));
    const records = completed.map((input) => newRecord(collection, input, now));
    const width = collection.columns.length;
    const batchSize = Math.max(1, Math.min(500, Math.floor(tx.runtime.maxParameters / width)));
    const byId = new Map<unknown, Row>();
    await withGeneratedValues(tx, collection, records, async () => {
      // Every record's rule is decided before any is written: none sees the others.
      if (rule !== true) await requireRule(tx, collection, access, records);
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
    for (const record of created) await afterWrite(tx, collection, "create", record, null);
    return complete(tx, shape, created.map((record) => ({ ...record })), access);
  });
}

/**
 * Checks every item of a many-write, one after another; the problems of all in one
 * `VALIDATION_FAILED`, each issue's path led by its item's index.
 */
async function each<I, T>(collection: CollectionModel, items: readonly I[], check: (item: I) => Promise<T>): Promise<T[]> {
  const issues: FieldIssue[] = [];
  const checked: T[] = [];
  for (const [i, item] of items.entries()) {
    try {
      checked.push(await check(item));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "VALIDATION_FAILED")) throw error;
      issues.push(...error.issues.map((issue) => ({ ...issue, path: [i, ...issue.path] })));
    }
  }
  if (issues.length > 0) throw validationError(`Invalid ${collection.name} input`, issues);
  return checked;
}

/**
 * Refuses the whole create when the caller's create rule does not hold for every new record,
 * decided against the tables as they are before any is written: one statement per batch.
 */
async function requireRule(ctx: DataContext, collection: CollectionModel, access: Access | undefined, records: readonly Row[]): Promise<void> {
  const plan = new Plan(`N:${collection.name}|`);
  const rule = planRule(whereContext(ctx, plan, access), collection, "create");
  const refused = () =>
    denied(ctx.user, `You may not create ${records.length === 1 ? "this" : "these"} ${collection.name} record${records.length === 1 ? "" : "s"}.`);
  if (rule === FALSE) throw refused();
  const width = collection.columns.length;
  const first = plan.values.length;
  const batchSize = Math.max(1, Math.min(500, Math.floor((ctx.runtime.maxParameters - first) / width)));
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    const values = [...plan.values];
    for (const record of batch) encodeRecord(ctx, collection, record, values);
    const query = ctx.cache.get(`${plan.key}|${batch.length}`, values, () =>
      ctx.runtime.kysely
        .selectFrom(newRows(ctx.runtime, collection, batch.length, first).as("t0"))
        .select(sql<number>`count(*)`.as("count"))
        .where(buildCond(ctx.runtime, rule, "t0")),
    );
    const count = Number((await execute<{ count: number | string }>(ctx, query)).rows[0]!.count);
    if (count !== batch.length) throw refused();
  }
}

// ---------------------------------------------------------------------------------------------
// Update

/**
 * The slots of a changed record's new values, by column: the changed columns from `first` on, in
 * `collection.columns` order, then `updatedAt`.
 */
function changedSlots(changed: readonly ColumnModel[], first: number): Map<string, number> {
  const slots = new Map(changed.map((column, i) => [column.name, first + i]));
  slots.set("updatedAt", first + changed.length);
  return slots;
}

/**
 * The whole update of one record by id, in `ctx`, with the caller's validated `input`; returns
 * it whole and decoded. One statement: `UPDATE ... WHERE` the record is the caller's to update
 * before the change AND its update rule holds for the record as it would be after it, decided
 * against the tables as they are before it.
 */
async function updateOne(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  id: string,
  checked: Record<string, unknown>,
): Promise<Row> {
  let input = checked;
  const hooks = collection.hooks;
  const plan = new Plan(`W~:${collection.name}|`);
  const context = whereContext(ctx, plan, access);
  // The record must be one the caller can see and may update.
  const condition = planById(context, collection, id, ["get", "update"]);
  const after = afterRule(context, collection);
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
    const query = ctx.cache.get(plan.key, plan.values, () => {
      const update = ctx.runtime.kysely
        .updateTable(`${collection.name} as t0`)
        .set(Object.fromEntries([...changedColumns.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])))
        .where(buildCond(ctx.runtime, condition, "t0"));
      if (after === TRUE) return update.returningAll();
      const row = changedRow(ctx.runtime, collection, "t0", changedSlots(changedColumns, first));
      return update.where(holdsFor(ctx.runtime, row, after)).returningAll();
    });
    return guarded(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
  };
  const rows = generates(collection, "update") ? await withUpdatedSlugs(ctx, collection, id, input, write) : await write();
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "update");
  decodeAll(ctx, collection, rows);
  const updated = rows[0]!;
  await afterWrite(ctx, collection, "update", updated, previous);
  return updated;
}

/**
 * The caller's update rule, planned again for the record after the change (no moving a record
 * out of the caller's reach); `TRUE` when it holds for any record.
 */
function afterRule(context: WhereContext, collection: CollectionModel): Cond {
  if (context.access === undefined || context.access.rule(collection, "update") === true) return TRUE;
  context.plan.key += "|after:";
  return planRule(context, collection, "update");
}

/** A caller's update input: validated, and naming in its `belongsTo` fields only records it may read. */
async function updateInput(
  ctx: DataContext,
  collection: CollectionModel,
  access: Access | undefined,
  data: unknown,
): Promise<Record<string, unknown>> {
  const input = validate(collection.updateSchema, collection, access, data);
  await checkReferences(ctx, collection, access, [input]);
  return input;
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
  const { access, shape } = await shapeFor(ctx, collection, options, "update", ["get", "update"], data);
  if (ruleOf(access, collection, "update") === false) throw await unreachable(ctx, collection, access, key, "update");
  const input = await updateInput(ctx, collection, access, data);
  return inTransactionIf(ctx, needsTransaction(collection, "update"), async (c) => {
    const updated = await updateOne(c, collection, access, key, input);
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
): Promise<{ access: Access | undefined; where: Cond; context: WhereContext }> {
  const where = requireWhere(options, `${operation}Many`);
  checkLimits(ctx, collection, { where });
  // With hooks a many-write goes record by record, which also reads the `get` rule.
  const access = await accessFor(ctx.system, ctx.user, ctx.model, collection, ["list", "get", operation], where, undefined, options["data"]);
  if (ruleOf(access, collection, operation) === false) throw denied(ctx.user, `You may not ${operation} ${collection.name}.`);
  const context = whereContext(ctx, plan, access);
  const planned = planWhere(context, collection, where, "where");
  return { access, context, where: and(planned, planRule(context, collection, "list"), planRule(context, collection, operation)) };
}

/** The ids of the records a many-write reaches, when it must go record by record (hooks). */
async function idsOf(ctx: DataContext, collection: CollectionModel, plan: Plan, where: Cond): Promise<string[]> {
  const query = ctx.cache.get(`${plan.key}|ids`, plan.values, () => {
    const query = ctx.runtime.kysely.selectFrom(`${collection.name} as t0`).select("t0.id");
    return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
  });
  return (await execute<{ id: string }>(ctx, query)).rows.map((row) => row.id);
}

/**
 * Updates every record matching `where` that the caller may update; returns how many. With hooks
 * it goes record by record, each decided against the tables as they are before its own change.
 */
export async function updateManyRecords(ctx: DataContext, collection: CollectionModel, rawOptions: unknown): Promise<{ count: number }> {
  const options = checkOptions(rawOptions, new Set(["where", "data"]), "updateMany");
  const plan = new Plan(`W~*:${collection.name}|`);
  const { access, where, context } = await planMany(ctx, collection, options, "update", plan);
  const input = await updateInput(ctx, collection, access, options["data"] ?? {});
  if (!hooked(collection, "update")) return { count: await updateWhere(ctx, collection, context, where, input) };
  return ctx.atomic(async (tx) => {
    const ids = await idsOf(tx, collection, plan, where);
    // Each record's own copy: a slug made for one is not another's.
    for (const id of ids) await updateOne(tx, collection, access, id, { ...input });
    return { count: ids.length };
  });
}

/**
 * The update of every record `where` reaches, in one statement, after one that refuses the
 * whole write when the update rule would not hold for some record after the change.
 */
async function updateWhere(
  ctx: DataContext,
  collection: CollectionModel,
  context: WhereContext,
  where: Cond,
  input: Record<string, unknown>,
): Promise<number> {
  const plan = context.plan;
  const after = afterRule(context, collection);
  const changed = collection.columns.filter((column) => input[column.name] !== undefined);
  const values = [...plan.values];
  const first = values.length;
  for (const column of changed) values.push(ctx.runtime.encode(column.kind, input[column.name]));
  values.push(ctx.runtime.encode("datetime", new Date()));
  const key = `${plan.key}|set:${changed.map((column) => column.name).join(",")}`;
  const row = () => changedRow(ctx.runtime, collection, "t0", changedSlots(changed, first));
  if (after !== TRUE) {
    const check = ctx.cache.get(`Y:${key}`, values, () => {
      const query = ctx.runtime.kysely
        .selectFrom(`${collection.name} as t0`)
        .select("t0.id")
        .where(sql<SqlBool>`not ${holdsFor(ctx.runtime, row(), after)}`)
        .limit(1);
      return where === TRUE ? query : query.where(buildCond(ctx.runtime, where, "t0"));
    });
    if ((await execute(ctx, check)).rows.length > 0) throw denied(ctx.user, `You may not update these ${collection.name} records.`);
  }
  const query = ctx.cache.get(key, values, () => {
    let query = ctx.runtime.kysely
      .updateTable(`${collection.name} as t0`)
      .set(Object.fromEntries([...changed.map((c) => c.name), "updatedAt"].map((name, i) => [name, new Slot(first + i)])));
    if (where !== TRUE) query = query.where(buildCond(ctx.runtime, where, "t0"));
    // Decided again in the write: a record changed since the check is skipped, never written unchecked.
    if (after !== TRUE) query = query.where(holdsFor(ctx.runtime, row(), after));
    return query.returning("id");
  });
  const rows = await guarded(ctx, collection, "write", input, async () => (await execute<Row>(ctx, query)).rows);
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
  const { access, shape } = await shapeFor(ctx, collection, undefined, "delete", ["get", "delete"], undefined);
  if (ruleOf(access, collection, "delete") === false) throw await unreachable(ctx, collection, access, key, "delete");
  return inTransactionIf(ctx, needsTransaction(collection, "delete"), async (c) => {
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
 * is none. A record the caller may not read is none for it: the upsert then creates, and answers
 * as a create of that value would (`UNIQUE_VIOLATION`). Race-free: the insert skips on conflict,
 * and then the record that won is updated.
 */
export async function upsertRecord(ctx: DataContext, collection: CollectionModel, rawArgs: unknown, options: unknown): Promise<Row> {
  const args = checkOptions(rawArgs, new Set(["where", "create", "update"]), "upsert");
  const written = [args["where"], args["create"], args["update"]];
  const { access, shape } = await shapeFor(ctx, collection, options, "upsert", ["get", "create", "update"], written);
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
  const plan = new Plan(`U:${collection.name}|${column.name}|`);
  const byValue: Cond = { t: "cmp", column: column.name, op: "=", p: plan.param(ctx.runtime.encode(column.kind, value)) };
  const condition = and(byValue, planRule(whereContext(ctx, plan, access), collection, "get"));
  return ctx.atomic(async (tx) => {
    const find = async () => {
      if (condition === FALSE) return undefined;
      const query = tx.cache.get(plan.key, plan.values, () =>
        tx.runtime.kysely.selectFrom(`${collection.name} as t0`).select("t0.id").where(buildCond(tx.runtime, condition, "t0")),
      );
      return (await execute<{ id: string }>(tx, query)).rows[0]?.id;
    };
    let id = await find();
    let record: Row | undefined;
    if (id === undefined) {
      if (ruleOf(access, collection, "create") === false) throw denied(tx.user, `You may not create ${collection.name}.`);
      const createData = { ...(args["create"] as Record<string, unknown> | undefined), [column.name]: value };
      record = await createOne(tx, collection, access, createData, column.name);
      if (record === undefined) id = await find();
      if (record === undefined && id === undefined) {
        // Held by a record the caller may not read (or, for the system scope, deleted meanwhile).
        if (access !== undefined) throw uniqueViolation(collection, [column.name]);
        throw apiError("INTERNAL", "The upserted record vanished while being written.");
      }
    }
    if (record === undefined) {
      if (ruleOf(access, collection, "update") === false) throw await unreachable(tx, collection, access, id!, "update");
      record = await updateOne(tx, collection, access, id!, await updateInput(tx, collection, access, args["update"] ?? {}));
    }
    return (await complete(tx, shape, [{ ...record }], access))[0]!;
  });
}
