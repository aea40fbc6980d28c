/**
 * @internal Plans of `get` kept per shape of request: the collection, a read without `select`
 * or `include`, and the caller's rule, by its shape. The first request of a shape is planned as
 * every read is (a condition tree, a statement key); what it recorded (where each bound value of
 * the rule came from and how it was encoded, the key, the condition) is kept, so that a later
 * request whose rule has the same shape (the same fields, operators and nesting, the same
 * booleans and nulls, in the same order) only checks and binds its own values.
 *
 * The rule is still evaluated for every request, for its caller: only its planning is kept, and
 * nothing of a caller (no value, no rule's answer) outlives its request. A value that does not
 * bind (it would be refused) and a shape not seen before go the way of every read, which plans
 * it and answers or refuses it as it always does.
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { RuleValue } from "../access/caller-access.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel } from "../model/model.js";
import type { Compilable } from "kysely";
import { selectColumns } from "./rows.js";
import type { ReadShape } from "./shape.js";
import type { BoundValue, Plan, StatementKey } from "./statement-key.js";
import { buildCond, encodeValue, type Cond } from "./where.js";

const NO_COMPUTED: readonly [] = [];

/**
 * The shape of a rule's filter, node by node: a value bound as a parameter (`leaf` for a single
 * value, `list` for the array of `in` / `notIn`), a value the SQL depends on (`null`,
 * `undefined`, a boolean), an object (its keys, in order) or an array (its length).
 */
type Node =
  | { readonly k: "leaf" }
  | { readonly k: "list" }
  | { readonly k: "same"; readonly value: unknown }
  | { readonly k: "object"; readonly keys: readonly string[]; readonly items: readonly Node[] }
  | { readonly k: "array"; readonly items: readonly Node[] };

const LEAF: Node = { k: "leaf" };
const LIST: Node = { k: "list" };

/** A parameter of the statement after the id: a value of the rule's, or one bound the same every time. */
type Param = { readonly leaf: number; readonly bound: BoundValue } | { readonly leaf: -1; readonly value: unknown };

/** One statement of a rule's shape, for one read shape. */
interface Statement {
  readonly key: StatementKey;
  readonly condition: Cond;
  /** Builds its SQL again (the compiled-query cache's verifying mode, or after the cache let it go). */
  readonly build: () => Compilable<unknown>;
}

/** What is kept of a rule's shape: how its values bind, and its statements by read shape. */
interface RuleTemplate {
  readonly runtime: DialectRuntime;
  /** `system` for the system scope, `true` for a rule that allows, else the filter's shape. */
  readonly rule: "system" | true | Node;
  readonly params: readonly Param[];
  readonly statements: Map<ReadShape, Statement>;
}

/** The rule shapes kept per collection; a collection whose rules take more shapes plans the others each time. */
const MAX_TEMPLATES = 16;
/** The read shapes kept per rule shape (one per set of field rules its callers have). */
const MAX_STATEMENTS = 16;
const templates = new WeakMap<CollectionModel, RuleTemplate[]>();

function isLeaf(value: unknown): boolean {
  const type = typeof value;
  return type === "string" || type === "number" || type === "bigint" || value instanceof Date;
}

/** The shape of a filter value, and its values that bind (in the order planning meets them); `undefined` when it has none. */
function nodeOf(value: unknown, key: string, leaves: unknown[]): Node | undefined {
  if (value === null || value === undefined || typeof value === "boolean") return { k: "same", value };
  if (isLeaf(value)) {
    leaves.push(value);
    return LEAF;
  }
  if (Array.isArray(value)) {
    if (key === "in" || key === "notIn") {
      leaves.push(value);
      return LIST;
    }
    const items: Node[] = [];
    for (const item of value) {
      const node = nodeOf(item, "", leaves);
      if (node === undefined) return undefined;
      items.push(node);
    }
    return { k: "array", items };
  }
  if (typeof value !== "object") return undefined;
  const keys = Object.keys(value);
  const items: Node[] = [];
  for (const name of keys) {
    const node = nodeOf((value as Record<string, unknown>)[name], name, leaves);
    if (node === undefined) return undefined;
    items.push(node);
  }
  return { k: "object", keys, items };
}

/** Whether `value` has the shape `node`; its values that bind are pushed to `leaves`. */
function matches(node: Node, value: unknown, leaves: unknown[]): boolean {
  switch (node.k) {
    case "leaf":
      if (!isLeaf(value)) return false;
      leaves.push(value);
      return true;
    case "list":
      if (!Array.isArray(value)) return false;
      leaves.push(value);
      return true;
    case "same":
      return value === node.value;
    case "array": {
      if (!Array.isArray(value) || value.length !== node.items.length) return false;
      for (let i = 0; i < value.length; i++) if (!matches(node.items[i]!, value[i], leaves)) return false;
      return true;
    }
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) return false;
      const keys = Object.keys(value);
      const expected = node.keys;
      if (keys.length !== expected.length) return false;
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] !== expected[i]) return false;
        if (!matches(node.items[i]!, (value as Record<string, unknown>)[keys[i]!], leaves)) return false;
      }
      return true;
    }
  }
}

