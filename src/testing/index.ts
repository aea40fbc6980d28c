/**
 * `cimiento/testing`: helpers for testing code built on cimiento.
 * @module
 */
import { createBackend, type Backend, type BackendOptions } from "../backend/create-backend.js";
import { sqlite } from "../dialects/sqlite/index.js";
import type { AnyAction } from "../actions/action.js";
import type { Schema } from "../schema/types.js";

/**
 * A backend on a fresh in-memory SQLite database, already migrated: every call gives an empty,
 * isolated database, so tests can run in parallel. Close it when done.
 *
 * @example
 * ```ts
 * import { createTestBackend } from "cimiento/testing";
 *
 * const backend = await createTestBackend({ collections: { posts } });
 * await backend.system.data.posts.create({ title: "Hello" });
 * await backend.close();
 * ```
 */
export async function createTestBackend<const S extends Schema, const A extends Record<string, AnyAction> = {}>(
  options: Omit<BackendOptions<S, "sqlite", A>, "database">,
): Promise<Backend<S, "sqlite", A>> {
  const backend = createBackend<S, "sqlite", A>({ ...options, database: sqlite({ file: ":memory:" }) });
  await backend.migrate();
  return backend;
}
