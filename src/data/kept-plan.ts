/**
 * @internal Plans kept per shape of request: of a `get` (the collection, a read without `select`
 * or `include`, and the caller's rule, by its shape), of an `update` by id without hooks (the
 * collection, the fields it sets, and the caller's `get` and `update` rules, by their shapes) and
 * of a `list` without `select`, `include` or `cursor` (the collection, the caller's `where` and
 * `list` rule by their shapes, the fields it may read, its order, and whether it skips records or
 * counts them). The first request of a shape is planned as every one is (a condition tree, a
 * statement key); what it recorded (where each bound value of the filters came from and how it
 * was encoded, the key, the condition) is kept, so that a later request whose filters have the
 * same shape (the same fields, operators and nesting, the same booleans and nulls, in the same
 * order) only checks and binds its own values.
 *
 * The rules are still evaluated for every request, for its caller: only their planning is kept,
 * and nothing of a caller (no value, no rule's answer) outlives its request. What a shape keeps is
 * names planning checked (of the schema's fields, operators, `and`, `or`, `not`), booleans and
 * nulls. A value that does not bind (it would be refused) and a shape not kept go the way of
 * every request, which plans it and answers or refuses it as it always does.
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { Access, RuleValue } from "../access/caller-access.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { CollectionModel } from "../model/model.js";
import type { Compilable } from "kysely";
import { selectColumns } from "./rows.js";
import type { NamedOrder } from "./order.js";
import type { ReadShape } from "./shape.js";
import type { BoundValue, Plan, StatementKey } from "./statement-key.js";
import { buildCond, encodeValue, sameFilter, type Cond } from "./where.js";
import { isPlainObject } from "../define/object-keys.js";

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

/**
 * How a value of the rule's binds (where it is and how it is checked and encoded): no value of
 * the caller whose plan was kept, which must not outlive its request.
 */
type Binding = Pick<BoundValue, "column" | "path" | "encoding" | "op">;

/** A parameter of the statement after the id: a value of the rule's, or one bound the same every time (a boolean's). */
type Param = { readonly leaf: number; readonly bound: Binding } | { readonly leaf: -1; readonly value: unknown };

/** One statement of a rule's shape, for one read shape (a get), one set of changed fields (an update) or one listing (a list). */
export interface KeptStatement {
  readonly key: StatementKey;
  readonly condition: Cond;
  /** Builds its SQL again (the compiled-query cache's verifying mode, or after the cache let it go). */
  readonly build: () => Compilable<unknown>;
  /** A list's: what its page is read and answered with besides. */
  readonly page?: KeptPage;
}

/** What a kept list reads and answers a page with, besides its statement: its shape, and its order and the order's name. */
export interface KeptPage extends NamedOrder {
  readonly shape: ReadShape;
  /** The key of its count (a list with `count`). */
  readonly count: StatementKey | undefined;
}

/** What is kept of a rule's shape: how its values bind, and its statements by read shape or changed fields. */
interface RuleTemplate {
  readonly runtime: DialectRuntime;
  /** `system` for the system scope, `true` for a rule that allows, else the filter's shape. */
  readonly rule: "system" | true | Node;
  readonly params: readonly Param[];
  readonly statements: Map<unknown, KeptStatement>;
  /** Matched since the last time a full collection's templates were passed over (see `evict`). */
  used: boolean;
}

/** What a plan is kept of: a `get`, an `update` by id, or a `list`. */
export type KeptKind = "get" | "update" | "list";

/**
 * The rule shapes kept per collection and kind. A new shape beyond them takes the place of one
 * not matched lately (`evict`): a list's shapes are its callers' `where`s, which whoever calls
 * chooses, and a caller sending shapes of its own then costs the others their kept plans (they
 * are planned as before, and kept again), never more than that.
 */
const MAX_TEMPLATES = 16;
/**
 * The statements kept per rule shape (a get's: one per set of field rules its callers have; an
 * update's: one per set of fields it sets; a list's: one per listing, see `listingOf`); a new
 * one beyond them takes the place of the oldest.
 */
const MAX_STATEMENTS = 16;
const templates = {
  get: new WeakMap<CollectionModel, RuleTemplate[]>(),
  update: new WeakMap<CollectionModel, RuleTemplate[]>(),
  list: new WeakMap<CollectionModel, RuleTemplate[]>(),
};

function isLeaf(value: unknown): boolean {
  const type = typeof value;
  return type === "string" || type === "number" || type === "bigint" || value instanceof Date;
}

