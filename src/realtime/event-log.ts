/**
 * @internal The event log of realtime collections: one row per committed write of a record (the
 * record before and after it), numbered in commit order. Rows are appended just before the
 * write's transaction commits, under the lock of one counter row that the transaction holds until
 * its commit, so that numbers are given in the order transactions commit and without holes: a
 * reader that has seen number `n` has seen everything before it.
 * @module
 */
import { sql, type Kysely } from "kysely";
import { newId } from "../support/ids.js";
import { z } from "zod";
import { systemCollection } from "../define/collection.js";
import { field } from "../define/field.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Change } from "../data/context.js";
import { SEQUENCES_TABLE, sequencesTable } from "../data/generated.js";
import { SECRETS_TABLE, secretsTable } from "./tokens.js";
import type { Row } from "../data/rows.js";

export const EVENTS_TABLE = "cimiento_events";

/** The counter of the log's numbers, in the table of sequences. */
const COUNTER = "cimiento_events.sequence";

export const eventsTable = systemCollection(EVENTS_TABLE, {
  fields: {
    /** The number of the event: 1, 2, 3, ... in commit order. */
    sequence: field.integer().unique(),
    collection: field.text(),
    record: field.text(),
    operation: field.text(),
    /** The record's columns before the write (as the database is given them); null for a create. */
    before: field.json(z.unknown()).optional(),
    /** The record's columns after the write; null for a delete. */
    after: field.json(z.unknown()).optional(),
    /** When the event was written (ms since the epoch), for retention. */
    at: field.integer().index(),
  },
  // A subscriber that resumes reads its collection's events from a point on: as many rows as it
  // is given, however many other collections' events lie between.
  indexes: [["collection", "sequence"]],
});

/** The system tables of realtime, for `createBackend` (with a realtime collection). */
export const realtimeTables = { [EVENTS_TABLE]: eventsTable, [SEQUENCES_TABLE]: sequencesTable, [SECRETS_TABLE]: secretsTable };

/** One event of the log, as read. */
export interface LoggedEvent {
  readonly sequence: number;
  readonly collection: string;
  readonly record: string;
  readonly operation: "create" | "update" | "delete";
  readonly before: Row | null;
  readonly after: Row | null;
}

/** The event log of one database. */
export class EventLog {
  readonly #runtime: DialectRuntime;

  constructor(runtime: DialectRuntime) {
    this.#runtime = runtime;
  }

  /**
   * Appends a transaction's changes, in `db` (the transaction), numbered after the last number
   * given; returns the last number. Locks the counter's row until the transaction ends.
   */
  async append(db: Kysely<any>, changes: readonly Change[], now: number): Promise<number> {
    const runtime = this.#runtime;
    const count = changes.length;
    const stamp = runtime.encode("datetime", new Date(now));
    const { rows } = await sql<{ value: number | string }>`
      insert into ${sql.table(SEQUENCES_TABLE)} ("id", "name", "value", "createdAt", "updatedAt")
      values (${newId()}, ${COUNTER}, ${count}, ${stamp}, ${stamp})
      on conflict ("name") do update
        set "value" = ${sql.table(SEQUENCES_TABLE)}."value" + ${count},
            "updatedAt" = ${stamp}
      returning "value"`.execute(db);
    const last = Number(rows[0]!.value);
    // Seven columns besides the three every table has; batches under the dialect's parameter cap.
    const size = Math.max(1, Math.min(500, Math.floor(runtime.maxParameters / 10)));
    for (let start = 0; start < count; start += size) {
      const values = changes.slice(start, start + size).map((change, i) => ({
        id: newId(),
        createdAt: stamp,
        updatedAt: stamp,
        sequence: last - count + 1 + start + i,
        collection: change.collection.name,
        record: change.id,
        operation: change.operation,
        before: change.before === null ? null : JSON.stringify(change.before),
        after: change.after === null ? null : JSON.stringify(change.after),
        at: now,
      }));
      await db.insertInto(EVENTS_TABLE).values(values).execute();
    }
    return last;
  }

  /** The events after `after`, in order, at most `limit`; of `collection` only, when given. */
  async read(after: number, limit: number, collection?: string): Promise<LoggedEvent[]> {
    let query = this.#runtime.kysely
      .selectFrom(EVENTS_TABLE)
      .select(["sequence", "collection", "record", "operation", "before", "after"])
      .where("sequence", ">", after)
      .orderBy("sequence")
      .limit(limit);
    if (collection !== undefined) query = query.where("collection", "=", collection);
    const rows = (await query.execute()) as Record<string, unknown>[];
    return rows.map((row) => ({
      sequence: Number(row["sequence"]),
      collection: row["collection"] as string,
      record: row["record"] as string,
      operation: row["operation"] as LoggedEvent["operation"],
      before: this.#columns(row["before"]),
      after: this.#columns(row["after"]),
    }));
  }

  #columns(value: unknown): Row | null {
    if (value === null || value === undefined) return null;
    const parsed = typeof value === "string" ? (JSON.parse(value) as Row) : (value as Row);
    // Keys the log wrote itself (column names); no prototype to reach through them all the same.
    return Object.assign(Object.create(null) as Row, parsed);
  }

  /** The last number given (0 before the first event), and the oldest the log still holds. */
  async bounds(): Promise<{ last: number; oldest: number | undefined }> {
    const kysely = this.#runtime.kysely;
    const counter = await kysely.selectFrom(SEQUENCES_TABLE).select("value").where("name", "=", COUNTER).executeTakeFirst();
    const oldest = await kysely.selectFrom(EVENTS_TABLE).select("sequence").orderBy("sequence").limit(1).executeTakeFirst();
    return {
      last: counter === undefined ? 0 : Number(counter["value"]),
      oldest: oldest === undefined ? undefined : Number(oldest["sequence"]),
    };
  }

  /** Deletes the events written before `cutoff` (ms since the epoch), at most `limit`; returns how many. */
  async prune(cutoff: number, limit: number): Promise<number> {
    const kysely = this.#runtime.kysely;
    const old = kysely.selectFrom(EVENTS_TABLE).select("id").where("at", "<", cutoff).orderBy("at").limit(limit);
    const result = await kysely.deleteFrom(EVENTS_TABLE).where("id", "in", old).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
