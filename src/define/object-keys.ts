/**
 * Objects as input holds them: what a plain object (a filter, options) is, and the names that are
 * properties of every object, which input never uses as keys and schemas never use as names, so
 * that no object built from input can reach a prototype.
 * @module
 */

/**
 * Keys through which an assignment or a merge reaches an object's prototype
 * (`target[key] = value` with `__proto__`, or `constructor.prototype`).
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Names no collection or field may have: every property of `Object.prototype` (`constructor`,
 * `toString`, `hasOwnProperty`, `__proto__`, ...) and `prototype`. A record or a data API with
 * such a key would shadow what every object has, and input naming one could not be told from
 * an attempt to reach a prototype.
 */
export const OBJECT_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  "prototype",
]);

/** Whether a value is a plain object of options or a filter: an object, not an array nor a `Date`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
