/**
 * @internal Reads SQLite tables through the table-valued pragma functions, which (unlike
 * `PRAGMA` statements) are plain SELECTs and so run inside the sync's transaction.
 * @module
 */
import { sql, type Kysely } from "kysely";
import type { Introspector, LiveColumn, LiveForeignKey, LiveIndex, LiveOnDelete, LiveTable } from "../live-schema.js";

const ON_DELETE: Record<string, LiveOnDelete> = {
  RESTRICT: "restrict",
  CASCADE: "cascade",
  "SET NULL": "setNull",
  "NO ACTION": "noAction",
  "SET DEFAULT": "setDefault",
};

async function columns(db: Kysely<any>, table: string): Promise<Map<string, LiveColumn>> {
  const { rows } = await sql<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>`
    select name, type, "notnull", dflt_value, pk from pragma_table_info(${table}) order by cid`.execute(db);
  return new Map(
    rows.map((row) => [
      row.name,
      { name: row.name, type: row.type, notNull: row.notnull === 1, primaryKey: row.pk > 0, default: row.dflt_value },
    ]),
  );
}

async function indexes(db: Kysely<any>, table: string): Promise<LiveIndex[]> {
  const { rows } = await sql<{ name: string; unique: number; origin: string; partial: number }>`
    select name, "unique", origin, partial from pragma_index_list(${table})`.execute(db);
  const result: LiveIndex[] = [];
  for (const row of rows) {
    const keys = await sql<{ name: string | null }>`
      select name from pragma_index_info(${row.name}) order by seqno`.execute(db);
    const columnNames = keys.rows.map((key) => key.name);
    result.push({
      name: row.name,
      columns: columnNames,
      unique: row.unique === 1,
      // origin "c": CREATE INDEX; "u" and "pk" back constraints of the table itself.
      plain: row.origin === "c" && row.partial === 0 && !columnNames.includes(null),
    });
  }
  return result;
}

async function foreignKeys(db: Kysely<any>, table: string): Promise<LiveForeignKey[]> {
  const { rows } = await sql<{ id: number; table: string; from: string; to: string | null; on_delete: string }>`
    select id, "table", "from", "to", on_delete from pragma_foreign_key_list(${table}) order by id, seq`.execute(db);
  const byId = new Map<number, { columns: string[]; table: string; referencedColumns: (string | null)[]; onDelete: LiveOnDelete }>();
  for (const row of rows) {
    let key = byId.get(row.id);
    if (key === undefined) {
      key = { columns: [], table: row.table, referencedColumns: [], onDelete: ON_DELETE[row.on_delete] ?? "noAction" };
      byId.set(row.id, key);
    }
    key.columns.push(row.from);
    key.referencedColumns.push(row.to);
  }
  return [...byId.values()];
}

/**
 * @internal Introspects the SQLite tables among `tables` that exist.
 * @example
 * ```ts
 * const live = await introspectSqlite(trx, ["posts", "users"]);
 * live.get("posts")?.columns.get("title"); // { name: "title", type: "TEXT", notNull: true, ... }
 * ```
 */
export const introspectSqlite: Introspector = async (db, tables) => {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master
    where type = 'table' and name in (select value from json_each(${JSON.stringify(tables)}))`.execute(db);
  const result = new Map<string, LiveTable>();
  for (const { name } of rows) {
    result.set(name, {
      name,
      columns: await columns(db, name),
      indexes: await indexes(db, name),
      foreignKeys: await foreignKeys(db, name),
    });
  }
  return result;
};
