/**
 * @internal The runtime model of a schema, computed once at `createBackend`: columns, indexes,
 * relations and validators of every collection.
 * @module
 */
import { z } from "zod";
import { SchemaError } from "../errors/schema-error.js";
import type { CollectionAccess } from "../define/rules.js";
import type { CollectionHooks } from "../define/hooks.js";
import type { AnyCollection, Fields } from "../define/types.js";
import { Computed, Field, HasMany, type ComputedWhere, type FieldConfig, type FieldKind, type OnDelete } from "../define/field.js";
import { systemIndexesOf } from "../define/collection.js";
import { DATETIME_OUT_OF_RANGE, storableDate } from "./datetime.js";
import { EXPECTED, expects } from "./field-messages.js";
import { JSON_FIELD_DEPTH, jsonValueProblem, NUL_REFUSED_ISSUE } from "./text.js";
import type { Schema } from "../define/types.js";

/** The storage kind of a column: a field kind, or one of the automatic columns. */
export type ColumnKind = Exclude<FieldKind, "enum" | "belongsTo"> | "id";

/** A column as the database holds it. */
export interface ColumnModel {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  /** A literal default, also written as the SQL default. */
  readonly sqlDefault: { readonly value: unknown } | undefined;
  /** For `belongsTo` columns: the table whose id this column holds. */
  readonly references: { readonly table: string; readonly onDelete: OnDelete } | undefined;
  /** The field behind it; `undefined` for `id`, `createdAt`, `updatedAt`. */
  readonly field: FieldConfig | undefined;
  /** Sortable and comparable (not JSON). */
  readonly ordered: boolean;
}

/** An index as the database holds it. */
export interface IndexModel {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
  /** Columns in descending order (cimiento's own tables only). */
  readonly descending?: readonly string[];
  /**
   * The SQL predicate of a partial index, written the same way on every dialect (cimiento's own
   * tables only: a query uses the index when its filter repeats the predicate word for word).
   */
  readonly where?: string;
}

/** A relation of a collection, resolved to the columns that join it. */
export interface RelationModel {
  readonly name: string;
  readonly kind: "one" | "many";
  readonly target: string;
  /** to-one: the local column holding the target's id; to-many: the target's column holding ours. */
  readonly column: string;
  readonly nullable: boolean;
}

/** A computed field: a count of, or a test for, related records, evaluated in SQL on reads. */
export interface ComputedModel {
  readonly name: string;
  readonly kind: "count" | "exists";
  /** The to-many relation it is computed from. */
  readonly relation: RelationModel;
  readonly where: ComputedWhere;
}

/** A field that cimiento fills at create (`field.slug`, `field.sequence`). */
export type GeneratedModel =
  | { readonly kind: "slug"; readonly column: ColumnModel; readonly from: string; readonly update: boolean }
  | { readonly kind: "sequence"; readonly column: ColumnModel; readonly counter: string };

/** Everything cimiento needs about one collection at runtime. */
export interface CollectionModel {
  readonly name: string;
  readonly columns: readonly ColumnModel[];
  readonly columnsByName: ReadonlyMap<string, ColumnModel>;
  readonly relations: ReadonlyMap<string, RelationModel>;
  /** Computed fields, in declaration order. */
  readonly computed: readonly ComputedModel[];
  /** Generated fields (slugs, sequences), in declaration order. */
  readonly generated: readonly GeneratedModel[];
  readonly indexes: readonly IndexModel[];
  /** A create's input from the system scope: the fields, and optionally the id and timestamps. */
  readonly createSchema: z.ZodType<Record<string, unknown>>;
  readonly updateSchema: z.ZodType<Record<string, unknown>>;
  /** Any subset of `createSchema`'s keys: a create's input before `beforeCreate` completes it. */
  readonly draftSchema: z.ZodType<Record<string, unknown>>;
  /**
   * `createSchema` and `draftSchema` for callers: without timestamps, and without the id unless
   * `clientIds` allows it.
   */
  readonly callerCreateSchema: z.ZodType<Record<string, unknown>>;
  readonly callerDraftSchema: z.ZodType<Record<string, unknown>>;
  /** Fields with a default, and fields that are optional without one (they default to null). */
  readonly defaults: readonly (readonly [string, { readonly value: unknown } | undefined])[];
  readonly access: CollectionAccess<Fields>;
  readonly hooks: CollectionHooks<Fields>;
  /** Whether its committed writes go to the event log, for subscriptions. */
  readonly realtime: boolean;
  /** Every `belongsTo` pointing at this collection, for delete errors. */
  readonly referencedBy: readonly { readonly collection: string; readonly column: string; readonly onDelete: OnDelete }[];
}

