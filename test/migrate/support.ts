/**
 * Helpers of the migrate suites: a fresh database per test, its live tables, its rows.
 */
import { sql } from "kysely";
import { onTestFinished } from "vitest";
import type { DialectRuntime } from "../../src/dialects/dialect.js";
import type { LiveTable } from "../../src/dialects/live-schema.js";
import type { Model } from "../../src/model/model.js";
import type { TestDatabase } from "../setup/dialects.js";

/** Opens a new, empty database, closed and dropped when the test ends. */
export async function openDatabase(db: TestDatabase): Promise<DialectRuntime> {
  const fresh = await db.fresh();
  const runtime = fresh.database.open();
  onTestFinished(async () => {
    await runtime.close();
    await fresh.drop();
  });
  return runtime;
}

/** The live table `name`, or `undefined` when it does not exist. */
export async function liveTable(runtime: DialectRuntime, name: string): Promise<LiveTable | undefined> {
  const tables = await runtime.transaction((trx) => runtime.introspect(trx, [name]));
  return tables.get(name);
}

/** A live table in a form that reads well in assertions. */
export interface TableSummary {
  columns: Record<string, { type: string; notNull: boolean }>;
  defaults: Record<string, string>;
  indexes: { name: string; columns: (string | null)[]; unique: boolean }[];
  foreignKeys: { column: string; table: string; onDelete: string }[];
}

/** Summarizes the live table `name` (indexes cimiento makes only, sorted by name). */
export async function describeTable(runtime: DialectRuntime, name: string): Promise<TableSummary> {
  const table = await liveTable(runtime, name);
  if (table === undefined) throw new Error(`no table ${name}`);
  const columns: TableSummary["columns"] = {};
  const defaults: TableSummary["defaults"] = {};
  for (const column of table.columns.values()) {
    columns[column.name] = { type: column.type, notNull: column.notNull };
    if (column.default !== null) defaults[column.name] = column.default;
  }
  return {
    columns,
    defaults,
    indexes: table.indexes
      .filter((index) => index.plain)
      .map((index) => ({ name: index.name, columns: [...index.columns], unique: index.unique }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    foreignKeys: table.foreignKeys
      .map((key) => ({ column: key.columns.join(","), table: key.table, onDelete: key.onDelete }))
      .sort((a, b) => a.column.localeCompare(b.column)),
  };
}

/** Every row of `table`, ordered by id, decoded as the data layer would (Dates, booleans, JSON). */
export async function readRows(runtime: DialectRuntime, model: Model, table: string): Promise<Record<string, unknown>[]> {
  const collection = model.collections.get(table)!;
  const rows = await runtime.kysely.selectFrom(table).selectAll().orderBy("id").execute();
  return rows.map((row: Record<string, unknown>) => {
    const decoded: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(row)) {
      const column = collection.columnsByName.get(name);
      decoded[name] = column === undefined ? value : runtime.decode(column.kind, value);
    }
    return decoded;
  });
}

/** The names of the tables of the database (SQLite) or of the test's schema (PostgreSQL). */
export async function tableNames(runtime: DialectRuntime): Promise<string[]> {
  const query =
    runtime.name === "sqlite"
      ? runtime.kysely.selectFrom("sqlite_master").select("name").where("type", "=", "table")
      : runtime.kysely
          .selectFrom("information_schema.tables")
          .select("table_name as name")
          .where("table_schema", "=", sql<string>`current_schema()`);
  const rows = await query.execute();
  return rows.map((row: { name: string }) => row.name).sort();
}
