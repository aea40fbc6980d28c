/**
 * @internal Plans the columns of an existing table: adds the missing ones that can be added
 * without inventing data, refuses every other difference.
 * @module
 */
import type { ColumnModel } from "../model/model.js";
import { sqlDefault } from "./column-definition.js";
import { addColumnSql, addForeignKeySql } from "./ddl.js";
import { PHASE, type Statement, type TablePlanner } from "./planned-change.js";
import type { RefusedChange } from "./schema-change.js";

/**
 * Why `column` cannot be added to the table while it holds rows; `undefined` when it can.
 * An empty table takes any column: databases only refuse these columns when there are rows to
 * fill (SQLite from 3.37).
 */
function blockedByRows(planner: TablePlanner, column: ColumnModel): RefusedChange | undefined {
  const table = planner.collection.name;
  const where = `${table}.${column.name}`;
  const base = { table, column: column.name } as const;
  const fallback = sqlDefault(planner.ddl, table, column);
  const limit = planner.ddl.addColumnLimit(table, column, fallback);
  if (limit !== undefined) return { ...base, kind: limit.kind, description: `add column ${where}: ${limit.reason}` };
  const generated = column.field?.generated;
  if (generated !== undefined) {
    const after = generated.kind === "sequence" ? "; generated values then go on after the largest one" : "";
    return {
      ...base,
      kind: "addRequiredColumn",
      description: `add generated column ${where}: ${table} holds rows, and a ${generated.kind} is only made when a record is created (add the column and fill it for those rows in a versioned migration${after})`,
    };
  }
  if (!column.nullable && fallback === undefined) {
    return {
      ...base,
      kind: "addRequiredColumn",
      description: `add required column ${where}: ${table} holds rows and the field has no default to fill them with (make it optional(), give it a default(), or fill it in a versioned migration)`,
    };
  }
  return undefined;
}

async function planAddColumn(planner: TablePlanner, column: ColumnModel): Promise<void> {
  const table = planner.collection.name;
  if (column.kind === "id") {
    planner.refuse({
      kind: "addRequiredColumn",
      table,
      column: column.name,
      description: `add column ${table}.id: the table has no id column, and a primary key is not added to an existing table automatically`,
    });
    return;
  }
  const blocker = blockedByRows(planner, column);
  if (blocker !== undefined && (await planner.hasRows())) {
    planner.refuse(blocker);
    return;
  }
  planner.added.add(column.name);
  const statements: Statement[] = [{ phase: PHASE.addColumn, sql: addColumnSql(planner.ddl, table, column) }];
  if (planner.ddl.supportsAddForeignKey && column.references !== undefined) {
    statements.push({
      phase: PHASE.addForeignKey,
      sql: addForeignKeySql(table, column),
      refusedOnViolation: {
        kind: "danglingReferences",
        table,
        column: column.name,
        description: `add column ${table}.${column.name}: its default is not an id of ${column.references.table}`,
      },
    });
  }
  planner.plan({
    change: { kind: "addColumn", table, name: column.name, description: `add column ${table}.${column.name}` },
    statements,
  });
}

/**
 * @internal Plans the columns of an existing table.
 * @example
 * ```ts
 * await planColumns(planner); // first: the other planners read planner.added
 * ```
 */
export async function planColumns(planner: TablePlanner): Promise<void> {
  const table = planner.collection.name;
  for (const column of planner.collection.columns) {
    const live = planner.table.columns.get(column.name);
    const where = `${table}.${column.name}`;
    if (live === undefined) {
      await planAddColumn(planner, column);
    } else if (!planner.ddl.sameType(column.kind, live.type)) {
      planner.refuse({
        kind: "changeType",
        table,
        column: column.name,
        description: `change the type of ${where} from ${live.type} to ${planner.ddl.columnType(column.kind)}`,
      });
    } else if (live.notNull === column.nullable && !(column.kind === "id" && live.primaryKey)) {
      planner.refuse({
        kind: "changeNullability",
        table,
        column: column.name,
        description: column.nullable
          ? `make ${where} optional: the column is NOT NULL in the database`
          : `make ${where} required: the column allows NULL in the database`,
      });
    }
  }
  for (const live of planner.table.columns.values()) {
    if (planner.collection.columnsByName.has(live.name)) continue;
    planner.refuse({
      kind: "dropColumn",
      table,
      column: live.name,
      description: `drop column ${table}.${live.name}: the database has it but the schema does not (removing or renaming a field would lose its data)`,
    });
  }
}
