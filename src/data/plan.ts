/**
 * @internal The values and shape key of one SQL statement being planned.
 * @module
 */

/**
 * Collects the bound values of one statement and a key that names its shape: two plans with the
 * same key compile to the same SQL, so the key must record every choice that changes the SQL
 * (fields, operators, nesting, which values are null) and nothing else.
 */
export class Plan {
  readonly values: unknown[] = [];
  key: string;

  constructor(key: string) {
    this.key = key;
  }

  /** Adds a bound value; returns its index for a `Slot`. */
  param(value: unknown): number {
    return this.values.push(value) - 1;
  }
}
