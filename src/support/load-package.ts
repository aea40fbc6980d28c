/**
 * @internal Optional packages loaded when a feature is chosen, never with cimiento itself: a
 * database's driver, nodemailer, the verifiers of imported password hashes.
 * @module
 */
import { createRequire } from "node:module";

// Resolved from cimiento's own files, as an import would be. Every such package is CommonJS (or
// ships a CommonJS build), so a synchronous require keeps the callers synchronous.
const require = createRequire(import.meta.url);

/**
 * @internal The package `name`. When it is not installed, an `Error` with `missing` as its
 * message (say what needs it and how to install it); a package that is installed but fails to
 * load (or misses a dependency of its own) throws its own error.
 * @example
 * ```ts
 * const Database = loadPackage<typeof BetterSqlite3>("better-sqlite3", "Install better-sqlite3 to use SQLite: npm install better-sqlite3");
 * ```
 */
export function loadPackage<T>(name: string, missing: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === "MODULE_NOT_FOUND" && typeof message === "string" && message.startsWith(`Cannot find module '${name}'`)) {
      throw new Error(missing, { cause: error });
    }
    throw error;
  }
}

/**
 * @internal The path of a file an optional package exports (`"@scalar/api-reference/browser/standalone.js"`),
 * resolved from cimiento's own files; `undefined` when the package is not installed.
 * @example
 * ```ts
 * const script = packageFile("@scalar/api-reference/browser/standalone.js");
 * ```
 */
export function packageFile(specifier: string): string | undefined {
  try {
    return require.resolve(specifier);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === "MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}
