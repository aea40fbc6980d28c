/**
 * @internal The rules of one operation for one caller: resolved up front (rules may be async),
 * then read while the operation is planned.
 * @module
 */
import { apiError, type ApiError } from "../errors/api-error.js";
import type { CollectionModel, ColumnModel, Model } from "../model/model.js";
import type { Principal } from "../define/principal.js";
import type { Operation } from "../define/rules.js";
import { isPlainObject } from "../define/object-keys.js";

/** A resolved collection rule: allowed, denied, or a filter. */
export type RuleValue = boolean | Record<string, unknown>;

/** What a non-system caller may do, for the collections one operation touches. */
export interface Access {
  readonly user: Principal | null;
  /** The resolved rule; it must have been named in the needs given to `resolveAccess`. */
  rule(collection: CollectionModel, operation: Operation): RuleValue;
  /** Whether the caller may see (read, filter, sort, select) the column. */
  readable(column: ColumnModel): boolean;
  /** Whether the caller may write the column. */
  writable(column: ColumnModel): boolean;
}

/** The rules an operation needs: `collection:operation` pairs. */
export type RuleNeeds = Map<string, readonly [CollectionModel, Operation]>;

/** Adds a rule to the needs of an operation. */
export function need(needs: RuleNeeds, collection: CollectionModel, operation: Operation): void {
  needs.set(`${collection.name}:${operation}`, [collection, operation]);
}

/**
 * Adds the rules a filter reaches through relations: the `list` rule of every collection it
 * filters across. Only relation keys are followed; the planner checks everything else.
 */
export function whereNeeds(needs: RuleNeeds, model: Model, collection: CollectionModel, where: unknown): void {
  if (!isPlainObject(where)) return;
  for (const [key, value] of Object.entries(where)) {
    if (key === "and" || key === "or") {
      if (Array.isArray(value)) for (const item of value) whereNeeds(needs, model, collection, item);
      continue;
    }
    if (key === "not") {
      whereNeeds(needs, model, collection, value);
      continue;
    }
    const relation = collection.relations.get(key);
    if (relation === undefined || !isPlainObject(value)) continue;
    const target = model.collections.get(relation.target)!;
    need(needs, target, "list");
    if (relation.kind === "one") whereNeeds(needs, model, target, value);
    else for (const inner of Object.values(value)) whereNeeds(needs, model, target, inner);
  }
}

/** Adds the `list` rule of every collection the computed fields of `collection` count in. */
function computedNeeds(needs: RuleNeeds, model: Model, collection: CollectionModel): void {
  for (const field of collection.computed) need(needs, model.collections.get(field.relation.target)!, "list");
}

/** Adds the rules includes read: `get` of a to-one target, `list` of a to-many target. */
export function includeNeeds(needs: RuleNeeds, model: Model, collection: CollectionModel, include: unknown): void {
  if (!isPlainObject(include)) return;
  for (const [key, value] of Object.entries(include)) {
    const relation = collection.relations.get(key);
    if (relation === undefined || value === undefined || value === false) continue;
    const target = model.collections.get(relation.target)!;
    need(needs, target, relation.kind === "one" ? "get" : "list");
    computedNeeds(needs, model, target);
    if (isPlainObject(value)) {
      whereNeeds(needs, model, target, value["where"]);
      includeNeeds(needs, model, target, value["include"]);
    }
  }
}

/**
 * Adds the `get` rule of every collection that the `belongsTo` values of a write's input point
 * to: a caller may only name records it may read. `written` is an input, or a list of them.
 */
export function referenceNeeds(needs: RuleNeeds, model: Model, collection: CollectionModel, written: unknown): void {
  for (const input of Array.isArray(written) ? written : [written]) {
    if (!isPlainObject(input)) continue;
    for (const [key, value] of Object.entries(input)) {
      const target = value === null || value === undefined ? undefined : collection.columnsByName.get(key)?.references?.table;
      if (target !== undefined) need(needs, model.collections.get(target)!, "get");
    }
  }
}

