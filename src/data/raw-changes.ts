/**
 * @internal Raw writes whose changes are published: records read whole before and after a
 * host's own Kysely statements, in one transaction, and what changed between the two goes to
 * the event log like the changes of the data API.
 * @module
 */
import type { Kysely } from "kysely";
import type { CollectionModel } from "../model/model.js";
import type { DataContext } from "./context.js";
import { decodeAll, type Row } from "./rows.js";
import { encodeColumns } from "./write-hooks.js";

/** The most records one raw write may name. */
export const MAX_TRACKED = 10_000;

/**
 * Runs `write` in a transaction of `ctx` (the system scope's) between two reads of the records
 * `ids` of `collection`; each record it created, changed or deleted is a change of the transaction.
 */
export async function writeTracked<T>(
  ctx: DataContext,
  collection: CollectionModel,
  ids: readonly string[],
  write: (db: Kysely<any>) => Promise<T>,
): Promise<T> {
  if (!collection.realtime) throw new TypeError(`The collection "${collection.name}" is not realtime: its writes are not published.`);
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) {
    throw new TypeError("realtime.write(collection, ids, write): ids must be an array of record ids (non-empty strings).");
  }
  if (ids.length > MAX_TRACKED) throw new TypeError(`realtime.write() names at most ${MAX_TRACKED} records at once, not ${ids.length}.`);
  if (typeof write !== "function") throw new TypeError("realtime.write(collection, ids, write): write must be a function.");
  const unique = [...new Set(ids)];
  return ctx.atomic(async (tx) => {
    const before = await wholeRows(tx, collection, unique);
    const result = await write(tx.db);
    const after = await wholeRows(tx, collection, unique);
    for (const id of unique) {
      const was = before.get(id);
      const is = after.get(id);
      if (was === undefined && is === undefined) continue;
      const encodedBefore = was === undefined ? null : encodeColumns(tx, collection, was);
      const encodedAfter = is === undefined ? null : encodeColumns(tx, collection, is);
      if (encodedBefore !== null && encodedAfter !== null && JSON.stringify(encodedBefore) === JSON.stringify(encodedAfter)) continue;
      const operation = encodedBefore === null ? "create" : encodedAfter === null ? "delete" : "update";
      tx.transaction!.changes.push({ collection, id, operation, before: encodedBefore, after: encodedAfter });
    }
    return result;
  });
}

/** The whole records of some ids, decoded, by id. */
async function wholeRows(ctx: DataContext, collection: CollectionModel, ids: readonly string[]): Promise<Map<string, Row>> {
  const rows = new Map<string, Row>();
  const size = Math.max(1, ctx.runtime.maxParameters - 1);
  for (let start = 0; start < ids.length; start += size) {
    const batch = ids.slice(start, start + size);
    const found = (await ctx.db.selectFrom(collection.name).selectAll().where("id", "in", batch).execute()) as Row[];
    decodeAll(ctx, collection, found);
    for (const row of found) rows.set(row["id"] as string, row);
  }
  return rows;
}