/** The model of a whole schema. */
export interface Model {
  readonly collections: ReadonlyMap<string, CollectionModel>;
}

const dateInput = z
  .union([z.date(), z.iso.datetime({ offset: true }).transform((value) => new Date(value))], { error: expects(EXPECTED.datetime) })
  .refine(storableDate, { message: DATETIME_OUT_OF_RANGE });

/** Text as every database stores it: without NUL. Its other issues say that `what` is expected. */
function storableText(what: string) {
  return z.string({ error: expects(what) }).regex(/^[^\u0000]*$/, { message: NUL_REFUSED_ISSUE });
}

// A whole number's type issue names the kind; its range issues (beyond 2^53 - 1) the range too.
const integerExpected = expects((code) => (code === "too_big" || code === "too_small" ? EXPECTED.integerInRange : EXPECTED.integer));

function baseSchema(config: FieldConfig): z.ZodType {
  switch (config.kind) {
    case "text":
      return config.generated === undefined ? storableText(EXPECTED.text) : storableText(EXPECTED.nonEmptyText).min(1);
    case "integer":
      return z.int({ error: integerExpected });
    case "number":
      return z.number({ error: expects(EXPECTED.number) });
    case "boolean":
      return z.boolean({ error: expects(EXPECTED.boolean) });
    case "datetime":
      return dateInput;
    case "json":
      return z.unknown();
    case "enum":
      return z.enum(config.values as [string, ...string[]], { error: expects(EXPECTED.enum(config.values!)) });
    case "belongsTo":
      return storableText(EXPECTED.belongsTo(config.target!)).min(1);
  }
}

/** A JSON value as every database stores it: no NUL in its strings, a bounded depth. */
function storableJson(schema: z.ZodType): z.ZodType {
  return schema.superRefine((value, ctx) => {
    const problem = jsonValueProblem(value, JSON_FIELD_DEPTH);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });
}

/**
 * A JSON field's own schema speaks for its values; a missing value is said here, unless that
 * schema fills it in (a `default()` of its own, which zod lets an object's key go without).
 */
function jsonSchema(schema: z.ZodType): z.ZodType {
  if (schema._zod.optin !== undefined) return schema;
  return z.unknown().nonoptional({ error: expects(EXPECTED.json) }).pipe(schema);
}

function valueSchema(config: FieldConfig): z.ZodType {
  if (config.kind === "json") return storableJson(jsonSchema(config.schema ?? baseSchema(config)));
  const base = baseSchema(config);
  if (config.schema === undefined) return base;
  return base.pipe(config.schema);
}

function columnKind(config: FieldConfig): ColumnKind {
  if (config.kind === "enum" || config.kind === "belongsTo") return "text";
  return config.kind;
}

/**
 * The column that joins a relation: for to-one, this collection's `belongsTo` column; for
 * to-many, the target's. A caller must see it to follow the relation.
 */
export function joinColumnOf(model: Model, collection: CollectionModel, relation: RelationModel): ColumnModel {
  const owner = relation.kind === "one" ? collection : model.collections.get(relation.target)!;
  return owner.columnsByName.get(relation.column)!;
}

