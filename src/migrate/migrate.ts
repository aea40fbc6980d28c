/**
 * `migrate()`: the additive schema sync.
 * @module
 */
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Model } from "../schema/model.js";
import type { SchemaChange } from "./schema-change.js";
import { syncSchema } from "./sync-schema.js";

export { MigrationError } from "./migration-error.js";
export type { RefusedChange, SchemaChange } from "./schema-change.js";

/**
 * Options of `backend.migrate()`.
 *
 * @example
 * ```ts
 * const { changes } = await backend.migrate({ dryRun: true });
 * ```
 */
export interface MigrateOptions {
  /**
   * Plan only: compute and return the changes, apply nothing. Refused changes still throw a
   * `MigrationError`.
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
 * // migrations: []
 * // changes: [{ kind: "addColumn", table: "posts", name: "subtitle", description: "add column posts.subtitle" }]
 * ```
 */
export interface MigrationResult {
  /** The versioned migrations applied by this call; none until they are supported. */
  migrations: string[];
  /** The additive schema changes applied (with `dryRun`: planned), in the order they run. */
  changes: SchemaChange[];
}

/**
 * @internal What `backend.migrate(options)` runs: the schema sync, which creates missing tables, columns, indexes and foreign keys in one
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
  const changes = await syncSchema(runtime, model, options.dryRun ?? false);
  return { migrations: [], changes };
}
