/**
 * `collection()`: one definition from which validators, SQL columns and types are derived.
 * @module
 */
import type { CheckedAccess } from "./checked-rules.js";
import type { CollectionAccess, RuleReturn } from "./rules.js";
import { SchemaError } from "../errors/schema-error.js";
import type { CheckedHooks, HookReturn } from "./checked-hooks.js";
import type { CollectionHooks } from "./hooks.js";
import { Computed, Field, HasMany } from "./field.js";
import { OBJECT_PROPERTY_NAMES } from "./object-keys.js";
import type { Collection, Fields, IndexDefinition, UpdateInputOf } from "./types.js";
import { FILTER_OPERATORS, LOGICAL_OPERATORS, RELATION_OPERATORS } from "./operators.js";

/**
 * What `collection()` takes besides the name. `A` is the type of its rules: `collection()`
 * infers what each rule returns, to check its filter against the fields.
 */
export interface CollectionDefinition<
  F extends Fields,
  I extends boolean = boolean,
  A = CollectionAccess<F>,
  H = CollectionHooks<F>,
  R extends boolean = boolean,
> {
  /** The fields; `id`, `createdAt` and `updatedAt` are added automatically. */
  fields: F;
  /**
   * Indexes over several fields (a single field can use `.index()` / `.unique()`).
   * @default []
   */
  indexes?: readonly IndexDefinition<(keyof F & string) | "id" | "createdAt" | "updatedAt">[];
  /**
   * Who may list, get, create, update and delete records. A missing rule denies every caller
   * but the system scope.
   * @default {}
   */
  access?: A;
  /** Code that runs around writes, in their transaction. */
  hooks?: H;
  /**
   * Whether callers other than the system scope may choose the `id` of the records they create.
   * Without it, an `id` in a caller's create input is refused as an unknown field, so that no
   * answer shows whether a record the caller cannot read has some id; with it, a taken id is a
   * `UNIQUE_VIOLATION` (409) whoever may read the record that holds it. The system scope and
   * hooks always may set ids.
   * @default false
   */
  clientIds?: I;
  /**
   * Whether callers may subscribe to the collection's changes (`data.<name>.subscribe()`,
   * `GET /collections/:name/subscribe`). Each committed write of such a collection appends its
   * record before and after to cimiento's event log (the table `cimiento_events`), in the
   * write's transaction; every write then goes record by record, like a write with hooks.
   * @default false
   */
  realtime?: R;
}

/** The fields every collection has. */
export const SYSTEM_FIELDS = ["id", "createdAt", "updatedAt"] as const;

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESERVED = new Set<string>([
  ...OBJECT_PROPERTY_NAMES,
  ...SYSTEM_FIELDS,
  ...FILTER_OPERATORS,
  ...LOGICAL_OPERATORS,
  ...RELATION_OPERATORS,
]);

/**
 * Declares a collection.
 *
 * Names (of the collection and of its fields) are identifiers: a letter, then letters, digits or
 * `_`. A field may not be called `id`, `createdAt`, `updatedAt` or like a `where` operator
 * (`eq`, `in`, `and`, `some`, ...), so that a filter always reads one way, nor like a property
 * of every object (`constructor`, `toString`, ...).
 *
 * The filter each rule returns is checked against the fields where the rule is written: a key
 * that is neither a field nor an operator is a type error at the rule. The type parameters after
 * `I` and before `R` are what the rules and hooks return, inferred for that check; `R` keeps
 * `realtime` in the collection's type.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { collection, field } from "cimiento";
 *
 * export const posts = collection("posts", {
 *   fields: {
 *     title: field.text(z.string().min(1).max(200)),
 *     slug: field.text().unique(),
 *     published: field.boolean().default(false),
 *     author: field.belongsTo("users"),
 *   },
 *   indexes: [["published", "createdAt"]],
 * });
 * ```
 */
export function collection<
  const N extends string,
  const F extends Fields,
  const I extends boolean = false,
  L extends RuleReturn<F> = RuleReturn<F>,
  G extends RuleReturn<F> = RuleReturn<F>,
  C extends RuleReturn<F> = RuleReturn<F>,
  U extends RuleReturn<F> = RuleReturn<F>,
  D extends RuleReturn<F> = RuleReturn<F>,
  BC extends HookReturn<UpdateInputOf<F>> = HookReturn<UpdateInputOf<F>>,
  BU extends HookReturn<UpdateInputOf<F>> = HookReturn<UpdateInputOf<F>>,
  const R extends boolean = false,
>(
  name: N,
  definition: CollectionDefinition<F, I, CheckedAccess<F, L, G, C, U, D>, CheckedHooks<F, BC, BU>, R>,
): Collection<N, F, I, R> {
  if (!NAME.test(name) || name.startsWith("cimiento_") || RESERVED.has(name)) {
    throw new SchemaError(
      `Collection name "${name}" is not valid: use a letter, then letters, digits or "_", not the prefix "cimiento_" nor a reserved name (id, createdAt, updatedAt, a where operator, a property of every object such as constructor).`,
    );
  }
  return defineCollection(name, definition);
}

