/**
 * @internal Dropping rows that expired: sessions and one-use tokens are dead once past their
 * `expiresAt` (nothing finds them), and are deleted now and then, a bounded batch at a time.
 * @module
 */
import type { Kysely } from "kysely";
import type { AuthDB } from "./store.js";

/** How often (by the backend's clock) one instance sweeps a table: at most once an hour. */
export const SWEEP_EVERY = 3_600_000;
/** The most rows one sweep deletes: a statement's work stays bounded however many expired. */
export const SWEEP_BATCH = 1_000;

/** A table with an `expiresAt` in epoch milliseconds and an `id`. */
type Expiring = "cimiento_sessions" | "cimiento_tokens";

/**
 * The sweeper of one table: at most once every `SWEEP_EVERY` (the first time at once), it
 * deletes up to `SWEEP_BATCH` rows that expired before `now`.
 */
export class Sweeper {
  readonly #table: Expiring;
  #next = 0;

  constructor(table: Expiring) {
    this.#table = table;
  }

  /** Deletes a batch of expired rows, with `db` (the caller's transaction, say), when one is due. */
  async maybeSweep(db: Kysely<AuthDB>, now: number): Promise<void> {
    if (now < this.#next) return;
    this.#next = now + SWEEP_EVERY;
    const table = this.#table;
    await (db as Kysely<Pick<AuthDB, Expiring>>)
      .deleteFrom(table)
      .where("id", "in", (eb) => eb.selectFrom(table).select("id").where("expiresAt", "<", now).limit(SWEEP_BATCH))
      .execute();
  }
}
