/**
 * The error thrown for a schema that cannot work, at definition or at `createBackend`.
 * @module
 */

/**
 * A collection or backend definition that is not valid (a bad name, a relation to a
 * collection that does not exist, ...). Thrown at start-up, never while serving.
 *
 * @example
 * ```ts
 * try {
 *   collection("bad name", { fields: {} });
 * } catch (error) {
 *   if (error instanceof SchemaError) console.error(error.message);
 * }
 * ```
 */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
}
