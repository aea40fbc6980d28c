/**
 * @internal `upsert`: update the record one unique value names, or create it.
 * @module
 */
import { denied } from "../access/caller-access.js";
import { apiError } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import { complete } from "./complete.js";
import { execute, type DataContext } from "./context.js";
import { createOne } from "./create.js";
import { checkOptions, whereContext } from "./planning.js";
import type { Row } from "./rows.js";
import { Plan } from "./statement-key.js";
import { updateOne } from "./update.js";
import { and, buildCond, comparedValue, FALSE, planRule, type Cond } from "./where.js";
import { ruleOf, shapeFor, unreachable } from "./write-access.js";
import { uniqueViolation } from "./write-errors.js";
import { updateInput } from "./write-input.js";

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
  const plan = new Plan(collection.name, column.name);
  const encoded = comparedValue(ctx.runtime, column, value, `where.${column.name}`);
  const byValue: Cond = { t: "cmp", column: column.name, op: "=", p: plan.param(encoded) };
  const condition = and(byValue, planRule(whereContext(ctx, plan, access), collection, "get"));
  return ctx.atomic(async (tx) => {
    const find = async () => {
      if (condition === FALSE) return undefined;
      const query = tx.cache.get(plan.key("upsertFind"), plan.values, () =>
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
    return (await complete(tx, shape, [record], access))[0]!;
  });
}
