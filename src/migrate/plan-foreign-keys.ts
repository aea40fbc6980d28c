/**
 * @internal Plans the foreign keys of the existing columns of an existing table.
 * @module
 */
import type { OnDelete } from "../define/field.js";
import type { ColumnModel } from "../model/model.js";
import { countDanglingReferences } from "./data-checks.js";
import { addForeignKeySql, foreignKeyName } from "./ddl.js";
import type { LiveForeignKey, LiveOnDelete } from "../dialects/live-schema.js";
import { PHASE, type TablePlanner } from "./planned-change.js";

const ON_DELETE_WORDS: Record<LiveOnDelete, string> = {
  restrict: "restrict",
  cascade: "cascade",
  setNull: "set null",
  noAction: "no action",
  setDefault: "set default",
};

// NO ACTION refuses the delete too (at the end of the statement rather than at once), which is
// all a "restrict" belongsTo asks for; keys written by hand often use it, being the default.
function sameOnDelete(expected: OnDelete, live: LiveOnDelete): boolean {
  return expected === live || (expected === "restrict" && live === "noAction");
}

function pointsAtId(key: LiveForeignKey): boolean {
  return key.referencedColumns.length === 1 && (key.referencedColumns[0] === "id" || key.referencedColumns[0] === null);
}

async function planMissing(planner: TablePlanner, column: ColumnModel, target: string): Promise<void> {
  const table = planner.collection.name;
  const where = `${table}.${column.name}`;
  if (!planner.ddl.supportsAddForeignKey) {
    planner.refuse({
      kind: "addForeignKey",
      table,
      column: column.name,
      description: `add a foreign key to ${where} (references ${target}): ${planner.ddl.displayName} cannot add one to an existing column; rebuild the table in a versioned migration`,
    });
    return;
  }
  const targetId = planner.live.get(target)?.columns.get("id");
  // Without a text id in the target (refused there already), there is nothing to compare with.
  if (planner.live.has(target) && (targetId === undefined || !planner.ddl.sameType("id", targetId.type))) return;
  const dangling = await countDanglingReferences(planner.db, table, column.name, target, planner.live.has(target));
  const refusal = {
    kind: "danglingReferences",
    table,
    column: column.name,
    description: `add a foreign key to ${where} (references ${target}): ${dangling} row(s) of ${table} hold an id that ${target} does not have`,
  } as const;
  if (dangling > 0) {
    planner.refuse(refusal);
    return;
  }
  const name = foreignKeyName(table, column.name);
  planner.plan({
    change: {
      kind: "addForeignKey",
      table,
      name,
      description: `add foreign key ${where} references ${target} (on delete ${ON_DELETE_WORDS[column.references!.onDelete]})`,
    },
    statements: [{ phase: PHASE.addForeignKey, sql: addForeignKeySql(table, column), refusedOnViolation: refusal }],
  });
}

/**
 * @internal Plans the foreign keys of the table's existing belongsTo columns. Keys the schema
 * does not declare are left alone: the host may have added them.
 * @example
 * ```ts
 * await planForeignKeys(planner); // after planColumns(planner)
 * ```
 */
export async function planForeignKeys(planner: TablePlanner): Promise<void> {
  const table = planner.collection.name;
  for (const column of planner.collection.columns) {
    const references = column.references;
    const live = planner.table.columns.get(column.name);
    // A column of the wrong type is refused already; comparing its values to ids would fail.
    if (references === undefined || live === undefined || !planner.ddl.sameType(column.kind, live.type)) continue;
    const key = planner.table.foreignKeys.find((candidate) => candidate.columns.length === 1 && candidate.columns[0] === column.name);
    if (key === undefined) {
      await planMissing(planner, column, references.table);
    } else if (key.table !== references.table || !pointsAtId(key) || !sameOnDelete(references.onDelete, key.onDelete)) {
      planner.refuse({
        kind: "changeForeignKey",
        table,
        column: column.name,
        description:
          `change the foreign key of ${table}.${column.name} from ${key.table} (on delete ${ON_DELETE_WORDS[key.onDelete]}) ` +
          `to ${references.table} (on delete ${ON_DELETE_WORDS[references.onDelete]})`,
      });
    }
  }
}