/**
 * The shape of a filter value, and its values that bind (in the order planning meets them);
 * `undefined` when it has none. A key whose value is `undefined` is left out, as planning
 * leaves it out: what is kept of an object is the names planning checked.
 */
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
  const keys: string[] = [];
  const items: Node[] = [];
  for (const name of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[name];
    if (item === undefined) continue;
    const node = nodeOf(item, name, leaves);
    if (node === undefined) return undefined;
    keys.push(name);
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
      const expected = node.keys;
      let j = 0;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined) continue;
        if (j === expected.length || key !== expected[j]) return false;
        if (!matches(node.items[j++]!, item, leaves)) return false;
      }
      return j === expected.length;
    }
  }
}

/** A kept plan, matched for one request: its rule's template and the values of its condition. */
export interface KeptMatch {
  readonly template: RuleTemplate;
  readonly values: unknown[];
}

/**
 * The rule value an update's plan is kept by: `undefined` for the system scope; else its `get`
 * and `update` rules, or its `get` rule alone when its `update` rule is the same filter (which
 * planning then plans once).
 */
export function updateRules(access: Access | undefined, collection: CollectionModel): RuleValue[] | undefined {
  if (access === undefined) return undefined;
  const get = access.rule(collection, "get");
  const update = access.rule(collection, "update");
  return typeof update === "object" && sameFilter(get, update) ? [get] : [get, update];
}

/**
 * The kept plan of a `kind` of `id` (a list has none) for a rule (`undefined`: the system scope;
 * an update's: `updateRules`; a list's: its `where` and `list` rule, as an array of the two), with
 * the values of this request's condition bound; `undefined` when the rule's shape was not seen,
 * or a value does not bind.
 */
export function matchKept(
  runtime: DialectRuntime,
  collection: CollectionModel,
  kind: KeptKind,
  id: string | undefined,
  rule: RuleValue | readonly unknown[] | undefined,
): KeptMatch | undefined {
  const kept = templates[kind].get(collection);
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
    const values: unknown[] = id === undefined ? [] : [id];
    for (const param of template.params) {
      if (param.leaf < 0) {
        values.push((param as { value: unknown }).value);
        continue;
      }
      const { column, path, encoding, op } = (param as { bound: Binding }).bound;
      try {
        values.push(encodeValue(runtime, column, leaves[param.leaf], path, encoding, op));
      } catch {
        // Refused: planned again, the read refuses it as it always does.
        return undefined;
      }
    }
    template.used = true;
    return { template, values };
  }
  return undefined;
}

/** The statement a match keeps for a read shape (a get), a set of changed fields (an update) or a listing (a list), if it was planned. */
export function statementOf(match: KeptMatch, of: unknown): KeptStatement | undefined {
  return match.template.statements.get(of);
}

/** The statement of a get, by its read shape and condition. */
export function getStatement(runtime: DialectRuntime, shape: ReadShape, key: StatementKey, condition: Cond): KeptStatement {
  return { key, condition, build: () => selectColumns(runtime, shape, "t0", NO_COMPUTED).where(buildCond(runtime, condition, "t0")) };
}

/**
 * Keeps the plan of a `kind` just planned the way of every request (`plan` recorded its bound
 * values; its condition's are its first `conditionValues`): its rule's shape, how each of its
 * values binds, and `statement` under `of` (a get's read shape, an update's changed fields, a
 * list's listing). Nothing is kept when the plan is not one the matching can reproduce (then
 * every such request is planned).
 */
export function keepPlan(
  kind: KeptKind,
  runtime: DialectRuntime,
  collection: CollectionModel,
  id: string | undefined,
  rule: RuleValue | readonly unknown[] | undefined,
  of: unknown,
  statement: KeptStatement,
  plan: Plan,
  conditionValues: number,
  matched: KeptMatch | undefined,
): void {
  if (matched !== undefined) {
    const statements = matched.template.statements;
    if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value);
    statements.set(of, statement);
    return;
  }
  let kept = templates[kind].get(collection);
  if (kept === undefined) templates[kind].set(collection, (kept = []));
  const recorded = plan.recorded ?? [];
  const lead = id === undefined ? 0 : 1;
  if (conditionValues !== recorded.length + lead || (id !== undefined && plan.values[0] !== id)) return;
  let node: "system" | true | Node;
  const leaves: unknown[] = [];
  if (rule === undefined || rule === true) node = rule === undefined ? "system" : true;
  else if (rule === false || (Array.isArray(rule) && rule.includes(false))) return;
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
    if (bound.index !== i + lead) return;
    if (typeof bound.raw === "boolean") params.push({ leaf: -1, value: bound.encoded });
    else if (next < leaves.length && leaves[next] === bound.raw) {
      const { column, path, encoding, op } = bound;
      params.push({ leaf: next++, bound: { column, path, encoding, op } });
    }
    else return;
  }
  if (next !== leaves.length) return;
  if (kept.length >= MAX_TEMPLATES) evict(kept);
  kept.push({ runtime, rule: node, params, statements: new Map([[of, statement]]), used: false });
}

