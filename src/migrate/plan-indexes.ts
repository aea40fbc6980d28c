/**
 * @internal Plans the indexes of an existing table: creates the missing ones, drops the ones
 * cimiento made that the schema no longer has, and leaves every other index alone.
 * @module
 */
import { indexName, type IndexModel } from "../model/model.js";
import { countDuplicateValues } from "./data-checks.js";
import { createIndexSql, dropIndexSql } from "./ddl.js";
import type { LiveIndex } from "../dialects/live-schema.js";
import { PHASE, type TablePlanner } from "./planned-change.js";
import type { RefusedChange } from "./schema-change.js";

/**
 * @internal `table (a, b)`, the way changes name an index's columns.
 * @example
 * ```ts
 * indexColumns("posts", ["published", "createdAt"]); // "posts (published, createdAt)"
 * ```
 */
export function indexColumns(table: string, columns: readonly (string | null)[]): string {
  return `${table} (${columns.map((column) => column ?? "<expression>").join(", ")})`;
}

// An index is cimiento's when it carries exactly the name cimiento gives its definition: that
// tells it apart from the host's own indexes, which are never dropped.
function isOurs(table: string, index: LiveIndex): boolean {
  return index.plain && index.name === indexName(table, index.columns as string[], index.unique);
}

function sameDefinition(index: IndexModel, live: LiveIndex): boolean {
  return (
    live.unique === index.unique &&
    live.columns.length === index.columns.length &&
    index.columns.every((column, i) => live.columns[i] === column)
  );
}

function duplicateRefusal(table: string, index: IndexModel, count: number | undefined): RefusedChange {
  const amount = count === undefined ? "some values are" : `${count} value(s) are`;
  return {
    kind: "duplicateValues",
    table,
    ...(index.columns.length === 1 ? { column: index.columns[0]! } : {}),
    description: `create unique index ${index.name} on ${indexColumns(table, index.columns)}: ${amount} held by more than one row; make them unique first`,
  };
}

/**
 * Duplicates over a new unique index, counted before anything runs. A column added by this sync
 * holds one value in every row: its default, or NULL, which a unique index never compares.
 */
async function countDuplicates(planner: TablePlanner, index: IndexModel): Promise<number> {
  if (!(await planner.hasRows())) return 0;
  const existing: string[] = [];
  for (const name of index.columns) {
    if (!planner.added.has(name)) existing.push(name);
    else if (planner.collection.columnsByName.get(name)!.sqlDefault?.value == null) return 0;
  }
  return countDuplicateValues(planner.db, planner.collection.name, existing);
}

/**
 * @internal Plans the indexes of an existing table.
 * @example
 * ```ts
 * await planIndexes(planner); // after planColumns(planner)
 * ```
 */
export async function planIndexes(planner: TablePlanner): Promise<void> {
  const table = planner.collection.name;
  const live = new Map(planner.table.indexes.map((index) => [index.name, index]));
  for (const index of planner.collection.indexes) {
    // A column that is neither there nor added has been refused already, which says why.
    if (index.columns.some((name) => !planner.table.columns.has(name) && !planner.added.has(name))) continue;
    const existing = live.get(index.name);
    if (existing !== undefined) {
      if (!sameDefinition(index, existing)) {
        planner.refuse({
          kind: "changeIndex",
          table,
          description: `index ${index.name} should be ${index.unique ? "a unique index" : "an index"} on ${indexColumns(table, index.columns)}, but the database has one of that name on ${indexColumns(table, existing.columns)}${existing.unique ? " (unique)" : ""}`,
        });
      }
      continue;
    }
    if (index.unique) {
      const duplicates = await countDuplicates(planner, index);
      if (duplicates > 0) {
        planner.refuse(duplicateRefusal(table, index, duplicates));
        continue;
      }
    }
    planner.plan({
      change: {
        kind: "createIndex",
        table,
        name: index.name,
        description: `create ${index.unique ? "unique " : ""}index ${index.name} on ${indexColumns(table, index.columns)}`,
      },
      statements: [
        {
          phase: PHASE.createIndex,
          sql: createIndexSql(table, index),
          ...(index.unique ? { refusedOnViolation: duplicateRefusal(table, index, undefined) } : {}),
        },
      ],
    });
  }
  const wanted = new Set(planner.collection.indexes.map((index) => index.name));
  for (const index of planner.table.indexes) {
    if (wanted.has(index.name) || !isOurs(table, index)) continue;
    planner.plan({
      change: {
        kind: "dropIndex",
        table,
        name: index.name,
        description: `drop ${index.unique ? "unique " : ""}index ${index.name} on ${indexColumns(table, index.columns)}: the schema no longer has it`,
      },
      statements: [{ phase: PHASE.dropIndex, sql: dropIndexSql(index.name) }],
    });
  }
}
