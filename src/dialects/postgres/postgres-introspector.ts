/**
 * @internal Reads PostgreSQL tables from pg_catalog, restricted to `current_schema()`: the
 * schema unqualified names resolve to, so the one cimiento's tables are created in.
 * @module
 */
import { sql } from "kysely";
import type { Introspector, LiveColumn, LiveForeignKey, LiveIndex, LiveOnDelete, LiveTable } from "../live-schema.js";

const ON_DELETE: Record<string, LiveOnDelete> = {
  r: "restrict",
  c: "cascade",
  n: "setNull",
  a: "noAction",
  d: "setDefault",
};

interface ColumnRow {
  table_name: string;
  name: string;
  type: string;
  not_null: boolean;
  primary_key: boolean;
  default_value: string | null;
}

interface IndexRow {
  table_name: string;
  name: string;
  unique: boolean;
  plain: boolean;
  columns: (string | null)[];
}

interface ForeignKeyRow {
  table_name: string;
  referenced_table: string;
  referenced_schema: string;
  current_schema: string;
  on_delete: string;
  columns: string[];
  referenced_columns: string[];
}

/**
 * @internal Introspects the PostgreSQL tables among `tables` that exist in the current schema.
 * @example
 * ```ts
 * const live = await introspectPostgres(trx, ["posts", "users"]);
 * live.get("posts")?.foreignKeys; // [{ columns: ["author"], table: "users", onDelete: "restrict", ... }]
 * ```
 */
export const introspectPostgres: Introspector = async (db, tables) => {
  const names = [...tables];
  const found = await sql<{ name: string }>`
    select c.relname as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and c.relname = any(${names}::text[])`.execute(db);
  const columns = await sql<ColumnRow>`
    select c.relname as table_name, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
      a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default_value,
      exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary and a.attnum = any(i.indkey::int2[])) as primary_key
    from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and c.relname = any(${names}::text[])
      and a.attnum > 0 and not a.attisdropped
    order by c.relname, a.attnum`.execute(db);
  const indexes = await sql<IndexRow>`
    select t.relname as table_name, i.relname as name, x.indisunique as unique,
      (x.indexprs is null and x.indpred is null and x.indnatts = x.indnkeyatts
        and not exists (select 1 from pg_constraint k where k.conindid = x.indexrelid)) as plain,
      array(
        select a.attname::text
        from unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)
          left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
        order by k.ord
      ) as columns
    from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = current_schema() and t.relname = any(${names}::text[])
    order by t.relname, i.relname`.execute(db);
  const foreignKeys = await sql<ForeignKeyRow>`
    select t.relname as table_name, r.relname as referenced_table, rn.nspname as referenced_schema,
      current_schema() as current_schema, k.confdeltype as on_delete,
      array(
        select a.attname::text from unnest(k.conkey) with ordinality as c(attnum, ord)
          join pg_attribute a on a.attrelid = k.conrelid and a.attnum = c.attnum order by c.ord
      ) as columns,
      array(
        select a.attname::text from unnest(k.confkey) with ordinality as c(attnum, ord)
          join pg_attribute a on a.attrelid = k.confrelid and a.attnum = c.attnum order by c.ord
      ) as referenced_columns
    from pg_constraint k
      join pg_class t on t.oid = k.conrelid
      join pg_namespace n on n.oid = t.relnamespace
      join pg_class r on r.oid = k.confrelid
      join pg_namespace rn on rn.oid = r.relnamespace
    where k.contype = 'f' and n.nspname = current_schema() and t.relname = any(${names}::text[])
    order by t.relname, k.conname`.execute(db);

  const result = new Map<string, LiveTable & { columns: Map<string, LiveColumn>; indexes: LiveIndex[]; foreignKeys: LiveForeignKey[] }>();
  for (const { name } of found.rows) result.set(name, { name, columns: new Map(), indexes: [], foreignKeys: [] });
  for (const row of columns.rows) {
    result.get(row.table_name)?.columns.set(row.name, {
      name: row.name,
      type: row.type,
      notNull: row.not_null,
      primaryKey: row.primary_key,
      default: row.default_value,
    });
  }
  for (const row of indexes.rows) {
    result.get(row.table_name)?.indexes.push({ name: row.name, columns: row.columns, unique: row.unique, plain: row.plain });
  }
  for (const row of foreignKeys.rows) {
    result.get(row.table_name)?.foreignKeys.push({
      columns: row.columns,
      table: row.referenced_schema === row.current_schema ? row.referenced_table : `${row.referenced_schema}.${row.referenced_table}`,
      referencedColumns: row.referenced_columns,
      onDelete: ON_DELETE[row.on_delete] ?? "noAction",
    });
  }
  return result;
};
