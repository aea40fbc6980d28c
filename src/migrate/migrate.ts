/**
 * `migrate()`: versioned migrations, then the additive schema sync.
 * @module
 */
import type { Migration, MigrationProvider } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Model } from "../model/model.js";
import type { SchemaChange } from "./schema-change.js";
import { syncSchema } from "./sync-schema.js";
import { pendingVersionedMigrations, runVersionedMigrations } from "./versioned-migrations.js";

export { MigrationError } from "./migration-error.js";
export type { RefusedChange, SchemaChange } from "./schema-change.js";

/**
 * Options of `backend.migrate()`.
 *
 * @example
 * ```ts
 * await backend.migrate({
 *   migrations: {
 *     "2024_06_01_rename_posts_name": {
 *       async up(db) { await db.schema.alterTable("posts").renameColumn("name", "title").execute(); },
 *       async down(db) { await db.schema.alterTable("posts").renameColumn("title", "name").execute(); },
 *     },
 *   },
 * });
 * ```
 */
export interface MigrateOptions {
  /**
   * Versioned migrations in Kysely's `Migrator` format, for what the schema sync refuses to do
   * (renames, drops, type changes, backfills). They run first, before the schema sync, in name
   * order, each once (recorded in the table `cimiento_migration`); the pending ones run in one
   * transaction. Either migrations by name, or a Kysely `MigrationProvider` such as
   * `FileMigrationProvider`.
   * @default no versioned migrations
   */
  migrations?: Record<string, Migration> | MigrationProvider;
  /**
   * Plan only: compute and return the changes, apply nothing. Pending versioned migrations are
   * listed, not run, and the changes are planned against the database as it is now.
   * Refused changes still throw a `MigrationError`.
   * @default false
   */
  dryRun?: boolean;
}

/**
 * What `backend.migrate()` did (or, with `dryRun`, would do).
 *
 * @example
 * ```ts
 * const { migrations, changes } = await backend.migrate();
 * // migrations: ["2024_06_01_rename_posts_name"]
 * // changes: [{ kind: "addColumn", table: "posts", name: "subtitle", description: "add column posts.subtitle" }]
 * ```
 */
export interface MigrationResult {
  /** The versioned migrations applied by this call (with `dryRun`: the pending ones), in order. */
  migrations: string[];
  /** The additive schema changes applied (with `dryRun`: planned), in the order they run. */
  changes: SchemaChange[];
}

/**
 * @internal What `backend.migrate(options)` runs: the pending versioned migrations, then the
 * schema sync, which creates missing tables, columns, indexes and foreign keys in one
 * transaction, drops the indexes cimiento made that the schema no longer has, and throws a
 * `MigrationError` (applying nothing) for any change that could lose or rewrite data. Tables the
 * schema does not name are left alone. Running it again changes nothing.
 *
 * @example
 * ```ts
 * const result = await migrate(runtime, buildModel({ posts, users }), { dryRun: true });
 * ```
 */
export async function migrate(runtime: DialectRuntime, model: Model, options: MigrateOptions = {}): Promise<MigrationResult> {
  const dryRun = options.dryRun ?? false;
  let migrations: string[] = [];
  if (options.migrations !== undefined) {
    migrations = dryRun
      ? await pendingVersionedMigrations(runtime, options.migrations)
      : await runVersionedMigrations(runtime, options.migrations);
  }
  const changes = await syncSchema(runtime, model, dryRun);
  return { migrations, changes };
}
