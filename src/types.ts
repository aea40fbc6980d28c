/**
 * `cimiento/types`: the type machinery the public types are built from. Applications seldom write
 * these names, but they appear in inferred types (a field's state, a record's keys, the relations
 * of a schema): a declaration file, a generic helper or a typed client names them from here, and
 * `cimiento` itself stays the list of what applications write.
 *
 * @example
 * ```ts
 * import { Field } from "cimiento";
 * import type { AnyCollection, ColumnKeys } from "cimiento/types";
 *
 * // A helper over any collection: the names of its stored fields (not its relations).
 * function columnNames<C extends AnyCollection>(collection: C): ColumnKeys<C["fields"]>[] {
 *   const names = Object.keys(collection.fields).filter((name) => collection.fields[name] instanceof Field);
 *   return names as ColumnKeys<C["fields"]>[];
 * }
 * ```
 * @module
 */
export type { UsersOf, WithAuthUsers } from "./backend/create-backend.js";
export type { HttpMethod, RegisteredUsers } from "./define/action.js";
export type { ActionsApi, AnyAction } from "./define/handles.js";
export type { BasePrincipal } from "./define/principal.js";
export type { RegisteredSchema } from "./define/types.js";
export type { BaseUserFields, DefaultUsers, UserFields } from "./define/users.js";
export type { AnyJob, RegisteredJobs } from "./define/handles.js";
export type { ErrorFactories } from "./errors/define-errors.js";
export type { AnyCollection, Fields } from "./define/types.js";
export type {
  AnyField,
  BaseFieldState,
  ComputedWhere,
  FieldKind,
  FieldState,
  GeneratedFieldState,
  WithFieldState,
} from "./define/field.js";
export type {
  BooleanFilter,
  CollectionWhere,
  ColumnKeys,
  ComputedKeys,
  CreateInputOf,
  DialectName,
  IncludeMany,
  IncludeOne,
  InferFields,
  JsonFilter,
  LooseRecord,
  OrderedFilter,
  ReadableFields,
  RecordOf,
  RelationFilter,
  Relations,
  Schema,
  SelectableKeys,
  TextFilter,
  ToMany,
  ToOne,
  UpdateInputOf,
  Privilege,
} from "./define/types.js";
export type { CheckedAccess, CheckedRuleResult, KnownFilterKeys, UnknownFilterKey } from "./define/checked-rules.js";
export type { RuleReturn } from "./define/rules.js";
export type { CheckedHookResult, CheckedHooks, HookReturn, UnknownField } from "./define/checked-hooks.js";