/** Names an index the same way on every run, within PostgreSQL's 63-byte identifier limit. */
export function indexName(table: string, columns: readonly string[], unique: boolean): string {
  const name = `${table}_${columns.join("_")}_${unique ? "key" : "idx"}`;
  if (name.length <= 63) return name;
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0;
  return `${name.slice(0, 54)}_${(hash >>> 0).toString(36)}`;
}

function literalDefault(config: FieldConfig): { value: unknown } | undefined {
  const value = config.default?.value;
  if (config.default === undefined || typeof value === "function") return undefined;
  return { value };
}

function scalarColumn(name: string, kind: ColumnKind, nullable: boolean): ColumnModel {
  return { name, kind, nullable, sqlDefault: undefined, references: undefined, field: undefined, ordered: true };
}

function collectionColumns(collection: AnyCollection): ColumnModel[] {
  const columns: ColumnModel[] = [scalarColumn("id", "id", false)];
  for (const [name, value] of Object.entries(collection.fields)) {
    if (!(value instanceof Field)) continue;
    const config = value.config;
    columns.push({
      name,
      kind: columnKind(config),
      nullable: config.optional,
      sqlDefault: literalDefault(config),
      references:
        config.kind === "belongsTo" ? { table: config.target as string, onDelete: config.onDelete } : undefined,
      field: config,
      ordered: config.kind !== "json",
    });
  }
  columns.push(scalarColumn("createdAt", "datetime", false), scalarColumn("updatedAt", "datetime", false));
  return columns;
}

function collectionIndexes(collection: AnyCollection): IndexModel[] {
  const seen = new Map<string, IndexModel>();
  const add = (columns: readonly string[], unique: boolean) => {
    const index = { name: indexName(collection.name, columns, unique), columns, unique };
    seen.set(index.name, index);
  };
  for (const [name, value] of Object.entries(collection.fields)) {
    if (!(value instanceof Field)) continue;
    if (value.config.unique) add([name], true);
    // A belongsTo column is indexed: includes, relation filters and cascades look it up.
    else if (value.config.index || value.config.kind === "belongsTo") add([name], false);
  }
  for (const index of collection.indexes) {
    if ("fields" in index) add(index.fields, index.unique ?? false);
    else add(index, false);
  }
  for (const index of systemIndexesOf(collection)) seen.set(index.name, index);
  return [...seen.values()];
}

function writeSchemas(collection: AnyCollection) {
  const create: Record<string, z.ZodType> = {};
  const update: Record<string, z.ZodType> = {};
  for (const [name, value] of Object.entries(collection.fields)) {
    if (!(value instanceof Field)) continue;
    const config = value.config;
    const schema = config.optional ? valueSchema(config).nullable() : valueSchema(config);
    const filled = config.optional || config.default !== undefined || config.generated !== undefined;
    create[name] = filled ? schema.optional() : schema;
    update[name] = schema.optional();
  }
  const id = { id: storableText(EXPECTED.id).min(1).max(255).optional() };
  // The system scope imports records with their own dates; for callers they are unknown fields.
  const timestamps = { createdAt: dateInput.optional(), updatedAt: dateInput.optional() };
  // A caller that chose ids could learn, from a taken one, that a record it may not read exists.
  const callerId = collection.clientIds ? id : {};
  const object = (shape: Record<string, z.ZodType>) => z.strictObject(shape) as z.ZodType<Record<string, unknown>>;
  return {
    createSchema: object({ ...id, ...create, ...timestamps }),
    updateSchema: object(update),
    draftSchema: object({ ...update, ...id, ...timestamps }),
    callerCreateSchema: object({ ...callerId, ...create }),
    callerDraftSchema: object({ ...update, ...callerId }),
  };
}

/**
 * Resolves a schema into its runtime model, checking what one collection alone cannot: that
 * every relation points to a collection of the schema, through a `belongsTo` of the right target.
 */
