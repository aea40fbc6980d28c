/**
 * @internal `createMany`: every record in one transaction (all or none), in batches of
 * multi-row inserts, every record's rule decided before any is written.
 * @module
 */
import { denied } from "../access/caller-access.js";
import { validationError } from "../errors/validation.js";
import type { CollectionModel } from "../model/model.js";
import { Slot } from "./compiled-query-cache.js";
import { complete } from "./complete.js";
import { execute, type DataContext } from "./context.js";
import { requireRule } from "./create.js";
import { withGeneratedValues } from "./generated.js";
import { checkReferences } from "./references.js";
import { decodeAll, type Row } from "./rows.js";
import { statementKey } from "./statement-key.js";
import { ruleOf, shapeFor } from "./write-access.js";
import { withWriteErrors } from "./write-errors.js";
import { afterWrite, completeInput } from "./write-hooks.js";
import { createInput, each, encodeRecord, newRecord } from "./write-input.js";

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
        const query = tx.cache.get(statementKey("insertMany", collection.name, batch.length), values, () =>
          tx.runtime.kysely
            .insertInto(collection.name)
            .values(
              batch.map((_, row) =>
                Object.fromEntries(collection.columns.map((column, i) => [column.name, new Slot(row * width + i)])),
              ),
            )
            .returningAll(),
        );
        const rows = await withWriteErrors(tx, collection, "write", batch.length === 1 ? batch[0] : undefined, async () =>
          (await execute<Row>(tx, query)).rows,
        );
        decodeAll(tx, collection, rows);
        for (const row of rows) byId.set(row["id"], row);
      }
    });
    // Returned in the order given, whatever order the database returned them in.
    const created = records.map((record) => byId.get(record["id"])!);
    for (const record of created) await afterWrite(tx, collection, "create", record, null);
    return complete(tx, shape, created, access);
  });
}
