/**
 * The types derived from collections: records, inputs, relations, filters and query options.
 * @module
 */
import type { ColumnType, Generated } from "kysely";
import type { AnyField, Computed, Field, FieldState, HasMany } from "./field.js";
import type { Register } from "./principal.js";

/** The fields of a collection, by name. */
export type Fields = Record<string, AnyField>;

/** An extra index: its fields in order, or an object that also says whether it is unique. */
export type IndexDefinition<Name extends string = string> =
  | readonly Name[]
  | { readonly fields: readonly Name[]; readonly unique?: boolean };

/**
 * A collection: a table, its validators and its types.
 *
 * @example
 * ```ts
 * const posts = collection("posts", { fields: { title: field.text() } });
 * type Post = Infer<typeof posts>;
 * ```
 */
export interface Collection<N extends string = string, F extends Fields = Fields, I extends boolean = boolean, R extends boolean = boolean> {
  readonly name: N;
  readonly fields: F;
  readonly indexes: readonly IndexDefinition[];
  /** Whether callers other than the system scope may choose the ids of new records. */
  readonly clientIds: I;
  /**
   * Whether callers may subscribe to its changes (see `collection()`'s `realtime`): `true` or
   * `false` in the type of a collection `collection()` declares, so that the typed client offers
   * `subscribe` on realtime collections only.
   */
  readonly realtime: R;
  /** @internal The rules, read by the backend (typed where they are written, in `collection()`). */
  readonly access: object;
  /** @internal The hooks, read by the backend. */
  readonly hooks: object;
}

/** Any collection. */
export type AnyCollection = Collection<string, Fields>;

/** The collections of a backend, by name. */
export type Schema = Record<string, AnyCollection>;

/** The collections declared in {@link Register}, or any collections. */
export type RegisteredSchema = Register extends { collections: infer S extends Schema } ? S : Schema;

/** @internal Flattens an intersection for readable hovers. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

type StateOf<F> = F extends Field<infer S> ? S : never;
type FieldsOf<C> = C extends Collection<string, infer F> ? F : never;

/** The names of a collection's stored fields (not its to-many relations). */
export type ColumnKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Field<FieldState> ? K : never;
}[keyof F] &
  string;

/** The names of a collection's computed fields (`field.count`, `field.exists`). */
export type ComputedKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Computed<"count" | "exists", string> ? K : never;
}[keyof F] &
  string;

/** The values of a collection's computed fields: a number for a count, a boolean for exists. */
type ComputedValues<F extends Fields> = {
  [K in ComputedKeys<F>]: F[K] extends Computed<"count", string> ? number : boolean;
};

type ValueOf<S extends FieldState> = S["optional"] extends true ? S["value"] | null : S["value"];
type InputValueOf<S extends FieldState> =
  | (S["kind"] extends "datetime" ? Date | string : S["value"])
  | (S["optional"] extends true ? null : never);

/**
 * Whether fields are unknown at the type level (a collection of the generic `Schema`, as in an
 * action without a `Register` declaration): records and inputs are then loosely typed.
 */
type Unknown<F extends Fields> = string extends keyof F ? true : false;

/** A record of a collection whose fields are not known at the type level. */
export interface LooseRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  [field: string]: unknown;
}

/** The record type of a collection's fields (see {@link Infer}). */
export type InferFields<F extends Fields> =
  Unknown<F> extends true
    ? LooseRecord
    : Simplify<
        { id: string } & { [K in ColumnKeys<F>]: ValueOf<StateOf<F[K]>> } & {
          createdAt: Date;
          updatedAt: Date;
        } & ComputedValues<F>
      >;

/**
 * The record type of a collection, as the system scope reads it.
 *
 * @example
 * ```ts
 * const posts = collection("posts", { fields: { title: field.text(), body: field.text().optional() } });
 * type Post = Infer<typeof posts>;
 * // { id: string; title: string; body: string | null; createdAt: Date; updatedAt: Date }
 * ```
 */
export type Infer<C extends AnyCollection> = InferFields<FieldsOf<C>>;

/** The fields a writer may set: all for the system scope; not `readOnly()` nor `hidden()` ones for callers. */
type WritableKeys<F extends Fields, V extends Privilege> = V extends "caller"
  ? {
      [K in ColumnKeys<F>]: StateOf<F[K]>["readOnly"] extends true
        ? never
        : StateOf<F[K]>["hidden"] extends true
          ? never
          : K;
    }[ColumnKeys<F>]
  : ColumnKeys<F>;