function checked(collection: CollectionModel, operation: Operation, value: unknown): RuleValue {
  if (typeof value === "boolean" || isPlainObject(value)) return value as RuleValue;
  throw new Error(
    `The access rule ${collection.name}.${operation} returned ${value === null ? "null" : typeof value}; a rule returns true, false or a where filter.`,
  );
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** A rule's value for a caller: at once when the rule is synchronous, else a promise of it. */
function evaluate(collection: CollectionModel, operation: Operation, user: Principal | null): RuleValue | Promise<RuleValue> {
  const rule = collection.access[operation];
  if (rule === undefined) return false;
  const value: unknown = rule({ user });
  return isPromiseLike(value) ? Promise.resolve(value).then((resolved) => checked(collection, operation, resolved)) : checked(collection, operation, value);
}

/**
 * Resolves the rules an operation needs for a caller: the access at once when every rule is
 * synchronous (no promise, no turn of the event loop), else a promise of it.
 */
export function resolveAccess(user: Principal | null, needs: RuleNeeds): Access | Promise<Access> {
  return resolveList(user, [...needs.values()]);
}

function resolveList(user: Principal | null, needs: readonly (readonly [CollectionModel, Operation])[]): Access | Promise<Access> {
  // One rule (a read or write of one collection, the common case) needs no map.
  if (needs.length === 1) {
    const [collection, operation] = needs[0]!;
    const value = evaluate(collection, operation, user);
    if (value instanceof Promise) return value.then((resolved) => new CallerAccess(user, collection, operation, resolved, undefined));
    return new CallerAccess(user, collection, operation, value, undefined);
  }
  const rules: Rules = new Map();
  for (let i = 0; i < needs.length; i++) {
    const [collection, operation] = needs[i]!;
    const value = evaluate(collection, operation, user);
    if (value instanceof Promise) return resolveRest(user, rules, i, value, needs);
    setRule(rules, collection, operation, value);
  }
  return new CallerAccess(user, undefined, undefined, undefined, rules);
}

/**
 * Resolved rules by collection name, then operation: no key is made per lookup (a string made
 * anew is hashed anew each time it is looked up).
 */
type Rules = Map<string, Partial<Record<Operation, RuleValue>>>;

function setRule(rules: Rules, collection: CollectionModel, operation: Operation, value: RuleValue): void {
  let ofCollection = rules.get(collection.name);
  if (ofCollection === undefined) rules.set(collection.name, (ofCollection = Object.create(null) as Partial<Record<Operation, RuleValue>>));
  ofCollection[operation] = value;
}

/** From the first asynchronous rule on: the rest are evaluated one after another, as they come. */
async function resolveRest(
  user: Principal | null,
  rules: Rules,
  first: number,
  pending: Promise<RuleValue>,
  needs: readonly (readonly [CollectionModel, Operation])[],
): Promise<Access> {
  const [collection, operation] = needs[first]!;
  setRule(rules, collection, operation, await pending);
  for (let i = first + 1; i < needs.length; i++) {
    const [collection, operation] = needs[i]!;
    setRule(rules, collection, operation, await evaluate(collection, operation, user));
  }
  return new CallerAccess(user, undefined, undefined, undefined, rules);
}

/**
 * The access of one caller for one operation: its resolved rules (one, held without a map, or
 * several by collection and operation), and its field rules, each asked once per operation.
 */
class CallerAccess implements Access {
  #read: Map<ColumnModel, boolean> | undefined;
  #write: Map<ColumnModel, boolean> | undefined;

  constructor(
    readonly user: Principal | null,
    private readonly oneCollection: CollectionModel | undefined,
    private readonly oneOperation: Operation | undefined,
    private readonly oneValue: RuleValue | undefined,
    private readonly rules: Rules | undefined,
  ) {}

  rule(collection: CollectionModel, operation: Operation): RuleValue {
    const value =
      this.rules === undefined
        ? operation === this.oneOperation && collection.name === this.oneCollection!.name
          ? this.oneValue
          : undefined
        : this.rules.get(collection.name)?.[operation];
    if (value === undefined) throw new Error(`The rule ${collection.name}.${operation} was not resolved.`);
    return value;
  }

  readable(column: ColumnModel): boolean {
    const field = column.field;
    if (field === undefined) return true;
    const read = (this.#read ??= new Map());
    let allowed = read.get(column);
    if (allowed === undefined) read.set(column, (allowed = !field.hidden && (field.access?.read?.({ user: this.user }) ?? true)));
    return allowed;
  }

  writable(column: ColumnModel): boolean {
    const field = column.field;
    if (field === undefined) return false;
    const write = (this.#write ??= new Map());
    let allowed = write.get(column);
    if (allowed === undefined) {
      const user = this.user;
      allowed = !field.readOnly && !field.hidden && (field.access?.read?.({ user }) ?? true) && (field.access?.write?.({ user }) ?? true);
      write.set(column, allowed);
    }
    return allowed;
  }
}

/**
 * The field rules of a caller, for a write that needs no collection rule: sign-up, which
 * creates a `users` record as an anonymous caller's field rules allow.
 */
export function fieldAccess(user: Principal | null): Access {
  return new CallerAccess(user, undefined, undefined, undefined, new Map());
}

/** The error for an operation the caller may not do: 401 when anonymous, else 403. */
export function denied(user: Principal | null, message: string, details?: Record<string, unknown>): ApiError {
  return user === null
    ? apiError("UNAUTHORIZED", `${message} Sign in first.`)
    : apiError("FORBIDDEN", message, details);
}

/**
 * The access of a non-system caller for an operation, its filters, includes and written inputs
 * (`undefined` for the system scope); a promise only when a rule is asynchronous.
 */
export function accessFor(
  trusted: boolean,
  user: Principal | null,
  model: Model,
  collection: CollectionModel,
  operations: readonly Operation[],
  where?: unknown,
  include?: unknown,
  written?: unknown,
): Access | undefined | Promise<Access> {
  if (trusted) return undefined;
  if (where === undefined && include === undefined && written === undefined) return resolveList(user, plainNeeds(model, collection, operations));
  const needs: RuleNeeds = new Map();
  for (const operation of operations) need(needs, collection, operation);
  computedNeeds(needs, model, collection);
  whereNeeds(needs, model, collection, where);
  includeNeeds(needs, model, collection, include);
  referenceNeeds(needs, model, collection, written);
  return resolveAccess(user, needs);
}

/** The needs of operations without a filter, includes or input, by collection and operations: found once. */
const plainNeedsOf = new WeakMap<CollectionModel, Map<string, readonly (readonly [CollectionModel, Operation])[]>>();

function plainNeeds(model: Model, collection: CollectionModel, operations: readonly Operation[]): readonly (readonly [CollectionModel, Operation])[] {
  let byOperations = plainNeedsOf.get(collection);
  if (byOperations === undefined) plainNeedsOf.set(collection, (byOperations = new Map()));
  const key = operations.length === 1 ? operations[0]! : operations.join(",");
  let needs = byOperations.get(key);
  if (needs === undefined) {
    const found: RuleNeeds = new Map();
    for (const operation of operations) need(found, collection, operation);
    computedNeeds(found, model, collection);
    needs = Object.freeze([...found.values()]);
    byOperations.set(key, needs);
  }
  return needs;
}
