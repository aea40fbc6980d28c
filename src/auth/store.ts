/**
 * @internal The tables of auth as Kysely sees them, with the clock their times come from.
 * @module
 */
import type { CompiledQuery, Kysely, QueryResult } from "kysely";
import { newId } from "../support/ids.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Clock } from "../define/clock.js";
import type { DB, DialectName } from "../define/types.js";
import type { authTables } from "./tables.js";
import type { DefaultUsers } from "../define/users.js";

/**
 * The tables auth reads and writes, typed from their definitions in `tables.ts` (and the base
 * fields of `users`) on either dialect.
 */
export type AuthDB = DB<typeof authTables & { users: DefaultUsers }, DialectName>;

/** A datetime as the database stores it (an ISO string on SQLite, a Date on PostgreSQL). */
type StoredDatetime = string | Date;

/** Where auth keeps its rows: the database, and the clock that dates them. */
export class AuthStore {
  readonly db: Kysely<AuthDB>;
  readonly runtime: DialectRuntime;
  readonly clock: Clock;

  constructor(runtime: DialectRuntime, clock: Clock) {
    this.runtime = runtime;
    this.clock = clock;
    this.db = runtime.kysely as Kysely<AuthDB>;
  }

  /**
   * Runs one compiled statement outside any transaction: at once where the dialect can (SQLite,
   * when no transaction holds its connection), else through Kysely's executor.
   */
  execute<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (this.runtime.executeDirectly?.(query) ?? this.db.executeQuery(query)) as Promise<QueryResult<R>>;
  }

  /** Now, in epoch milliseconds: how auth's own times (expiries, windows) are stored. */
  now(): number {
    return this.clock.now();
  }

  /** Now, as a datetime column stores it. */
  stamp(): StoredDatetime {
    return this.runtime.encode("datetime", new Date(this.clock.now())) as StoredDatetime;
  }

  /** The id and the timestamps of a new row. */
  stamps(): { id: string; createdAt: StoredDatetime; updatedAt: StoredDatetime } {
    const at = this.stamp();
    return { id: newId(), createdAt: at, updatedAt: at };
  }

  /** A datetime column's value as a Date. */
  date(value: unknown): Date {
    return this.runtime.decode("datetime", value) as Date;
  }

  /** A boolean as a column stores it. */
  boolean(value: boolean): boolean {
    return this.runtime.encode("boolean", value) as boolean;
  }
}
