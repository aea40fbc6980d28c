/**
 * @internal Compares the model with the live database and plans the sync: the additive changes
 * to make and the changes to refuse.
 * @module
 */
import type { Kysely } from "kysely";
import type { DialectDdl } from "../dialects/dialect.js";
import type { CollectionModel, Model } from "../model/model.js";
import { hasRows } from "./data-checks.js";
import { addForeignKeySql, createIndexSql, createTableSql } from "./ddl.js";
import type { LiveSchema, LiveTable } from "../dialects/live-schema.js";
import { planColumns } from "./plan-columns.js";
import { planForeignKeys } from "./plan-foreign-keys.js";
import { indexColumns, planIndexes } from "./plan-indexes.js";
import { PHASE, type PlannedChange, type Statement, type TablePlanner } from "./planned-change.js";
import type { RefusedChange } from "./schema-change.js";

/** @internal The sync's plan; nothing may be applied while `refused` is not empty. */
export interface Plan {
  /** In the order their first statements run. */
  readonly changes: readonly PlannedChange[];
  readonly refused: readonly RefusedChange[];
}

function planNewTable(ddl: DialectDdl, collection: CollectionModel): PlannedChange[] {
  const table = collection.name;
  const statements: Statement[] = [{ phase: PHASE.createTable, sql: createTableSql(ddl, collection) }];
  if (ddl.supportsAddForeignKey) {
    for (const column of collection.columns) {
      if (column.references !== undefined) statements.push({ phase: PHASE.addForeignKey, sql: addForeignKeySql(table, column) });
    }
  }
  return [
    { change: { kind: "createTable", table, name: table, description: `create table ${table}` }, statements },
    ...collection.indexes.map((index) => ({
      change: {
        kind: "createIndex" as const,
        table,
        name: index.name,
        description: `create ${index.unique ? "unique " : ""}index ${index.name} on ${indexColumns(table, index.columns)}`,
      },
      statements: [{ phase: PHASE.createIndex, sql: createIndexSql(table, index) }],
    })),
  ];
}

async function planExistingTable(
  db: Kysely<any>,
  ddl: DialectDdl,
  collection: CollectionModel,
  table: LiveTable,
  live: LiveSchema,
  changes: PlannedChange[],
  refused: RefusedChange[],
): Promise<void> {
  let rows: Promise<boolean> | undefined;
  const planner: TablePlanner = {
    db,
    ddl,
    collection,
    table,
    live,
    added: new Set(),
    hasRows: () => (rows ??= hasRows(db, collection.name)),
    plan: (change) => changes.push(change),
    refuse: (change) => refused.push(change),
  };
  // Columns first: the other planners need to know which columns this sync adds.
  await planColumns(planner);
  await planForeignKeys(planner);
  await planIndexes(planner);
}

function firstPhase(change: PlannedChange): number {
  return Math.min(...change.statements.map((statement) => statement.phase));
}

/**
 * @internal Plans the sync of every collection of `model` against `live`. Tables of the
 * database that the model does not name are not looked at.
 * @example
 * ```ts
 * const plan = await planSync(trx, runtime.ddl, model, await runtime.introspect(trx, [...model.collections.keys()]));
 * ```
 */
export async function planSync(db: Kysely<any>, ddl: DialectDdl, model: Model, live: LiveSchema): Promise<Plan> {
  const changes: PlannedChange[] = [];
  const refused: RefusedChange[] = [];
  for (const collection of model.collections.values()) {
    const table = live.get(collection.name);
    if (table === undefined) changes.push(...planNewTable(ddl, collection));
    else await planExistingTable(db, ddl, collection, table, live, changes, refused);
  }
  // Array#sort is stable: within a phase, changes keep the schema's order.
  return { changes: changes.sort((a, b) => firstPhase(a) - firstPhase(b)), refused };
}
