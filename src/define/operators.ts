/**
 * The operator names of `where`, reserved as field names so that a filter reads one way.
 * @module
 */

/** Comparison operators on a field's value. */
export const FILTER_OPERATORS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "notIn",
  "contains",
  "startsWith",
  "endsWith",
  "isNull",
] as const;

/** Combinators of whole filters. */
export const LOGICAL_OPERATORS = ["and", "or", "not"] as const;

/** Quantifiers of to-many relation filters. */
export const RELATION_OPERATORS = ["some", "none", "every"] as const;

/** A comparison operator. */
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