type RequiredInputKeys<F extends Fields, V extends Privilege> = {
  [K in WritableKeys<F, V>]: StateOf<F[K]>["optional"] extends true
    ? never
    : StateOf<F[K]>["hasDefault"] extends true
      ? never
      : K;
}[WritableKeys<F, V>];

/**
 * What `create` takes for a collection's fields (see {@link CreateInput}); `I` says whether
 * callers may choose ids (the collection's `clientIds`).
 */
export type CreateInputOf<F extends Fields, V extends Privilege = "system", I extends boolean = false> =
  Unknown<F> extends true
    ? { id?: string; [field: string]: unknown }
    : Simplify<
        { [K in RequiredInputKeys<F, V>]: InputValueOf<StateOf<F[K]>> } & {
          [K in Exclude<WritableKeys<F, V>, RequiredInputKeys<F, V>>]?: InputValueOf<StateOf<F[K]>>;
        } & (V extends "caller" ? (I extends true ? { id?: string } : {}) : { id?: string } & ImportedTimestamps)
      >;

/** The timestamps the system scope may give a record it creates (an import). */
type ImportedTimestamps = { createdAt?: Date | string; updatedAt?: Date | string };

/** Whether a collection lets callers choose ids: `true` only when it says `clientIds: true`. */
type ClientIdsOf<C> = C extends { readonly clientIds: true } ? true : false;

/**
 * What `create` takes: every field without a default and not optional is required. The system
 * scope may give `id` (a string; otherwise a UUIDv7 is generated), and `createdAt` and
 * `updatedAt` (a `Date` or an ISO 8601 date-time, to import records with their dates). For
 * callers other than the system scope (`V = "caller"`), `readOnly()` fields are left out (a hook
 * fills them), and so are the timestamps, and `id` unless the collection says `clientIds: true`.
 *
 * @example
 * ```ts
 * const input: CreateInput<typeof posts> = { title: "Hello" };
 * ```
 */
export type CreateInput<C extends AnyCollection, V extends Privilege = "system"> = CreateInputOf<FieldsOf<C>, V, ClientIdsOf<C>>;

/** What `update` takes for a collection's fields (see {@link UpdateInput}). */
export type UpdateInputOf<F extends Fields, V extends Privilege = "system"> =
  Unknown<F> extends true
    ? { [field: string]: unknown }
    : Simplify<{
        [K in WritableKeys<F, V>]?: InputValueOf<StateOf<F[K]>>;
      }>;

/**
 * What `update` takes: any subset of the fields (for callers, of the fields not `readOnly()`).
 *
 * @example
 * ```ts
 * const patch: UpdateInput<typeof posts> = { published: true };
 * ```
 */
export type UpdateInput<C extends AnyCollection, V extends Privilege = "system"> = UpdateInputOf<FieldsOf<C>, V>;

// ---------------------------------------------------------------------------------------------
// Relations

type BelongsToKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends Field<infer S> ? (S["kind"] extends "belongsTo" ? K : never) : never;
}[keyof F] &
  string;

type HasManyKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends HasMany<string, string> ? K : never;
}[keyof F] &
  string;

type BelongsToKeysTo<F extends Fields, N> = {
  [K in keyof F]: F[K] extends Field<infer S>
    ? S["kind"] extends "belongsTo"
      ? S["target"] extends N
        ? K
        : never
      : never
    : never;
}[keyof F];

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;
type Single<T> = [T] extends [never] ? never : true extends IsUnion<T> ? never : T;

/** A to-one relation of a collection: a `belongsTo` field. */
export interface ToOne<Target extends string, Nullable extends boolean> {
  kind: "one";
  target: Target;
  nullable: Nullable;
}

/** A to-many relation of a collection: a `hasMany` field or one derived from a `belongsTo`. */
export interface ToMany<Target extends string> {
  kind: "many";
  target: Target;
}

type Derived<S extends Schema, N extends string> = {
  [K in keyof S as K extends keyof FieldsOf<S[N]>
    ? never
    : Single<BelongsToKeysTo<FieldsOf<S[K]>, N>> extends never
      ? never
      : K]: ToMany<K & string>;
};

/**
 * The relations of collection `N`: its `belongsTo` fields (to-one), its `hasMany` fields, and a
 * to-many relation named after every other collection that has exactly one `belongsTo` to `N`
 * (unless `N` has a field of that name).
 */
export type Relations<S extends Schema, N extends keyof S & string> = {
  [K in BelongsToKeys<FieldsOf<S[N]>>]: ToOne<
    StateOf<FieldsOf<S[N]>[K]>["target"],
    StateOf<FieldsOf<S[N]>[K]>["optional"]
  >;
} & {
  [K in HasManyKeys<FieldsOf<S[N]>>]: FieldsOf<S[N]>[K] extends HasMany<infer T, string> ? ToMany<T> : never;
} & Derived<S, N>;

