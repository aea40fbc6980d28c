/**
 * @internal `select` and `include`: which columns a read fetches, which it returns, and the
 * related records it loads.
 * @module
 */
import type { Access } from "../access/caller-access.js";
import { invalidQuery as invalid } from "../errors/api-error.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import {
  joinColumnOf,
  type CollectionModel,
  type ColumnModel,
  type ComputedModel,
  type Model,
  type RelationModel,
} from "../model/model.js";
import { decodersOf, type ShapeDecoders } from "./decoders.js";
import { planComputed, type ComputedSelection } from "./computed.js";
import { planOrder, type SortKey } from "./order.js";
import { limitExceeded, type ResolvedLimits } from "./limits.js";
import { Plan, shapeKey, type ShapeKey } from "./statement-key.js";
import { and, checkWhereSize, planRule, planWhere, TRUE, type Cond } from "./where.js";
import { isPlainObject } from "../define/object-keys.js";

/** The records one read returns: columns fetched and kept, and relations to load. */
export interface ReadShape {
  readonly collection: CollectionModel;
  /** The columns the statement fetches. */
  readonly columns: readonly ColumnModel[];
  /** The fields each returned record keeps; `undefined` keeps every fetched column. */
  readonly output: readonly string[] | undefined;
  /** The decoders of the fetched columns whose driver value needs one. */
  readonly decoders: ShapeDecoders;
  /** The computed fields each record gets. */
  readonly computed: readonly ComputedModel[];
  readonly includes: readonly IncludePlan[];
  /** The key part naming the fetched columns and computed fields. */
  readonly key: ShapeKey;
}

/** One included relation, planned once per read. */
export interface IncludePlan {
  readonly relation: RelationModel;
  readonly shape: ReadShape;
  /** The statement that loads it: its filter (to-many only) with bound values. */
  readonly plan: Plan;
  /** The computed fields of the related records, planned into `plan`. */
  readonly computed: readonly ComputedSelection[];
  readonly where: Cond;
  readonly order: readonly SortKey[];
  readonly limit: number | undefined;
}

function at(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

const ONE_OPTIONS = new Set(["select", "include"]);
const MANY_OPTIONS = new Set(["select", "include", "where", "orderBy", "limit"]);

/** Checks a `limit`: a whole number from 0. */
export function checkLimit(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    invalid(path, "expected a whole number from 0");
  }
  return value;
}

/**
 * Checks a caller's `include` against the backend's limits before anything walks it: at most
 * `includeDepth` levels, a to-many `limit` of at most `maxLimit`, and each include's `where`
 * within the `where` limits. What is not an include is left to the planner, which reports it.
 */
export function checkIncludeSize(
  model: Model,
  collection: CollectionModel,
  include: unknown,
  limits: ResolvedLimits,
  path = "include",
  depth = 1,
): void {
  if (!isPlainObject(include)) return;
  for (const name of Object.keys(include)) {
    const value = include[name];
    if (value === undefined || value === false) continue;
    if (depth > limits.includeDepth) {
      limitExceeded("includeDepth", limits.includeDepth, `${path}.${name}: includes nest at most ${limits.includeDepth} levels deep`);
    }
    const relation = collection.relations.get(name);
    const target = relation === undefined ? undefined : model.collections.get(relation.target);
    if (target === undefined || !isPlainObject(value)) continue;
    const limit = value["limit"];
    if (typeof limit === "number" && limit > limits.maxLimit) invalid(`${path}.${name}.limit`, `at most ${limits.maxLimit}`);
    checkWhereSize(target, model, value["where"], limits);
    checkIncludeSize(model, target, value["include"], limits, `${path}.${name}.include`, depth + 1);
  }
}

/**
 * Plans the shape of a read of `collection`. `needed` are columns the caller needs fetched
 * whatever the `select` (sort keys for the cursor, the join column of a to-many relation).
 * `limits` bound a caller's to-many includes (`undefined` for the system scope).
 */
export function planShape(
  runtime: DialectRuntime,
  model: Model,
  collection: CollectionModel,
  select: unknown,
  include: unknown,
  path: string,
  access: Access | undefined,
  limits: ResolvedLimits | undefined,
  needed: readonly ColumnModel[] = [],
): ReadShape {
  if (select === undefined && include === undefined) return wholeShape(runtime, collection, access, needed);
  const visible = (column: ColumnModel | undefined) =>
    column !== undefined && (access === undefined || access.readable(column)) ? column : undefined;
  const fetched = new Set<ColumnModel>();
  let output: string[] | undefined;
  let computed: readonly ComputedModel[] = collection.computed;
  if (select !== undefined) {
    if (!Array.isArray(select)) invalid(at(path, "select"), "expected an array of field names");
    output = ["id"];
    fetched.add(collection.columnsByName.get("id")!);
    const selected: ComputedModel[] = [];
    for (const name of select) {
      const value = collection.computed.find((item) => item.name === name);
      if (value !== undefined) {
        if (!selected.includes(value)) selected.push(value), output.push(value.name);
        continue;
      }
      const column = typeof name === "string" ? visible(collection.columnsByName.get(name)) : undefined;
      if (column === undefined) {
        invalid(at(path, "select"), `${JSON.stringify(name)} is not a field of "${collection.name}"`);
      }
      if (!fetched.has(column)) output.push(column.name);
      fetched.add(column);
    }
    computed = selected;
  } else {
    for (const column of collection.columns) if (visible(column)) fetched.add(column);
    // Records keep exactly the visible columns: writes read every column back, and columns
    // fetched only for joins or cursors are dropped again.
    if (fetched.size < collection.columns.length) {
      output = [...[...fetched].map((column) => column.name), ...computed.map((item) => item.name)];
    }
  }
  for (const column of needed) fetched.add(column);

  const includes: IncludePlan[] = [];
  if (include !== undefined) {
    if (typeof include !== "object" || include === null || Array.isArray(include)) {
      invalid(at(path, "include"), "expected an object of relation names");
    }
    for (const [name, value] of Object.entries(include as Record<string, unknown>)) {
      if (value === undefined || value === false) continue;
      const here = at(at(path, "include"), name);
      const relation = collection.relations.get(name);
      if (relation === undefined || visible(joinColumnOf(model, collection, relation)) === undefined) {
        invalid(here, `"${name}" is not a relation of "${collection.name}"`);
      }
      includes.push(planInclude(runtime, model, relation, value, here, access, limits));
      if (relation.kind === "one") fetched.add(collection.columnsByName.get(relation.column)!);
      else fetched.add(collection.columnsByName.get("id")!);
      if (output !== undefined && !output.includes(name)) output.push(name);
    }
  }
  const columns = [...fetched];
  return {
    collection,
    columns,
    output,
    decoders: decodersOf(runtime, columns),
    computed,
    includes,
    key: shapeKey(columns, computed),
  };
}

