/**
 * @internal The DDL statements the schema sync runs.
 * @module
 */
import type { DialectDdl } from "../dialects/dialect.js";
import type { CollectionModel, ColumnModel, IndexModel } from "../model/model.js";
import { columnDefinition, referencesClause } from "./column-definition.js";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * @internal `CREATE TABLE`, with the dialect's table options; references are inlined where the
 * dialect cannot add a foreign key later.
 * @example
 * ```ts
 * createTableSql(runtime.ddl, tags); // CREATE TABLE "tags" ("id" TEXT NOT NULL PRIMARY KEY, ...) STRICT on SQLite
 * ```
 */
export function createTableSql(ddl: DialectDdl, collection: CollectionModel): string {
  const withReference = !ddl.supportsAddForeignKey;
  const columns = collection.columns.map((column) => columnDefinition(ddl, collection.name, column, { withReference }));
  return `CREATE TABLE ${quoteIdentifier(collection.name)} (${columns.join(", ")})${ddl.tableOptions}`;
}

/**
 * @internal `ALTER TABLE ... ADD COLUMN`; the reference is inlined where the dialect cannot add
 * a foreign key later.
 * @example
 * ```ts
 * addColumnSql(runtime.ddl, "posts", subtitle); // ALTER TABLE "posts" ADD COLUMN "subtitle" text on PostgreSQL
 * ```
 */
export function addColumnSql(ddl: DialectDdl, table: string, column: ColumnModel): string {
  const definition = columnDefinition(ddl, table, column, { withReference: !ddl.supportsAddForeignKey });
  return `ALTER TABLE ${quoteIdentifier(table)} ADD COLUMN ${definition}`;
}

/**
 * @internal The name of the foreign key of `table.column`, as PostgreSQL would name it, within 63 bytes.
 * @example
 * ```ts
 * foreignKeyName("posts", "author"); // "posts_author_fkey"
 * ```
 */
export function foreignKeyName(table: string, column: string): string {
  const name = `${table}_${column}_fkey`;
  if (name.length <= 63) return name;
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0;
  return `${name.slice(0, 54)}_${(hash >>> 0).toString(36)}`;
}

/**
 * @internal `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`, where the dialect supports it.
 * @example
 * ```ts
 * addForeignKeySql("posts", author);
 * // ALTER TABLE "posts" ADD CONSTRAINT "posts_author_fkey" FOREIGN KEY ("author") REFERENCES "users" ("id") ON DELETE RESTRICT
 * ```
 */
export function addForeignKeySql(table: string, column: ColumnModel): string {
  return (
    `ALTER TABLE ${quoteIdentifier(table)} ADD CONSTRAINT ${quoteIdentifier(foreignKeyName(table, column.name))} ` +
    `FOREIGN KEY (${quoteIdentifier(column.name)}) ${referencesClause(column.references!)}`
  );
}

/**
 * @internal `CREATE [UNIQUE] INDEX`.
 * @example
 * ```ts
 * createIndexSql("posts", { name: "posts_slug_key", columns: ["slug"], unique: true });
 * // CREATE UNIQUE INDEX "posts_slug_key" ON "posts" ("slug")
 * ```
 */
export function createIndexSql(table: string, index: IndexModel): string {
  const columns = index.columns.map((column) => `${quoteIdentifier(column)}${index.descending?.includes(column) ? " DESC" : ""}`).join(", ");
  const where = index.where === undefined ? "" : ` WHERE ${index.where}`;
  return `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ${quoteIdentifier(index.name)} ON ${quoteIdentifier(table)} (${columns})${where}`;
}

/**
 * @internal `DROP INDEX`; unqualified, so it resolves in the schema the index was found in.
 * @example
 * ```ts
 * dropIndexSql("posts_slug_key"); // DROP INDEX "posts_slug_key"
 * ```
 */
export function dropIndexSql(name: string): string {
  return `DROP INDEX ${quoteIdentifier(name)}`;
}