type TargetOf<R> = R extends { target: infer T extends string } ? T : never;

// ---------------------------------------------------------------------------------------------
// Filters

/** Operators on text (and ids, enums, and `belongsTo` ids). Comparisons are case-sensitive. */
export interface TextFilter<V extends string = string> {
  eq?: V | null;
  ne?: V | null;
  in?: readonly V[];
  notIn?: readonly V[];
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  isNull?: boolean;
}

/** Operators on numbers and points in time. */
export interface OrderedFilter<V> {
  eq?: V | null;
  ne?: V | null;
  in?: readonly V[];
  notIn?: readonly V[];
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  isNull?: boolean;
}

/** Operators on booleans. */
export interface BooleanFilter {
  eq?: boolean | null;
  ne?: boolean | null;
  isNull?: boolean;
}

/** Operators on JSON fields. */
export interface JsonFilter {
  isNull?: boolean;
}

type FilterOf<S extends FieldState> = S["kind"] extends "json"
  ? JsonFilter | null
  : S["kind"] extends "boolean"
    ? boolean | null | BooleanFilter
    : S["kind"] extends "datetime"
      ? Date | string | null | OrderedFilter<Date | string>
      : S["kind"] extends "integer" | "number"
        ? number | null | OrderedFilter<number>
        : S["value"] extends string
          ? S["value"] | null | TextFilter<S["value"]>
          : never;

type ScalarKeys<F extends Fields> = Exclude<ColumnKeys<F>, BelongsToKeys<F>>;

/** Quantified filters on a to-many relation. */
export interface RelationFilter<W> {
  /** At least one related record matches. */
  some?: W;
  /** No related record matches. */
  none?: W;
  /** Every related record matches (true when there are none). */
  every?: W;
}

/**
 * A filter on collection `N`. A field maps to a value (equality), `null` (is null) or an object
 * of operators; `and`, `or` and `not` combine filters; a `belongsTo` field also takes a filter
 * on the record it points to; a to-many relation takes `some`, `none` or `every`.
 *
 * @example
 * ```ts
 * const where: Where<typeof schema, "posts"> = {
 *   published: true,
 *   title: { contains: "sqlite" },
 *   author: { name: { startsWith: "A" } },
 *   comments: { some: { approved: true } },
 *   or: [{ views: { gte: 100 } }, { featured: true }],
 * };
 * ```
 */
export type Where<S extends Schema, N extends keyof S & string> = {
  id?: string | TextFilter;
  createdAt?: Date | string | OrderedFilter<Date | string>;
  updatedAt?: Date | string | OrderedFilter<Date | string>;
  and?: readonly Where<S, N>[];
  or?: readonly Where<S, N>[];
  not?: Where<S, N>;
} & { [K in ScalarKeys<FieldsOf<S[N]>>]?: FilterOf<StateOf<FieldsOf<S[N]>[K]>> } & {
  [K in keyof Relations<S, N>]?: Relations<S, N>[K] extends ToOne<infer T, boolean>
    ? string | null | TextFilter | Where<S, T>
    : RelationFilter<Where<S, TargetOf<Relations<S, N>[K]>>>;
};

/**
 * A filter on one collection's own fields, as access rules return it. A collection is defined
 * before the others, so the inside of a relation filter in a rule is not checked by type; it is
 * checked when the rule is used, and a bad one is a server error.
 *
 * @example
 * ```ts
 * const rule = ({ user }) => ({ or: [{ published: true }, { author: user.id }] });
 * ```
 */
export type CollectionWhere<F extends Fields> = {
  id?: string | TextFilter;
  createdAt?: Date | string | OrderedFilter<Date | string>;
  updatedAt?: Date | string | OrderedFilter<Date | string>;
  and?: readonly CollectionWhere<F>[];
  or?: readonly CollectionWhere<F>[];
  not?: CollectionWhere<F>;
} & { [K in ScalarKeys<F>]?: FilterOf<StateOf<F[K]>> } & {
  [K in BelongsToKeys<F>]?: string | null | TextFilter | Record<string, unknown>;
} & { [K in HasManyKeys<F>]?: RelationFilter<Record<string, unknown>> };

// ---------------------------------------------------------------------------------------------
// Query options

/** A direction of sort. `null`s sort first in `"asc"` and last in `"desc"`, on every database. */
export type SortDirection = "asc" | "desc";

type SortableKeys<F extends Fields> =
  | "id"
  | "createdAt"
  | "updatedAt"
  | { [K in ColumnKeys<F>]: StateOf<F[K]>["kind"] extends "json" ? never : K }[ColumnKeys<F>];