/**
 * @internal An index of one of cimiento's own tables that collections cannot declare: named,
 * partial (`where`, SQL over quoted column names) and with descending columns. The schema sync
 * creates it when missing and never drops it.
 */
export interface SystemIndex {
  readonly name: `cimiento_${string}`;
  readonly columns: readonly string[];
  readonly descending?: readonly string[];
  readonly where?: string;
  readonly unique: boolean;
}

const systemIndexes = new WeakMap<object, readonly SystemIndex[]>();

/** @internal The system indexes of a collection (none for a user's collection). */
export function systemIndexesOf(collection: object): readonly SystemIndex[] {
  return systemIndexes.get(collection) ?? [];
}

/**
 * @internal A table of cimiento's own (sessions, jobs, ...): declared like a collection so that
 * `migrate()` creates and extends it, but named with the reserved prefix `cimiento_` and never
 * part of the data API nor of the HTTP routes. Subsystems read and write it with Kysely.
 */
export function systemCollection<const N extends `cimiento_${string}`, const F extends Fields>(
  name: N,
  definition: CollectionDefinition<F> & { readonly systemIndexes?: readonly SystemIndex[] },
): Collection<N, F> {
  if (!NAME.test(name)) throw new SchemaError(`System table name "${name}" is not valid.`);
  const { systemIndexes: extra, ...rest } = definition;
  const collection = defineCollection(name, rest);
  if (extra !== undefined) systemIndexes.set(collection, extra);
  return collection;
}

function defineCollection<const N extends string, const F extends Fields, const I extends boolean, const R extends boolean>(
  name: N,
  definition: CollectionDefinition<F, I, object, object, R>,
): Collection<N, F, I, R> {
  const fields = definition.fields;
  for (const [fieldName, value] of Object.entries(fields)) {
    const where = `${name}.${fieldName}`;
    if (!NAME.test(fieldName)) {
      throw new SchemaError(`Field name "${where}" is not valid: use a letter, then letters, digits or "_".`);
    }
    if (RESERVED.has(fieldName)) {
      throw new SchemaError(
        `Field name "${where}" is reserved (${
          SYSTEM_FIELDS.includes(fieldName as never)
            ? "added automatically"
            : OBJECT_PROPERTY_NAMES.has(fieldName)
              ? "a property of every object"
              : "a where operator"
        }).`,
      );
    }
    if (!(value instanceof Field) && !(value instanceof HasMany) && !(value instanceof Computed)) {
      throw new SchemaError(`Field "${where}" is not a field: build it with field.text(), field.integer(), ...`);
    }
    if (value instanceof Field) {
      const config = value.config;
      if (config.default !== undefined && config.optional === false && config.default.value === null) {
        throw new SchemaError(`Field "${where}" has the default null but is not optional().`);
      }
      if (config.kind === "belongsTo" && config.onDelete === "setNull" && !config.optional) {
        throw new SchemaError(`Field "${where}" uses onDelete "setNull" but is not optional().`);
      }
      if (config.kind === "enum" && config.values !== undefined && config.values.length === 0) {
        throw new SchemaError(`Field "${where}" is an enum without values.`);
      }
      const generated = config.generated;
      if (generated !== undefined && (config.optional || config.default !== undefined)) {
        throw new SchemaError(
          `Field "${where}" is a generated ${generated.kind}: it is always filled at create, so it cannot be optional() nor have a default().`,
        );
      }
      if (generated?.kind === "slug") {
        const source = fields[generated.from];
        const sourceKind = source instanceof Field ? source.config.kind : undefined;
        if (
          !(source instanceof Field) ||
          (sourceKind !== "text" && sourceKind !== "enum") ||
          source.config.generated !== undefined
        ) {
          throw new SchemaError(
            `Field "${where}" is a slug of "${generated.from}", which must be a text or enum field of "${name}" (not a generated one).`,
          );
        }
      }
    }
  }
  const indexes = definition.indexes ?? [];
  for (const index of indexes) {
    const list = "fields" in index ? index.fields : index;
    if (list.length === 0) throw new SchemaError(`An index of "${name}" has no fields.`);
    for (const fieldName of list) {
      const known = SYSTEM_FIELDS.includes(fieldName as never) || fields[fieldName] instanceof Field;
      if (!known) {
        throw new SchemaError(`An index of "${name}" names "${fieldName}", which is not a field of it.`);
      }
    }
  }
  const clientIds = (definition.clientIds ?? false) as I;
  if (typeof clientIds !== "boolean") throw new SchemaError(`The clientIds option of "${name}" must be true or false.`);
  const realtime = (definition.realtime ?? false) as R;
  if (typeof realtime !== "boolean") throw new SchemaError(`The realtime option of "${name}" must be true or false.`);
  return Object.freeze({ name, fields, indexes, clientIds, realtime, access: definition.access ?? {}, hooks: definition.hooks ?? {} });
}
