/**
 * Field builders: the columns and relations a collection is made of.
 * @module
 */
import type { z } from "zod";
import type { RuleContext } from "./principal.js";

/**
 * Per-field rules, decided per caller. A field the caller may not read is left out of what it
 * reads and cannot be filtered, sorted or selected on by it; a field it may not write is refused
 * when it writes it.
 *
 * @example
 * ```ts
 * email: field.text().access({ read: ({ user }) => user?.role === "admin" })
 * ```
 */
export interface FieldAccess {
  read?: (context: RuleContext) => boolean;
  write?: (context: RuleContext) => boolean;
}

/** The storage kinds a field can have. */
export type FieldKind =
  | "text"
  | "integer"
  | "number"
  | "boolean"
  | "datetime"
  | "json"
  | "enum"
  | "belongsTo";

/** What to do with rows that point to a deleted row through a `belongsTo` field. */
export type OnDelete = "restrict" | "cascade" | "setNull";

/**
 * The type-level state of a field: its value type and the modifiers applied to it.
 * Read by {@link index!Infer | Infer} and the input types; not something users write by hand.
 */
export interface FieldState {
  kind: FieldKind;
  value: unknown;
  optional: boolean;
  hasDefault: boolean;
  readOnly: boolean;
  hidden: boolean;
  /** Whether a read rule may mask the field for some callers. */
  masked: boolean;
  target: string;
}

/** @internal The runtime description of a field, shared by every copy a builder makes. */
export interface FieldConfig {
  readonly kind: FieldKind;
  readonly schema: z.ZodType | undefined;
  readonly values: readonly string[] | undefined;
  readonly target: string | undefined;
  readonly onDelete: OnDelete;
  readonly optional: boolean;
  readonly default: { readonly value: unknown } | undefined;
  readonly unique: boolean;
  readonly index: boolean;
  readonly readOnly: boolean;
  readonly hidden: boolean;
  readonly access: FieldAccess | undefined;
  /** How cimiento fills the field at create (`field.slug`, `field.sequence`); `undefined` for other fields. */
  readonly generated: GeneratedConfig | undefined;
}

/** @internal How a generated field gets its value. */
export type GeneratedConfig =
  | { readonly kind: "slug"; readonly from: string; readonly update: boolean }
  | { readonly kind: "sequence" };

/** A field state with one modifier changed (what `optional()`, `default()`, ... return). */
export type WithFieldState<S extends FieldState, K extends keyof FieldState, V> = Omit<S, K> & { [P in K]: V };

/**
 * A column of a collection. Builders are immutable: every modifier returns a new field, so a
 * base field can be shared.
 *
 * @example
 * ```ts
 * const title = field.text(z.string().min(1).max(200));
 * const slug = field.text().unique();
 * const views = field.integer().default(0).readOnly();
 * ```
 */
export class Field<S extends FieldState> {
  /** @internal */
  readonly config: FieldConfig;
  /** @internal Type-level state; never set at runtime. */
  declare readonly "~state": S;

  /** @internal */
  constructor(config: FieldConfig) {
    this.config = config;
  }

