/**
 * @internal `delete` of one record by id: the record is returned as it was; its computed fields
 * are `null`, there being nothing left to compute them from.
 * @module
 */
import type { Access } from "../access/caller-access.js";
import { hookContext } from "./hook-context.js";
import type { CollectionModel } from "../model/model.js";
import { complete } from "./complete.js";
import { execute, type DataContext } from "./context.js";
import { checkId, planById, whereContext } from "./planning.js";
import { decodeAll, type Row } from "./rows.js";
import { Plan } from "./statement-key.js";
import { buildCond } from "./where.js";
import { ruleOf, shapeFor, unreachable } from "./write-access.js";
import { withWriteErrors } from "./write-errors.js";
import { afterWrite, inTransactionIf, needsTransaction, readWhole, snapshot } from "./write-hooks.js";

/** Deletes one record by id and returns it; `NOT_FOUND` / `FORBIDDEN` as for update. */
export async function deleteRecord(ctx: DataContext, collection: CollectionModel, id: unknown): Promise<Row> {
  const key = checkId(id);
  const { access, shape } = await shapeFor(ctx, collection, undefined, "delete", ["get", "delete"], undefined);
  if (ruleOf(access, collection, "delete") === false) throw await unreachable(ctx, collection, access, key, "delete");
  return inTransactionIf(ctx, needsTransaction(collection, "delete"), async (c) => {
    const deleted = await deleteOne(c, collection, access, key);
    // The record no longer exists: there is nothing left to compute its computed fields from.
    return (await complete(c, shape, [deleted], access, false))[0]!;
  });
}

export async function deleteOne(ctx: DataContext, collection: CollectionModel, access: Access | undefined, id: string): Promise<Row> {
  const plan = new Plan(collection.name);
  const condition = planById(whereContext(ctx, plan, access), collection, id, ["get", "delete"]);
  const hook = collection.hooks.beforeDelete;
  if (hook !== undefined) {
    const record = await readWhole(ctx, collection, plan, condition);
    if (record === undefined) throw await unreachable(ctx, collection, access, id, "delete");
    await hook(hookContext(ctx, { record: snapshot(record) as never }));
  }
  const query = ctx.cache.get(plan.key("delete"), plan.values, () =>
    ctx.runtime.kysely
      .deleteFrom(`${collection.name} as t0`)
      .where(buildCond(ctx.runtime, condition, "t0"))
      .returningAll(),
  );
  const rows = await withWriteErrors(ctx, collection, "delete", undefined, async () => (await execute<Row>(ctx, query)).rows);
  if (rows.length === 0) throw await unreachable(ctx, collection, access, id, "delete");
  decodeAll(ctx, collection, rows);
  await afterWrite(ctx, collection, "delete", rows[0]!, null);
  return rows[0]!;
}
