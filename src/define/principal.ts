/**
 * Who is calling: the principal that access rules, hooks and actions see.
 * @module
 */

/**
 * Declares the application's types once, for rules, hooks and actions defined apart from the
 * backend. Every member is optional.
 *
 * @example
 * ```ts
 * declare module "cimiento" {
 *   interface Register {
 *     principal: { id: string; role: "admin" | "member"; name: string };
 *     collections: typeof collections;   // types `data` in actions and hooks
 *     jobs: typeof jobs;                 // types `enqueue` in actions, hooks and jobs
 *   }
 * }
 * ```
 */
// biome-ignore lint: an interface users augment
export interface Register {}

/** The least a principal has: an id and a role. */
export interface BasePrincipal {
  readonly id: string;
  readonly role: string;
}

/**
 * A signed-in caller: `Register["principal"]` when declared, else {@link BasePrincipal}.
 * Anonymous callers are `null`.
 */
export type Principal = Register extends { principal: infer P extends BasePrincipal } ? P : BasePrincipal;

/** What a rule is given. */
export interface RuleContext {
  /** The caller: a principal, or `null` when anonymous. */
  readonly user: Principal | null;
}