  #with(change: Partial<FieldConfig>): never {
    return new Field({ ...this.config, ...change }) as never;
  }

  /**
   * The field may be absent: it is stored as `NULL` and read as `null`.
   * @example
   * ```ts
   * body: field.text().optional()   // string | null
   * ```
   */
  optional(): Field<WithFieldState<S, "optional", true>> {
    return this.#with({ optional: true });
  }

  /**
   * The value used when a create does not give one. A function is called for each record;
   * a plain value is also written as the column's SQL default, so adding the field to a table
   * that already holds rows fills them with it.
   * @example
   * ```ts
   * published: field.boolean().default(false)
   * tags: field.json(z.array(z.string())).default([])
   * ```
   */
  default(value: S["value"] | (() => S["value"])): Field<WithFieldState<S, "hasDefault", true>> {
    return this.#with({ default: { value } });
  }

  /**
   * Adds a unique index: two records cannot hold the same value (`NULL`s excepted).
   * @example
   * ```ts
   * slug: field.text().unique()
   * ```
   */
  unique(): Field<S> {
    return this.#with({ unique: true });
  }

  /**
   * Adds a (non-unique) index on this field alone.
   * @example
   * ```ts
   * status: field.enum(["draft", "published"]).index()
   * ```
   */
  index(): Field<S> {
    return this.#with({ index: true });
  }

  /**
   * Only the system scope writes this field; other callers that try are refused.
   * @example
   * ```ts
   * views: field.integer().default(0).readOnly()
   * ```
   */
  readOnly(): Field<WithFieldState<S, "readOnly", true>> {
    return this.#with({ readOnly: true });
  }

  /**
   * The field never leaves the backend for non-system callers, who also cannot filter or sort
   * on it.
   * @example
   * ```ts
   * internalNotes: field.text().optional().hidden()
   * ```
   */
  hidden(): Field<WithFieldState<S, "hidden", true>> {
    return this.#with({ hidden: true });
  }

  /**
   * Per-caller rules: a caller that may not `read` the field does not get it (nor filter, sort
   * or select on it); one that may not `write` it is refused when it sends it.
   * @example
   * ```ts
   * email: field.text().access({ read: ({ user }) => user !== null })
   * salary: field.number().access({ read: ({ user }) => user?.role === "hr", write: ({ user }) => user?.role === "hr" })
   * ```
   */
  access<A extends FieldAccess>(
    rules: A,
  ): Field<WithFieldState<S, "masked", A extends { read: unknown } ? true : S["masked"]>> {
    return this.#with({ access: rules });
  }
}

/**
 * A to-many relation: the records of `target` whose `on` field (a `belongsTo`) points to this
 * record. It has no column of its own; it can be included and filtered on with `some`, `none`
 * and `every`.
 *
 * @example
 * ```ts
 * const posts = collection("posts", {
 *   fields: { comments: field.hasMany("comments", { on: "post" }) },
 * });
 * ```
 */
export class HasMany<Target extends string, On extends string> {
  /** @internal */
  readonly target: Target;
  /** @internal */
  readonly on: On;

  /** @internal */
  constructor(target: Target, on: On) {
    this.target = target;
    this.on = on;
  }
}

/**
 * Which related records a computed field counts: a filter on the related collection, `true`
 * (all), `false` (none), or a function of the caller that returns one of those.
 */
export type ComputedWhere =
  | boolean
  | Record<string, unknown>
  | ((context: RuleContext) => boolean | Record<string, unknown>);

/**
 * A value computed in SQL from a to-many relation whenever a record is read: how many related
 * records there are (`field.count`) or whether there is one (`field.exists`), among those a
 * `where` picks, which may depend on the caller. It has no column: it cannot be written,
 * filtered or sorted on, and it can be selected. Related records the caller may not list do
 * not count.
 *
 * @example
 * ```ts
 * const articles = collection("articles", {
 *   fields: {
 *     title: field.text(),
 *     favorites: field.hasMany("favorites", { on: "article" }),
 *     favoritesCount: field.count("favorites"),
 *     favorited: field.exists("favorites", { where: ({ user }) => (user ? { user: user.id } : false) }),
 *   },
 * });
 * ```
 */
export class Computed<Kind extends "count" | "exists", Relation extends string> {
  /** @internal */
  readonly kind: Kind;
  /** @internal The to-many relation of the same collection it is computed from. */
  readonly relation: Relation;
  /** @internal */
  readonly where: ComputedWhere;

  /** @internal */
  constructor(kind: Kind, relation: Relation, where: ComputedWhere) {
    this.kind = kind;
    this.relation = relation;
    this.where = where;
  }
}

/** Options of `field.slug(from, options)`. */
export interface SlugOptions {
  /**
   * Make the slug again when an update changes the source field. Off by default, so that a
   * record's links stay the same when its title is edited.
   * @default false
   */
  update?: boolean;
}

