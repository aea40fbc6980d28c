/**
 * @internal The database as introspection finds it, in one shape for every dialect.
 * @module
 */
import type { Kysely } from "kysely";

/** @internal A column of a live table. */
export interface LiveColumn {
  readonly name: string;
  /** The declared SQL type, as the database spells it (`TEXT`, `timestamp with time zone`). */
  readonly type: string;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
  /** The SQL default expression, as the database prints it; `null` when there is none. */
  readonly default: string | null;
}

/** @internal An index of a live table. */
export interface LiveIndex {
  readonly name: string;
  /** Key columns in order; `null` for an expression. */
  readonly columns: readonly (string | null)[];
  readonly unique: boolean;
  /**
   * Made by `CREATE INDEX` over plain columns, without `WHERE` or `INCLUDE`, and not backing a
   * constraint: the only kind cimiento ever creates, so the only kind it may drop.
   */
  readonly plain: boolean;
}

/** @internal What happens to referencing rows when the referenced row is deleted. */
export type LiveOnDelete = "restrict" | "cascade" | "setNull" | "noAction" | "setDefault";

/** @internal A foreign key of a live table. */
export interface LiveForeignKey {
  readonly columns: readonly string[];
  /** The referenced table; qualified by its schema when it lives in another one. */
  readonly table: string;
  /** The referenced columns; `null` where SQLite leaves them implicit (the primary key). */
  readonly referencedColumns: readonly (string | null)[];
  readonly onDelete: LiveOnDelete;
}

/** @internal A live table. */
export interface LiveTable {
  readonly name: string;
  readonly columns: ReadonlyMap<string, LiveColumn>;
  readonly indexes: readonly LiveIndex[];
  readonly foreignKeys: readonly LiveForeignKey[];
}

/** @internal The live tables that the model names; a missing table is not in the map. */
export type LiveSchema = ReadonlyMap<string, LiveTable>;

/** @internal Reads the live tables among `tables`, on the connection (or transaction) `db`. */
export type Introspector = (db: Kysely<any>, tables: readonly string[]) => Promise<LiveSchema>;