/**
 * A sort: one field, or several in order of precedence. Each object names one field. The id is
 * always added last, so the order is total and cursors are stable.
 *
 * @example
 * ```ts
 * orderBy: [{ published: "desc" }, { createdAt: "desc" }]
 * ```
 */
export type OrderBy<S extends Schema, N extends keyof S & string> =
  | { [K in SortableKeys<FieldsOf<S[N]>>]?: SortDirection }
  | readonly { [K in SortableKeys<FieldsOf<S[N]>>]?: SortDirection }[];

/** The fields that `select` may name. */
export type SelectableKeys<S extends Schema, N extends keyof S & string> = keyof Infer<S[N]> & string;

/** Options of an included to-one relation: the same as a read's, `select` and `include`. */
export type IncludeOne<S extends Schema, N extends keyof S & string> = ReadOptions<S, N>;

/** Options of an included to-many relation. */
export interface IncludeMany<S extends Schema, N extends keyof S & string> extends ReadOptions<S, N> {
  where?: Where<S, N>;
  orderBy?: OrderBy<S, N>;
  /** At most this many related records per parent. */
  limit?: number;
}

/**
 * The relations to load with each record: `true`, or options for the related records.
 *
 * @example
 * ```ts
 * include: { author: true, comments: { orderBy: { createdAt: "desc" }, limit: 3, include: { author: true } } }
 * ```
 */
export type Include<S extends Schema, N extends keyof S & string> = {
  [K in keyof Relations<S, N>]?:
    | true
    | (Relations<S, N>[K] extends ToOne<infer T, boolean>
        ? IncludeOne<S, T>
        : IncludeMany<S, TargetOf<Relations<S, N>[K]>>);
};

/** Options that shape the records a read returns. */
export interface ReadOptions<S extends Schema, N extends keyof S & string> {
  /** Only these fields (the id is always returned). */
  select?: readonly SelectableKeys<S, N>[];
  /** Relations to load. */
  include?: Include<S, N>;
}

/**
 * Options of `subscribe`: which records (`where`, AND-ed with the caller's `list` rule, as in
 * `list`), in what shape (`select`, `include`), and where to resume.
 */
export interface SubscribeOptions<S extends Schema, N extends keyof S & string> extends ReadOptions<S, N> {
  where?: Where<S, N>;
  /**
   * Resume after this event (the `sequence` of the last one heard): the events since are replayed
   * from the event log, or a `gap` event says they are no longer there.
   */
  after?: string;
}

/** Why a subscription ended. */
export type SubscriptionEndReason =
  /** The backend is closing. */
  | "closing"
  /** The subscriber fell too far behind (more events waited than the backend keeps for it). */
  | "slow"
  /** Its session or API key was revoked or expired, or its caller changed. */
  | "revoked"
  /** Its events could not be read for it (its rule failed); the backend's logger says why. */
  | "error";

/**
 * What a subscription hears, in order: `ready` once, when the events that follow are those after
 * its `sequence`; then a change of a record as the subscriber may read it: `created`, `updated`
 * and `deleted`, and `entered`/`left` when an update makes a record start or stop matching the
 * subscriber's rule or `where`. `gap` (after `ready`, when resuming) says that events were
 * missed: read again what is needed. `end` comes last, when the backend ends the subscription.
 * Events of changes carry the `sequence` to resume after.
 */
export type SubscriptionEvent<T> =
  | { readonly type: "created" | "updated" | "entered" | "deleted" | "left"; readonly sequence: string; readonly record: T }
  | { readonly type: "ready"; readonly sequence: string }
  | { readonly type: "gap"; readonly sequence: string }
  | { readonly type: "end"; readonly reason: SubscriptionEndReason };

/** Options of `list`. */
export interface ListOptions<S extends Schema, N extends keyof S & string> extends ReadOptions<S, N> {
  where?: Where<S, N>;
  orderBy?: OrderBy<S, N>;
  /**
   * At most this many records.
   * @default 100
   */
  limit?: number;
  /** Skip this many records (not with `cursor`). */
  offset?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | null;
  /**
   * Also count every record that matches `where` (one more query).
   * @default false
   */
  count?: boolean;
}

/**
 * Who reads or writes, by privilege: the system scope sees every field and every related
 * record, and may write read-only and automatic fields; other callers do not get hidden fields,
 * may not get fields with a read rule, may find a related record null, and write only writable
 * fields.
 */
export type Privilege = "system" | "caller";

