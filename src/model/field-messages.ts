/**
 * @internal What a field's issues say: the value the field expects, and what it was given
 * (zod's own words, "Invalid input" for a date-time, say nothing a caller can act on).
 * @module
 */
import type { z } from "zod";

// Longer texts are described, not repeated: an answer should not grow with the input.
const QUOTED_TEXT = 40;

/** The value a caller sent, in a few words: `"tomorrow"`, `1.5`, `null`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return value.length <= QUOTED_TEXT ? JSON.stringify(value) : `a text of ${value.length} characters`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/**
 * The issues of a schema that expects `what` (e.g. "a whole number (integer)"): `Required:
 * expected ...` when the value is missing, `Expected ..., received ...` otherwise. `what` may
 * depend on the issue (a range for `too_big`, say).
 */
export function expects(what: string | ((code: string) => string)): z.core.$ZodErrorMap {
  return (issue) => {
    const expected = typeof what === "string" ? what : what(issue.code ?? "");
    return issue.input === undefined ? `Required: expected ${expected}` : `Expected ${expected}, received ${describeValue(issue.input)}`;
  };
}

/** What each kind of field expects, as its issues say it. */
export const EXPECTED = {
  text: "text (a string)",
  nonEmptyText: "non-empty text (a string)",
  integer: "a whole number (integer)",
  integerInRange: `a whole number (integer) from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
  number: "a finite number",
  boolean: "true or false",
  datetime: "an ISO 8601 date-time with a time zone (such as 2030-01-31T09:00:00Z) or a Date",
  json: "a JSON value",
  id: "an id: a text of 1 to 255 characters",
  enum: (values: readonly string[]) => `one of ${values.map((value) => JSON.stringify(value)).join(", ")}`,
  belongsTo: (target: string) => `the id of a record of ${target} (a non-empty text)`,
} as const;
