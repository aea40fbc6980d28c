/**
 * `cimiento/testing`: helpers for testing code built on cimiento.
 * @module
 */
import { createBackend, type Backend, type BackendOptions, type WithAuthUsers } from "../backend/create-backend.js";
import type { AuthOptions, BuiltInAuthOptions } from "../auth/options.js";
import { scryptHasher } from "../auth/password.js";
import { sqlite } from "../dialects/sqlite/index.js";
import type { AnyAction } from "../actions/action.js";
import type { Schema } from "../schema/types.js";

/**
 * A backend on a fresh in-memory SQLite database, already migrated: every call gives an empty,
 * isolated database, so tests can run in parallel. Close it when done. With built-in auth and no
 * `password.hasher`, passwords are hashed with a cheap scrypt (`logN: 10`), so that tests that
 * sign in stay fast; everything else is as in production.
 *
 * @example
 * ```ts
 * import { createTestBackend } from "cimiento/testing";
 *
 * const backend = await createTestBackend({ collections: { posts }, auth: { password: {} } });
 * await backend.system.data.posts.create({ title: "Hello" });
 * const ada = await backend.auth.createUser({ email: "ada@example.com", password: "a test password", emailVerified: true });
 * await backend.close();
 * ```
 */
export async function createTestBackend<
  const S extends Schema,
  const A extends Record<string, AnyAction> = {},
  const Au extends AuthOptions | undefined = AuthOptions | undefined,
>(options: Omit<BackendOptions<S, "sqlite", A, Au>, "database">): Promise<Backend<WithAuthUsers<S, Au>, "sqlite", A>> {
  const auth = options.auth;
  const builtIn = auth !== undefined && typeof (auth as { resolve?: unknown }).resolve !== "function";
  const testAuth = builtIn
    ? { ...auth, password: { hasher: scryptHasher({ logN: 10 }), ...(auth as BuiltInAuthOptions).password } }
    : auth;
  const backend = createBackend<S, "sqlite", A, Au>({ ...options, auth: testAuth as Au, database: sqlite({ file: ":memory:" }) });
  await backend.migrate();
  return backend;
}
