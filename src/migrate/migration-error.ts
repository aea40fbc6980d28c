/**
 * The error of a schema sync that would have to lose or rewrite data.
 * @module
 */
import type { RefusedChange } from "./schema-change.js";

function message(refused: readonly RefusedChange[]): string {
  const lines = refused.map((change) => `  - ${change.description}`);
  return [
    `The database schema cannot be brought in line with the collections without risking data, so nothing was changed (${refused.length} refused change${refused.length === 1 ? "" : "s"}):`,
    ...lines,
    "Make these changes with a versioned migration (Kysely Migrator format: { up(db), down(db) }), passed as `migrations` to createBackend() or backend.migrate(); it runs before the schema sync. See docs/migrations.md.",
  ].join("\n");
}

/**
 * Thrown by `backend.migrate()` when the schema asks for changes it does not make by itself
 * (dropping or renaming a column, changing a type or a nullability, a unique index over
 * duplicate values, ...). It lists every such change at once, in `refused` and in its message,
 * one per line; none of the sync's changes is applied.
 *
 * @example
 * ```ts
 * try {
 *   await backend.migrate();
 * } catch (error) {
 *   if (error instanceof MigrationError) {
 *     for (const change of error.refused) console.error(change.kind, change.description);
 *   }
 *   throw error;
 * }
 * ```
 */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  /** Every refused change, in the order the schema lists them. */
  readonly refused: readonly RefusedChange[];

  /** @internal */
  constructor(refused: readonly RefusedChange[], options?: { cause?: unknown }) {
    super(message(refused), options);
    this.refused = refused;
  }
}
