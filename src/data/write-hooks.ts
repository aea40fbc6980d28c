/**
 * @internal When a write runs its hooks and in a transaction: a write with hooks goes record by
 * record, in a transaction, with the whole record read for its hooks; one without is its
 * statements alone (its rules are part of them).
 * @module
 */
import { hookContext } from "./hook-context.js";
import type { CollectionModel } from "../model/model.js";
import { afterCommit, execute, type DataContext } from "./context.js";
import { generates } from "./generated.js";
import { decodeAll, type Row } from "./rows.js";
import type { Plan } from "./statement-key.js";
import { buildCond, type Cond } from "./where.js";
import { validate } from "./write-input.js";

/** Whether hooks run for a write of `operation`: then it goes record by record, in a transaction. */
export function hooked(collection: CollectionModel, operation: "create" | "update" | "delete"): boolean {
  const hooks = collection.hooks;
  if (keepsChanges(collection)) return true;
  if (operation === "create") return hooks.beforeCreate !== undefined || hooks.afterCreate !== undefined;
  // An update that may make a slug again goes record by record, each with its own slug.
  if (operation === "update") return hooks.beforeUpdate !== undefined || hooks.afterUpdate !== undefined || generates(collection, "update");
  return hooks.beforeDelete !== undefined || hooks.afterDelete !== undefined;
}

/**
 * A write needs a transaction for its hooks and generated values (taken, for a sequence, or
 * checked, for a slug, in the write's transaction); its rules are part of its statements.
 */
export function needsTransaction(collection: CollectionModel, operation: "create" | "update" | "delete"): boolean {
  return hooked(collection, operation) || (operation !== "delete" && generates(collection, operation));
}

/**
 * Whether each write of the collection keeps the record before and after it: for its
 * `afterCommit` hook, and for the event log of a realtime collection.
 */
export function keepsChanges(collection: CollectionModel): boolean {
  return collection.hooks.afterCommit !== undefined || collection.realtime;
}

/** Runs `fn` in a transaction when the write needs one (hooks, filter rules), else directly. */
export function inTransactionIf<T>(ctx: DataContext, needed: boolean, fn: (ctx: DataContext) => Promise<T>): Promise<T> {
  return needed ? ctx.atomic(fn) : fn(ctx);
}

/** The data to create: a validated input through `beforeCreate`, then validated in full. */
export async function completeInput(ctx: DataContext, collection: CollectionModel, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const hook = collection.hooks.beforeCreate;
  if (hook === undefined) return input;
  const changed = await hook(hookContext(ctx, { data: input }));
  return validate(collection.createSchema, collection, undefined, changed ?? input);
}

/** Reads one whole record (every column, decoded) under a condition, for hooks. */
export async function readWhole(ctx: DataContext, collection: CollectionModel, plan: Plan, condition: Cond): Promise<Row | undefined> {
  const query = ctx.cache.get(plan.key("whole"), plan.values, () =>
    ctx.runtime.kysely
      .selectFrom(`${collection.name} as t0`)
      .selectAll("t0")
      .where(buildCond(ctx.runtime, condition, "t0")),
  );
  const rows = (await execute<Row>(ctx, query)).rows;
  decodeAll(ctx, collection, rows);
  return rows[0];
}

/** A snapshot of a decoded record, so hooks and the caller's copy do not share objects. */
export function snapshot(row: Row): Row {
  return structuredClone(row);
}

export async function afterWrite(
  ctx: DataContext,
  collection: CollectionModel,
  operation: "create" | "update" | "delete",
  record: Row,
  previous: Row | null,
): Promise<void> {
  const hooks = collection.hooks;
  if (operation === "create" && hooks.afterCreate !== undefined) {
    await hooks.afterCreate(hookContext(ctx, { record: snapshot(record) as never }));
  } else if (operation === "update" && hooks.afterUpdate !== undefined) {
    await hooks.afterUpdate(hookContext(ctx, { record: snapshot(record) as never, previous: previous as never }));
  } else if (operation === "delete" && hooks.afterDelete !== undefined) {
    await hooks.afterDelete(hookContext(ctx, { record: snapshot(record) as never }));
  }
  if (hooks.afterCommit !== undefined) queueCommitted(ctx, collection, operation, snapshot(record), previous);
  if (collection.realtime) {
    const before = operation === "create" ? null : operation === "delete" ? record : previous;
    const after = operation === "delete" ? null : record;
    // A realtime collection's writes always run in a transaction (see hooked()).
    ctx.transaction!.changes.push({
      collection,
      id: record["id"] as string,
      operation,
      before: before === null ? null : encodeColumns(ctx, collection, before),
      after: after === null ? null : encodeColumns(ctx, collection, after),
    });
  }
}

/** A record's columns as the database is given them: what the event log keeps. */
export function encodeColumns(ctx: DataContext, collection: CollectionModel, record: Row): Row {
  const values: Row = Object.create(null);
  for (const column of collection.columns) values[column.name] = ctx.runtime.encode(column.kind, record[column.name]);
  return values;
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
