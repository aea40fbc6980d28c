/**
 * @internal Identifiers written into DDL and the sync's checks.
 * @module
 */

/**
 * @internal `name` as a double-quoted SQL identifier.
 * @example
 * ```ts
 * quoteIdentifier('my "table"'); // "my ""table"""
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
