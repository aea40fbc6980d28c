/**
 * `createBackend()`: a schema and a database become a typed backend.
 * @module
 */
import type { Kysely } from "kysely";
import type { DatabaseAdapter } from "../dialects/dialect.js";
import { sqlite } from "../dialects/sqlite/index.js";
import { CompiledQueryCache } from "../data/compiled-query-cache.js";
import { createDataApi, type DataApi } from "../data/collection-api.js";
import { rootContext, type DataContext } from "../data/context.js";
import { migrate, type MigrateOptions, type MigrationResult } from "../migrate/migrate.js";
import { buildModel } from "../schema/model.js";
import type { DB, DialectName, Schema } from "../schema/types.js";

/**
 * What a scope offers: the data of every collection and transactions. `backend.system` is the
 * scope that skips access rules.
 */
export interface Scope<S extends Schema, D extends DialectName> {
  /** The collections' operations, by name. */
  readonly data: DataApi<S>;
  /**
   * Runs `fn` in one database transaction: every write through `tx.data` and `tx.db` commits
   * together, or none does when `fn` throws (the error is rethrown). A transaction started
   * inside another joins it.
   * @example
   * ```ts
   * await backend.system.transaction(async (tx) => {
   *   const post = await tx.data.posts.create({ title: "Hello", slug: "hello", author });
   *   await tx.db.updateTable("users").set({ postCount: 1 }).where("id", "=", author).execute();
   * });
   * ```
   */
  transaction<T>(fn: (tx: TransactionScope<S, D>) => Promise<T>): Promise<T>;
}

/** A scope bound to an open transaction. */
export interface TransactionScope<S extends Schema, D extends DialectName> extends Scope<S, D> {
  /** Kysely, bound to this transaction. */
  readonly db: Kysely<DB<S, D>>;
}

/** What `createBackend` takes. */
export interface BackendOptions<S extends Schema, D extends DialectName> {
  /**
   * The database.
   * @default sqlite({ file: "./data/cimiento.db" })
   */
  database?: DatabaseAdapter<D>;
  /** The collections, each under its own name: `{ posts, users }`. */
  collections: S;
  /**
   * Versioned migrations (Kysely's Migrator format) that `migrate()` runs before it syncs the
   * schema; the way to make changes it refuses to make on its own (drops, renames, type changes).
   */
  migrations?: MigrateOptions["migrations"];
}

/**
 * A backend: typed data access through scopes, Kysely for everything else, migrations.
 */
export interface Backend<S extends Schema, D extends DialectName> {
  /** The dialect of the database. */
  readonly dialect: D;
  /**
   * The system scope: full access, no rules. The one explicit bypass.
   * @example
   * ```ts
   * const post = await backend.system.data.posts.get(id);
   * ```
   */
  readonly system: Scope<S, D>;
  /**
   * Kysely over the backend's database, typed from the collections (with the column types the
   * driver returns: on SQLite booleans are `0`/`1`, datetimes ISO strings, JSON text).
   * @example
   * ```ts
   * const rows = await backend.db.selectFrom("posts").select(["id", "title"]).where("published", "=", 1).execute();
   * ```
   */
  readonly db: Kysely<DB<S, D>>;
  /**
   * Brings the database up to the schema: runs the versioned migrations not yet applied, then
   * applies additive changes (tables, columns, indexes, foreign keys). A destructive or ambiguous
   * change is refused with a `MigrationError` that names it. Idempotent.
   * @example
   * ```ts
   * const { changes } = await backend.migrate();
   * for (const change of changes) console.log(change.description);
   * ```
   */
  migrate(options?: MigrateOptions): Promise<MigrationResult>;
  /** Closes the database connections. */
  close(): Promise<void>;
}

function transactionScope<S extends Schema, D extends DialectName>(ctx: DataContext): TransactionScope<S, D> {
  const model = ctx.model;
  const scope: TransactionScope<S, D> = {
    data: createDataApi<S>(ctx, model),
    db: ctx.db as Kysely<DB<S, D>>,
    transaction: (fn) => fn(scope),
  };
  return scope;
}

/**
 * Creates a backend from collections and a database. Nothing touches the database until the
 * first query; call `migrate()` to create or extend the tables.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { collection, createBackend, field } from "cimiento";
 * import { sqlite } from "cimiento/sqlite";
 *
 * const users = collection("users", { fields: { name: field.text() } });
 * const posts = collection("posts", {
 *   fields: { title: field.text(z.string().min(1)), author: field.belongsTo("users") },
 * });
 *
 * export const backend = createBackend({
 *   database: sqlite({ file: "./data/app.db" }),
 *   collections: { users, posts },
 * });
 * await backend.migrate();
 * ```
 */
export function createBackend<const S extends Schema, D extends DialectName = "sqlite">(
  options: BackendOptions<S, D>,
): Backend<S, D> {
  const model = buildModel(options.collections);
  const database = options.database ?? (sqlite() as unknown as DatabaseAdapter<D>);
  const runtime = database.open();
  const root = rootContext(runtime, model, new CompiledQueryCache());
  const system: Scope<S, D> = {
    data: createDataApi<S>(root, model),
    transaction: (fn) => root.atomic((ctx) => fn(transactionScope<S, D>(ctx))),
  };
  return {
    dialect: database.dialect,
    system,
    db: runtime.kysely as Kysely<DB<S, D>>,
    migrate: (migrateOptions = {}) =>
      migrate(runtime, model, { ...migrateOptions, migrations: migrateOptions.migrations ?? options.migrations }),
    close: () => runtime.close(),
  };
}