/**
 * Makes room for a template (second chance): the oldest not matched since it was last passed
 * over goes; one matched since is kept, as if new, and no longer counts as matched.
 */
function evict(kept: RuleTemplate[]): void {
  for (;;) {
    const oldest = kept.shift()!;
    if (!oldest.used) return;
    oldest.used = false;
    kept.push(oldest);
  }
}

/**
 * In the verifying mode: plans the request again (`plan`: its statement's key and values) and
 * throws when a kept plan's statement or values are not those planning makes, or when planning
 * refuses what the kept plan accepted.
 */
export function verifyKept(kept: KeptStatement, values: readonly unknown[], plan: () => { key: StatementKey; values: readonly unknown[] }): void {
  let planned: { key: StatementKey; values: readonly unknown[] };
  try {
    planned = plan();
  } catch (error) {
    throw new Error(`A kept plan accepted what its planning refuses: ${kept.key} ${JSON.stringify(values)}`, { cause: error });
  }
  if (kept.key === planned.key && isDeepStrictEqual(values, planned.values)) return;
  throw new Error(
    `A kept plan differs from its planning:\n  kept:    ${kept.key} ${JSON.stringify(values)}\n  planned: ${planned.key} ${JSON.stringify(planned.values)}`,
  );
}

/**
 * What a list's statement is kept under, besides the shapes of its filters: the fields the
 * caller may read (`readable`, the key of its whole read shape), whether it skips records
 * (`offset`) and counts them, and its order as `orderBy` wrote it (field and direction by field).
 */
export interface Listing {
  readonly readable: string;
  readonly offset: boolean;
  readonly count: boolean;
  readonly order: readonly (readonly [name: string, direction: "asc" | "desc"])[];
}

/** The items of an `orderBy`, one or an array of them. */
function sortItems(orderBy: unknown): readonly unknown[] {
  return orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
}

/** The one field of a sort object and its direction; `undefined` for any other value. */
function sortOf(item: unknown): readonly [string, "asc" | "desc"] | undefined {
  if (!isPlainObject(item)) return undefined;
  const names = Object.keys(item);
  if (names.length !== 1) return undefined;
  const direction = item[names[0]!];
  return direction === "asc" || direction === "desc" ? [names[0]!, direction] : undefined;
}

/**
 * The listing of a list just planned (its `orderBy` was checked), to keep its statement under;
 * `undefined` for an `orderBy` not written as sort objects of one field each (with a key left
 * `undefined`, say): such a list is planned every time.
 */
export function listingOf(readable: string, orderBy: unknown, offset: boolean, count: boolean): Listing | undefined {
  const order: (readonly [string, "asc" | "desc"])[] = [];
  for (const item of sortItems(orderBy)) {
    const sort = sortOf(item);
    if (sort === undefined) return undefined;
    order.push(sort);
  }
  return { readable, offset, count, order };
}

/** The statement a match keeps for this listing of a list, if it was planned: compared field by field, with no key made. */
export function listedOf(match: KeptMatch, readable: string, orderBy: unknown, offset: boolean, count: boolean): KeptStatement | undefined {
  const items = sortItems(orderBy);
  search: for (const [of, statement] of match.template.statements) {
    const listing = of as Listing;
    if (listing.readable !== readable || listing.offset !== offset || listing.count !== count || listing.order.length !== items.length) continue;
    for (let i = 0; i < items.length; i++) {
      // A sort object of its one own key: one of more fields, or of keys left undefined, is another listing.
      const sort = sortOf(items[i]);
      const [name, direction] = listing.order[i]!;
      if (sort === undefined || sort[0] !== name || sort[1] !== direction) continue search;
    }
    return statement;
  }
  return undefined;
}