const masking = new WeakMap<CollectionModel, boolean>();

/** Whether a caller may be denied reading some field of the collection (hidden, or a read rule). */
function masksFields(collection: CollectionModel): boolean {
  let masks = masking.get(collection);
  if (masks === undefined) {
    masks = collection.columns.some((column) => column.field !== undefined && (column.field.hidden || column.field.access?.read !== undefined));
    masking.set(collection, masks);
  }
  return masks;
}

/** Shapes without `select` or `include`, by dialect, collection, visible columns and needed ones. */
const wholeShapes = new WeakMap<CollectionModel, Map<string, ReadShape>>();

/**
 * The shape of a read without `select` or `include` (most reads): it depends only on which
 * columns the caller sees, so it is planned once per such mask and reused.
 */
function wholeShape(
  runtime: DialectRuntime,
  collection: CollectionModel,
  access: Access | undefined,
  needed: readonly ColumnModel[],
): ReadShape {
  let key = runtime.name;
  if (access !== undefined && masksFields(collection)) {
    key += ":";
    for (const column of collection.columns) key += access.readable(column) ? "1" : "0";
  }
  for (const column of needed) key += `,${column.name}`;
  let shapes = wholeShapes.get(collection);
  if (shapes === undefined) wholeShapes.set(collection, (shapes = new Map()));
  let shape = shapes.get(key);
  if (shape === undefined) {
    const visible = access === undefined ? collection.columns : collection.columns.filter((column) => access.readable(column));
    const fetched = new Set<ColumnModel>(visible);
    const computed = collection.computed;
    const output =
      fetched.size < collection.columns.length
        ? [...visible.map((column) => column.name), ...computed.map((item) => item.name)]
        : undefined;
    for (const column of needed) fetched.add(column);
    const columns = [...fetched];
    shape = Object.freeze({
      collection,
      columns,
      output,
      decoders: decodersOf(runtime, columns),
      computed,
      includes: [],
      key: shapeKey(columns, computed),
    });
    shapes.set(key, shape);
  }
  return shape;
}

function planInclude(
  runtime: DialectRuntime,
  model: Model,
  relation: RelationModel,
  value: unknown,
  path: string,
  access: Access | undefined,
  limits: ResolvedLimits | undefined,
): IncludePlan {
  const target = model.collections.get(relation.target)!;
  const options: Record<string, unknown> = value === true ? {} : (value as Record<string, unknown>);
  if (value !== true && (typeof value !== "object" || value === null || Array.isArray(value))) {
    invalid(path, "expected true or an object of options");
  }
  const allowed = relation.kind === "one" ? ONE_OPTIONS : MANY_OPTIONS;
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      invalid(at(path, key), `unknown option "${key}" (a ${relation.kind === "one" ? "to-one" : "to-many"} include takes ${[...allowed].join(", ")})`);
    }
  }
  const plan = new Plan(target.name, relation.kind, relation.column);
  let where: Cond = TRUE;
  let order: SortKey[] = [];
  let limit: number | undefined;
  const needed: ColumnModel[] = [];
  const whereContext = { plan, runtime, model, access };
  if (relation.kind === "many") {
    where = planWhere(whereContext, target, options["where"], at(path, "where"));
    order = planOrder(target, options["orderBy"], at(path, "orderBy"), access);
    plan.order(order);
    // A caller's to-many include returns at most maxLimit related records per record.
    if (options["limit"] !== undefined) limit = checkLimit(options["limit"], at(path, "limit"));
    else if (limits !== undefined) limit = limits.maxLimit;
    if (limit !== undefined) plan.limit();
    // Related records are grouped by their join column, so it is fetched whatever the select.
    needed.push(target.columnsByName.get(relation.column)!);
  }
  // Related records the caller may not read are left out (a to-one include then holds null).
  where = and(where, planRule(whereContext, target, relation.kind === "one" ? "get" : "list"));
  const shape = planShape(runtime, model, target, options["select"], options["include"], path, access, limits, needed);
  plan.shape(shape.key);
  const computed = planComputed(whereContext, shape);
  return { relation, shape, plan, computed, where, order, limit };
}