/**
 * The state of a generated field (`field.slug`, `field.sequence`): always present in records,
 * filled by cimiento at create, read-only for callers (so not part of their inputs), and
 * optional in the system scope's create input (which may set it).
 */
export interface GeneratedFieldState<K extends FieldKind, V> {
  kind: K;
  value: V;
  optional: false;
  hasDefault: true;
  readOnly: true;
  hidden: false;
  masked: false;
  target: never;
}

/** Anything that can appear in a collection's `fields`. */
export type AnyField = Field<FieldState> | HasMany<string, string> | Computed<"count" | "exists", string>;

/** The state of a field fresh from its builder: required, no default, readable and writable. */
export interface BaseFieldState<K extends FieldKind, V> {
  kind: K;
  value: V;
  optional: false;
  hasDefault: false;
  readOnly: false;
  hidden: false;
  masked: false;
  target: never;
}

function make<S extends FieldState>(
  kind: FieldKind,
  schema: z.ZodType | undefined,
  extra: Partial<FieldConfig> = {},
): Field<S> {
  return new Field<S>({
    kind,
    schema,
    values: undefined,
    target: undefined,
    onDelete: "restrict",
    optional: false,
    default: undefined,
    unique: false,
    index: false,
    readOnly: false,
    hidden: false,
    access: undefined,
    generated: undefined,
    ...extra,
  });
}

/**
 * The field builders. Each scalar builder takes an optional zod schema that refines the
 * values it accepts (its output must be of the field's type).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { collection, field } from "cimiento";
 *
 * const posts = collection("posts", {
 *   fields: {
 *     title: field.text(z.string().min(1).max(200)),
 *     status: field.enum(["draft", "published"]).default("draft"),
 *     author: field.belongsTo("users", { onDelete: "cascade" }),
 *   },
 * });
 * ```
 */
