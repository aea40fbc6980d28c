/**
 * The check of the data `beforeCreate` and `beforeUpdate` return against their collection's
 * fields, where the hooks are written: the type `collection()` takes its hooks with.
 * @module
 */
import type { Fields } from "./types.js";
import type { CreateInputOf, InferFields, UpdateInputOf } from "./types.js";
import type { CollectionHooks, HookContext } from "./hooks.js";

/** What a hook that may change the data returns: the data, or nothing, sync or async. */
export type HookReturn<D> = D | void | Promise<D | void>;

/**
 * The hooks of a collection as `collection()` takes them, with what `beforeCreate` (`C`) and
 * `beforeUpdate` (`U`) return checked (see `CheckedHookResult`).
 */
export type CheckedHooks<F extends Fields, C, U> = Omit<CollectionHooks<F>, "beforeCreate" | "beforeUpdate"> & {
  beforeCreate?(context: HookContext & { readonly data: UpdateInputOf<F> }): CheckedHookResult<C, CreateInputOf<F>>;
  beforeUpdate?(
    context: HookContext & { readonly data: UpdateInputOf<F>; readonly previous: InferFields<F> },
  ): CheckedHookResult<U, UpdateInputOf<F>>;
};

/**
 * What a hook returning `R` must return, given the data `D` it may return: a key that is not a
 * field of the collection fails at compile time, at the hook, instead of at the first write
 * (`VALIDATION_FAILED`, for a field nobody sent). As for rules, TypeScript does not check
 * excess properties of what a function returns, so `R` is inferred: this is `R` itself when it
 * has no other key, else a type it does not match.
 */
export type CheckedHookResult<R, D> = string extends keyof D
  ? R
  : // A hook whose values are wrong: those are reported against `D`.
    [HookReturn<D>] extends [R]
    ? R
    : [R] extends [KnownDataKeys<R, D>]
      ? R
      : NoInfer<KnownDataKeys<R, D>>;

type KnownDataKeys<R, D> = [R] extends [Promise<infer X>] ? Promise<void | DataKeysOf<X, D>> : void | DataKeysOf<R, D>;

/** The keys of each member of a union. */
type KeysOf<T> = T extends unknown ? keyof T : never;

type DataKeysOf<R, D> = { [P in Exclude<KeysOf<Extract<R, object>>, keyof D>]?: UnknownField };

/** What a key of a hook's returned data that is not a field of the collection must be: nothing is. */
export interface UnknownField {
  readonly "is not a field of this collection": never;
}
