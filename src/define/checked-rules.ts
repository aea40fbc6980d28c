/**
 * The check of a rule's filter against its collection's fields, where the rule is written: the
 * types `collection()` takes its rules with.
 * @module
 */
import type { Fields } from "./types.js";
import type { CollectionWhere, RelationFilter } from "./types.js";
import type { RuleReturn } from "./rules.js";
import type { RuleContext } from "./principal.js";

/**
 * The rules of a collection as `collection()` takes them, each rule's result checked (see
 * `CheckedRuleResult`); `L`, `G`, `C`, `U` and `D` are what the rules return.
 */
export interface CheckedAccess<F extends Fields, L, G, C, U, D> {
  list?: (context: RuleContext) => CheckedRuleResult<L, F>;
  get?: (context: RuleContext) => CheckedRuleResult<G, F>;
  create?: (context: RuleContext) => CheckedRuleResult<C, F>;
  update?: (context: RuleContext) => CheckedRuleResult<U, F>;
  delete?: (context: RuleContext) => CheckedRuleResult<D, F>;
}

/**
 * What a rule returning `R` must return, as `collection()` checks it: a filter may name only the
 * collection's fields (and `id`, `createdAt`, `updatedAt`, `and`, `or`, `not`), and a field's
 * operators only those of its kind, so that a misspelt key fails at compile time, at the rule,
 * instead of at the first request. TypeScript does not check excess properties of what a
 * function returns, so the result's type `R` is inferred: this is `R` itself when it has no
 * other key, else `KnownFilterKeys<R, F>`, which it does not match. Fields the type does not
 * know (the generic `Fields`) are not checked, nor is the inside of a relation filter (the
 * related collection is defined apart).
 */
export type CheckedRuleResult<R, F extends Fields> = string extends keyof F
  ? R
  : // A rule typed `Rule<F>`, or one whose values are wrong: those are reported against `RuleResult<F>`.
    [RuleReturn<F>] extends [R]
    ? R
    : [R] extends [KnownFilterKeys<R, F>]
      ? R
      : NoInfer<KnownFilterKeys<R, F>>;

/**
 * What a rule returning `R` may return on a collection with fields `F`: `R`'s filters with every
 * key that is neither a field nor an operator made an `UnknownFilterKey`.
 */
export type KnownFilterKeys<R, F extends Fields> = [R] extends [Promise<infer X>]
  ? Promise<boolean | WhereKeysOf<Filters<X>, F>>
  : boolean | WhereKeysOf<Filters<R>, F>;

/**
 * What a key of a rule's filter that is neither a field of the collection nor an operator must
 * be: nothing is, so the key fails at the rule. (A key may also name a to-many relation derived
 * from another collection's `belongsTo`, which is not known where the rule is written: its value
 * is then a relation filter, `some`, `none` or `every`.)
 */
export interface UnknownFilterKey {
  readonly "is not a field of this collection nor an operator": never;
}

/** The keys of each member of a union. */
type KeysOf<T> = T extends unknown ? keyof T : never;
/** `T[K]` for the members of a union `T` that have `K`. */
type ValueAt<T, K> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;
/** The objects among a union of filter values (not dates nor lists, which are values). */
type Filters<T> = Exclude<Extract<T, object>, Date | readonly unknown[] | PromiseLike<unknown>>;
type ElementOf<T> = T extends readonly (infer E)[] ? E : never;

/**
 * The keys a filter `W` (a union of the objects a rule may return) may have, on a collection
 * with fields `F`: any other is an `UnknownFilterKey`.
 */
type WhereKeysOf<W, F extends Fields> = {
  [P in Exclude<KeysOf<W>, keyof CollectionWhere<F>>]?: UnknownFilterKey | RelationFilter<object>;
} & {
  [P in KeysOf<W> & keyof CollectionWhere<F>]?: P extends "and" | "or"
    ? readonly WhereKeysOf<Filters<ElementOf<ValueAt<W, P>>>, F>[]
    : P extends "not"
      ? WhereKeysOf<Filters<ValueAt<W, P>>, F>
      : OperatorKeysOf<Filters<ValueAt<W, P>>, Filters<CollectionWhere<F>[P]>>;
};

/**
 * The keys a field's operators `V` may have, given the operators `D` of the field's kind: any
 * other is an `UnknownFilterKey`. A relation filter on a `belongsTo` field (`D` takes any key)
 * is not checked.
 */
type OperatorKeysOf<V, D> = string extends KeysOf<D>
  ? unknown
  : [Exclude<KeysOf<V>, KeysOf<D>>] extends [never]
    ? unknown
    : string | number | boolean | null | Date | readonly unknown[] | { [K in Exclude<KeysOf<V>, KeysOf<D>>]?: UnknownFilterKey };
