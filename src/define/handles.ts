/**
 * What `job()` and `action()` give, as scopes and `Register` see them: any job or action, and
 * the types of their inputs and outputs. The definitions themselves (with the contexts their
 * handlers get) are declared above, in `job.ts` and `action.ts`.
 * @module
 */
import type { Register } from "./principal.js";

/** Any job: what `job()` returns, whatever its input. */
export interface AnyJob {
  /** @internal */
  readonly definition: object;
  /** @internal Type-level input; never set at runtime. */
  readonly "~types"?: { readonly input: (input: never) => void };
}

/**
 * The input `enqueue` takes for a job (before validation).
 * @example
 * ```ts
 * type WelcomeInput = JobInput<typeof sendWelcome>; // { to: string }
 * ```
 */
export type JobInput<J> = J extends { readonly "~types"?: { readonly input: (input: infer I) => void } } ? I : never;

/**
 * The jobs declared in {@link Register}, or any jobs.
 * @example
 * ```ts
 * declare module "cimiento" {
 *   interface Register {
 *     jobs: { sendWelcome: typeof sendWelcome };
 *   }
 * }
 * ```
 */
export type RegisteredJobs = Register extends { jobs: infer J extends Record<string, AnyJob> } ? J : Record<string, AnyJob>;

/** Any action: what `action()` returns, whatever its input and output. */
export interface AnyAction {
  /** @internal */
  readonly definition: object;
  /** @internal Type-level input and output; never set at runtime. */
  readonly "~types"?: { readonly input: (input: never) => void; readonly output: () => unknown };
}

/** The input an action takes (before validation). */
export type ActionInput<A> = A extends { readonly "~types"?: { readonly input: (input: infer I) => void } } ? I : never;
/** What an action returns. */
export type ActionOutput<A> = A extends { readonly "~types"?: { readonly output: () => infer O } } ? O : never;

/** The actions of a scope, called by name. */
export type ActionsApi<A extends Record<string, AnyAction>> = {
  readonly [K in keyof A]: (input: ActionInput<A[K]>) => Promise<ActionOutput<A[K]>>;
};