type Hidden<F extends Fields, K extends keyof F> = StateOf<F[K]>["hidden"] extends true ? true : false;
type Masked<F extends Fields, K extends keyof F> = StateOf<F[K]>["masked"] extends true ? true : false;

/** The record type of a collection's fields as a non-system caller reads it (see {@link Readable}). */
export type ReadableFields<F extends Fields> = Unknown<F> extends true ? LooseRecord : Simplify<
  { id: string; createdAt: Date; updatedAt: Date } & {
    [K in ColumnKeys<F> as Hidden<F, K> extends true ? never : Masked<F, K> extends true ? never : K]: ValueOf<
      StateOf<F[K]>
    >;
  } & {
    [K in ColumnKeys<F> as Hidden<F, K> extends true ? never : Masked<F, K> extends true ? K : never]?: ValueOf<
      StateOf<F[K]>
    >;
  } & ComputedValues<F>
>;

/**
 * The record type of a collection as non-system callers read it: without `hidden()` fields, and
 * with fields that have a read rule optional (they are left out for callers it denies).
 *
 * @example
 * ```ts
 * type PublicUser = Readable<typeof users>;
 * ```
 */
export type Readable<C extends AnyCollection> = ReadableFields<FieldsOf<C>>;

type VisibleRecord<S extends Schema, N extends keyof S & string, V extends Privilege> = V extends "caller"
  ? Readable<S[N]>
  : Infer<S[N]>;

type IncludeValue<S extends Schema, R, O, V extends Privilege> =
  R extends ToOne<infer T, infer Nullable>
    ?
        | RecordOf<S, T, O extends true ? {} : O, V>
        | (Nullable extends true ? null : V extends "caller" ? null : never)
    : RecordOf<S, TargetOf<R>, O extends true ? {} : O, V>[];

type Selected<S extends Schema, N extends keyof S & string, O, V extends Privilege> = O extends {
  select: readonly (infer K)[];
}
  ? Pick<VisibleRecord<S, N, V>, (K & keyof VisibleRecord<S, N, V>) | "id">
  : VisibleRecord<S, N, V>;

type IncludeOf<O> = O extends { include: infer I } ? I : {};

/**
 * The record a read returns for options `O`: all fields or the `select`ed ones, with each
 * included relation in place (a `belongsTo` field then holds the related record, not its id).
 * `V` says who reads (see {@link Privilege}).
 */
export type RecordOf<S extends Schema, N extends keyof S & string, O, V extends Privilege = "system"> = Simplify<
  ([keyof IncludeOf<O>] extends [never] ? Selected<S, N, O, V> : Omit<Selected<S, N, O, V>, keyof IncludeOf<O>>) & {
    [K in keyof IncludeOf<O> & keyof Relations<S, N>]: IncludeValue<S, Relations<S, N>[K], IncludeOf<O>[K], V>;
  }
>;

/**
 * A page of `list`: the records, the cursor of the next page (`null` on the last), and the
 * total when `count: true` was asked.
 */
export type Page<T, Counted extends boolean = false> = {
  items: T[];
  nextCursor: string | null;
} & (Counted extends true ? { total: number } : {});

// ---------------------------------------------------------------------------------------------
// The Kysely DB type of backend.db

/** The SQL dialects cimiento runs on. */
export type DialectName = "sqlite" | "postgres";

type StoredValue<D extends DialectName, S extends FieldState> = D extends "sqlite"
  ? S["kind"] extends "boolean"
    ? number
    : S["kind"] extends "datetime" | "json"
      ? string
      : S["value"]
  : S["kind"] extends "datetime"
    ? ColumnType<Date, Date | string, Date | string>
    : S["kind"] extends "json"
      ? ColumnType<S["value"], string, string>
      : S["value"];

type Column<D extends DialectName, S extends FieldState> = S["optional"] extends true
  ? StoredValue<D, S> | null
  : S["hasDefault"] extends true
    ? Generated<StoredValue<D, S>>
    : StoredValue<D, S>;

type Timestamp<D extends DialectName> = D extends "sqlite" ? Generated<string> : ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * The Kysely database type of `backend.db`: one table per collection, with the column types
 * the driver returns (on SQLite, booleans are `0`/`1`, datetimes ISO strings and JSON text).
 */
export type DB<S extends Schema, D extends DialectName> = {
  [N in keyof S]: Unknown<FieldsOf<S[N]>> extends true ? { [column: string]: unknown } : Simplify<
    { id: string; createdAt: Timestamp<D>; updatedAt: Timestamp<D> } & {
      [K in ColumnKeys<FieldsOf<S[N]>>]: Column<D, StateOf<FieldsOf<S[N]>[K]>>;
    }
  >;
};
