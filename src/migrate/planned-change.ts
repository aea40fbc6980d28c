/**
 * @internal A change of the sync's plan: what it reports, and the statements that make it.
 * @module
 */
import type { Kysely } from "kysely";
import type { DialectDdl } from "../dialects/dialect.js";
import type { CollectionModel } from "../model/model.js";
import type { LiveSchema, LiveTable } from "../dialects/live-schema.js";
import type { RefusedChange, SchemaChange } from "./schema-change.js";

/**
 * @internal When a statement runs. Tables come first so that anything may refer to them;
 * indexes are dropped before they are created so that a redefinition can reuse a name;
 * foreign keys added by ALTER TABLE come last, once every table and column they join exists.
 */
export const PHASE = { createTable: 0, addColumn: 1, dropIndex: 2, createIndex: 3, addForeignKey: 4 } as const;

/** @internal One of {@link PHASE}. */
export type Phase = (typeof PHASE)[keyof typeof PHASE];

/** @internal A DDL statement of the plan. */
export interface Statement {
  readonly phase: Phase;
  readonly sql: string;
  /**
   * What it means when the data makes this statement fail (a unique or foreign key violation):
   * reported as this refusal rather than as a raw driver error.
   */
  readonly refusedOnViolation?: RefusedChange;
}

/** @internal A reported change and its statements. */
export interface PlannedChange {
  readonly change: SchemaChange;
  readonly statements: readonly Statement[];
}

/** @internal Everything the planners of one existing table share. */
export interface TablePlanner {
  readonly db: Kysely<any>;
  readonly ddl: DialectDdl;
  readonly collection: CollectionModel;
  readonly table: LiveTable;
  readonly live: LiveSchema;
  /** The columns this sync adds to the table (they are not in `table` yet). */
  readonly added: Set<string>;
  /** Whether the table holds any row; asked at most once. */
  hasRows(): Promise<boolean>;
  plan(change: PlannedChange): void;
  refuse(change: RefusedChange): void;
}
