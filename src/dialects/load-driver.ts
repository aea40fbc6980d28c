/**
 * @internal Loads a database's driver when the database is opened, not when cimiento is
 * imported: an app loads (and needs installed) only the driver of the database it chose.
 * @module
 */
import { createRequire } from "node:module";

// Resolved from cimiento's own files, as an import would be; both drivers are CommonJS, so a
// synchronous require keeps opening a database synchronous.
const requireDriver = createRequire(import.meta.url);

function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${name}'`);
}

/**
 * @internal The package `name`, the driver of `database`. When it is not installed, an error
 * that says so and how to install it (a driver that is installed but fails to load throws its
 * own error).
 * @example
 * ```ts
 * const Database = loadDriver<typeof BetterSqlite3>("better-sqlite3", "SQLite");
 * ```
 */
export function loadDriver<T>(name: string, database: string): T {
  try {
    return requireDriver(name) as T;
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new Error(`Install ${name} to use ${database}: npm install ${name}`, { cause: error });
  }
}