export const field = {
  /** A string, stored as `TEXT`. */
  text<T extends string = string>(schema?: z.ZodType<T>): Field<BaseFieldState<"text", T>> {
    return make("text", schema);
  },
  /** A safe integer, stored as `INTEGER` (SQLite) or `bigint` (PostgreSQL). */
  integer<T extends number = number>(schema?: z.ZodType<T>): Field<BaseFieldState<"integer", T>> {
    return make("integer", schema);
  },
  /** A finite floating-point number, stored as `REAL` / `double precision`. */
  number<T extends number = number>(schema?: z.ZodType<T>): Field<BaseFieldState<"number", T>> {
    return make("number", schema);
  },
  /** A boolean, stored as `0`/`1` (SQLite) or `boolean` (PostgreSQL). */
  boolean(schema?: z.ZodType<boolean>): Field<BaseFieldState<"boolean", boolean>> {
    return make("boolean", schema);
  },
  /**
   * A point in time, read as a `Date`. Writes accept a `Date` or an ISO 8601 string with a
   * time zone. Stored as ISO 8601 text (SQLite) or `timestamptz` (PostgreSQL).
   */
  datetime(schema?: z.ZodType<Date>): Field<BaseFieldState<"datetime", Date>> {
    return make("datetime", schema);
  },
  /** A JSON value validated by `schema`, stored as `TEXT` (SQLite) or `jsonb` (PostgreSQL). */
  json<T extends z.ZodType>(schema: T): Field<BaseFieldState<"json", z.output<T>>> {
    return make("json", schema);
  },
  /** One of a fixed list of strings, stored as `TEXT`. */
  enum<const V extends readonly [string, ...string[]]>(values: V): Field<BaseFieldState<"enum", V[number]>> {
    return make("enum", undefined, { values });
  },
  /**
   * A to-one relation: stores the id of a record of `target`. `onDelete` says what happens to
   * this record when that one is deleted (`"restrict"` by default: the delete is refused).
   */
  belongsTo<const T extends string>(
    target: T,
    options: { onDelete?: OnDelete } = {},
  ): Field<Omit<BaseFieldState<"belongsTo", string>, "target"> & { target: T }> {
    return make("belongsTo", undefined, { target, onDelete: options.onDelete ?? "restrict" });
  },
  /**
   * A URL slug made from the text field `from` of the same collection: lower-case ASCII words
   * joined by `-` (`"Déjà vu, again!"` becomes `"deja-vu-again"`), at most 100 characters. It is
   * unique: when the slug is taken, the smallest free suffix `-2`, `-3`, ... is added. A source
   * that gives no letters or digits (only punctuation, or a script without a transliteration)
   * gets a short random slug instead.
   *
   * It is filled at create when the record has none, after `beforeCreate`, validation and
   * defaults, so `afterCreate` and `afterCommit` see it and `beforeCreate` may set it. Callers
   * may not send it (it is `readOnly()`); the system scope may, and a given slug is kept as is
   * (a taken one is a `UNIQUE_VIOLATION`). An update that changes `from` keeps the slug, so links
   * stay valid, unless `{ update: true }`. Filter, sort and select it as a text field.
   *
   * @example
   * ```ts
   * const articles = collection("articles", {
   *   fields: {
   *     title: field.text(z.string().min(1)),
   *     slug: field.slug("title"),                        // "how-to-train-your-dragon", "...-2"
   *     // or: field.slug("title", { update: true })      // follows the title on updates
   *   },
   * });
   * const article = await backend.system.data.articles.create({ title: "How to train your dragon" });
   * await backend.system.data.articles.list({ where: { slug: "how-to-train-your-dragon" } });
   * ```
   */
  slug(from: string, options: SlugOptions = {}): Field<GeneratedFieldState<"text", string>> {
    return make("text", undefined, {
      unique: true,
      readOnly: true,
      generated: { kind: "slug", from, update: options.update ?? false },
    });
  },
  /**
   * An integer numbering the records of the collection in creation order: 1, 2, 3, ... A value
   * is never given twice, also after deletes (a rolled-back create may leave a gap). The counter
   * is kept per field in cimiento's table `cimiento_sequences` (created by `migrate()`) and taken
   * with one statement in the create's transaction; `createMany` takes all its values at once.
   *
   * It is filled at create after `beforeCreate`, validation and defaults, so `afterCreate` and
   * `afterCommit` see it. Callers may not send it (it is `readOnly()`); the system scope may (an
   * import, say): the given value is kept, and the next generated one is above it. It is unique
   * and can be filtered, sorted and selected as an integer field.
   *
   * @example
   * ```ts
   * const comments = collection("comments", {
   *   fields: {
   *     number: field.sequence(),                         // 1, 2, 3, ...
   *     body: field.text(),
   *   },
   * });
   * const first = await backend.system.data.comments.create({ body: "First!" }); // first.number === 1
   * ```
   */
  sequence(): Field<GeneratedFieldState<"integer", number>> {
    return make("integer", undefined, { unique: true, readOnly: true, generated: { kind: "sequence" } });
  },
  /** A to-many relation through the `on` field of `target`; see {@link HasMany}. */
  hasMany<const T extends string, const On extends string>(target: T, options: { on: On }): HasMany<T, On> {
    return new HasMany(target, options.on);
  },
  /**
   * The number of records of the to-many relation `relation` (a `hasMany` field of the same
   * collection, or a derived relation), among those `where` picks; see {@link Computed}.
   */
  count<const R extends string>(relation: R, options: { where?: ComputedWhere } = {}): Computed<"count", R> {
    return new Computed("count", relation, options.where ?? true);
  },
  /**
   * Whether the to-many relation `relation` holds a record that `where` picks; see
   * {@link Computed}.
   */
  exists<const R extends string>(relation: R, options: { where?: ComputedWhere } = {}): Computed<"exists", R> {
    return new Computed("exists", relation, options.where ?? true);
  },
};