/** A kept plan of a get, matched for one request: its rule's template and the statement's values. */
export interface GetMatch {
  readonly template: RuleTemplate;
  readonly values: unknown[];
}

/**
 * The kept plan of a get of `id` for a rule (`undefined`: the system scope), with the values of
 * this request bound; `undefined` when the rule's shape was not seen, or a value does not bind.
 */
export function matchGet(runtime: DialectRuntime, collection: CollectionModel, id: string, rule: RuleValue | undefined): GetMatch | undefined {
  const kept = templates.get(collection);
  if (kept === undefined) return undefined;
  const leaves: unknown[] = [];
  for (const template of kept) {
    if (template.runtime !== runtime) continue;
    const shape = template.rule;
    if (shape === "system" || shape === true) {
      if ((shape === "system" ? undefined : true) !== rule) continue;
    } else {
      if (typeof rule !== "object") continue;
      leaves.length = 0;
      if (!matches(shape, rule, leaves)) continue;
    }
    const values: unknown[] = [id];
    for (const param of template.params) {
      if (param.leaf < 0) {
        values.push((param as { value: unknown }).value);
        continue;
      }
      const { column, path, encoding, op } = (param as { bound: BoundValue }).bound;
      try {
        values.push(encodeValue(runtime, column, leaves[param.leaf], path, encoding, op));
      } catch {
        // Refused: planned again, the read refuses it as it always does.
        return undefined;
      }
    }
    return { template, values };
  }
  return undefined;
}

/** The statement a match keeps for a read shape, if it was planned. */
export function statementOf(match: GetMatch, shape: ReadShape): Statement | undefined {
  return match.template.statements.get(shape);
}

/**
 * Keeps the plan of a get just planned the way of every read (`plan` recorded its bound values):
 * its rule's shape, how each of its values binds, and its statement for `shape`. Nothing is kept
 * when the plan is not one the matching can reproduce (then every such get is planned).
 */
export function keepGet(
  runtime: DialectRuntime,
  collection: CollectionModel,
  id: string,
  rule: RuleValue | undefined,
  shape: ReadShape,
  plan: Plan,
  key: StatementKey,
  condition: Cond,
  matched: GetMatch | undefined,
): void {
  const statement: Statement = {
    key,
    condition,
    build: () => selectColumns(runtime, shape, "t0", NO_COMPUTED).where(buildCond(runtime, condition, "t0")),
  };
  if (matched !== undefined) {
    if (matched.template.statements.size < MAX_STATEMENTS) matched.template.statements.set(shape, statement);
    return;
  }
  let kept = templates.get(collection);
  if (kept === undefined) templates.set(collection, (kept = []));
  if (kept.length >= MAX_TEMPLATES) return;
  const recorded = plan.recorded ?? [];
  if (plan.values.length !== recorded.length + 1 || plan.values[0] !== id) return;
  let node: "system" | true | Node;
  const leaves: unknown[] = [];
  if (rule === undefined || rule === true) node = rule === undefined ? "system" : true;
  else if (rule === false) return;
  else {
    const found = nodeOf(rule, "", leaves);
    if (found === undefined) return;
    node = found;
  }
  // Each bound value is one of the rule's values, in the order planning met them, or a boolean
  // (which the shape holds: the same every time).
  const params: Param[] = [];
  let next = 0;
  for (let i = 0; i < recorded.length; i++) {
    const bound = recorded[i]!;
    if (bound.index !== i + 1) return;
    if (typeof bound.raw === "boolean") params.push({ leaf: -1, value: bound.encoded });
    else if (next < leaves.length && leaves[next] === bound.raw) params.push({ leaf: next++, bound });
    else return;
  }
  if (next !== leaves.length) return;
  kept.push({ runtime, rule: node, params, statements: new Map([[shape, statement]]) });
}

/** In the verifying mode: throws when a kept plan's statement or values are not those planning makes. */
export function verifyKept(kept: Statement, values: readonly unknown[], key: StatementKey, planned: readonly unknown[]): void {
  if (kept.key === key && isDeepStrictEqual(values, planned)) return;
  throw new Error(
    `A kept plan of a get differs from its planning:\n  kept:    ${kept.key} ${JSON.stringify(values)}\n  planned: ${key} ${JSON.stringify(planned)}`,
  );
}