export function buildModel(schema: Schema): Model {
  for (const [key, collection] of Object.entries(schema)) {
    if (collection.name !== key) {
      throw new SchemaError(
        `The collection "${collection.name}" is registered as "${key}": register it under its own name ({ ${collection.name} }).`,
      );
    }
  }
  const collections = new Map<string, CollectionModel>();
  for (const collection of Object.values(schema)) {
    const columns = collectionColumns(collection);
    const relations = new Map<string, RelationModel>();
    for (const column of columns) {
      if (column.references === undefined) continue;
      const target = schema[column.references.table];
      if (target === undefined) {
        throw new SchemaError(
          `"${collection.name}.${column.name}" belongs to "${column.references.table}", which is not a collection of this backend.`,
        );
      }
      relations.set(column.name, {
        name: column.name,
        kind: "one",
        target: column.references.table,
        column: column.name,
        nullable: column.nullable,
      });
    }
    for (const [name, value] of Object.entries(collection.fields)) {
      if (!(value instanceof HasMany)) continue;
      const target = schema[value.target];
      const on = target?.fields[value.on];
      if (target === undefined) {
        throw new SchemaError(`"${collection.name}.${name}" has many "${value.target}", which is not a collection of this backend.`);
      }
      if (!(on instanceof Field) || on.config.kind !== "belongsTo" || on.config.target !== collection.name) {
        throw new SchemaError(
          `"${collection.name}.${name}" has many "${value.target}" on "${value.on}", which must be a belongsTo("${collection.name}") field of "${value.target}".`,
        );
      }
      relations.set(name, { name, kind: "many", target: value.target, column: value.on, nullable: false });
    }
    // A to-many relation is derived from every collection with exactly one belongsTo to this one.
    for (const other of Object.values(schema)) {
      if (other.name in collection.fields) continue;
      const pointing = Object.entries(other.fields).filter(
        ([, value]) => value instanceof Field && value.config.kind === "belongsTo" && value.config.target === collection.name,
      );
      if (pointing.length !== 1) continue;
      relations.set(other.name, {
        name: other.name,
        kind: "many",
        target: other.name,
        column: pointing[0]![0],
        nullable: false,
      });
    }
    const computed: ComputedModel[] = [];
    for (const [name, value] of Object.entries(collection.fields)) {
      if (!(value instanceof Computed)) continue;
      const relation = relations.get(value.relation);
      if (relation?.kind !== "many") {
        throw new SchemaError(
          `"${collection.name}.${name}" is computed from "${value.relation}", which is not a to-many relation of "${collection.name}" (a hasMany field, or a collection with one belongsTo("${collection.name}")).`,
        );
      }
      computed.push({ name, kind: value.kind, relation, where: value.where });
    }
    const defaults: [string, { value: unknown } | undefined][] = [];
    for (const [name, value] of Object.entries(collection.fields)) {
      if (!(value instanceof Field)) continue;
      if (value.config.default !== undefined) defaults.push([name, value.config.default]);
      else if (value.config.optional) defaults.push([name, undefined]);
    }
    const generated: GeneratedModel[] = [];
    for (const column of columns) {
      const config = column.field?.generated;
      if (config?.kind === "slug") generated.push({ kind: "slug", column, from: config.from, update: config.update });
      else if (config?.kind === "sequence") generated.push({ kind: "sequence", column, counter: `${collection.name}.${column.name}` });
    }
    collections.set(collection.name, {
      name: collection.name,
      columns,
      generated,
      columnsByName: new Map(columns.map((column) => [column.name, column])),
      relations,
      computed,
      indexes: collectionIndexes(collection),
      defaults,
      access: collection.access as CollectionAccess<Fields>,
      hooks: collection.hooks as CollectionHooks<Fields>,
      realtime: collection.realtime === true,
      referencedBy: [],
      ...writeSchemas(collection),
    });
  }
  for (const model of collections.values()) {
    for (const column of model.columns) {
      if (column.references === undefined) continue;
      const target = collections.get(column.references.table)!;
      (target.referencedBy as { collection: string; column: string; onDelete: OnDelete }[]).push({
        collection: model.name,
        column: column.name,
        onDelete: column.references.onDelete,
      });
    }
  }
  return { collections };
}
