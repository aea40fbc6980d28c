/**
 * @internal The context hooks are given, built from the context of the write; actions are given
 * the same members and more.
 * @module
 */
import { publishAccessors } from "../support/accessors.js";
import { afterCommit, type DataContext } from "./context.js";
import type { EnqueueOptions } from "../define/enqueue.js";
import type { HookContext } from "../define/hooks.js";

/**
 * What code run in a transaction is given of it (hooks, and actions, whose context extends this):
 * the caller as its own property, the rest read through the prototype and made when read. A
 * class, not an object literal with getters: on Node 20's V8 such a literal costs microseconds
 * to make, and what it holds stays in the heap until a full collection
 * (test/perf/retention.test.ts). Its functions work unbound, taken off the context.
 */
export class TransactionMembers {
  readonly user: HookContext["user"];
  readonly #ctx: DataContext;
  #system: HookContext["system"] | undefined;

  constructor(ctx: DataContext) {
    this.user = ctx.user;
    this.#ctx = ctx;
  }

  get system(): HookContext["system"] {
    return (this.#system ??= this.#ctx.shared.ports.systemScope(this.#ctx));
  }

  get db(): HookContext["db"] {
    return this.#ctx.db as HookContext["db"];
  }

  get afterCommit(): HookContext["afterCommit"] {
    const ctx = this.#ctx;
    return (fn) => afterCommit(ctx, fn);
  }

  get enqueue(): HookContext["enqueue"] {
    const ctx = this.#ctx;
    return ((name: string, input: unknown, options?: EnqueueOptions) => ctx.shared.ports.enqueue(ctx, name, input, options)) as HookContext["enqueue"];
  }
}
publishAccessors(TransactionMembers.prototype, ["system", "db", "afterCommit", "enqueue"]);

/**
 * The context of a hook run by a write in `ctx` (a transaction), with what the hook is given
 * (`data`, `record`, `previous`) as its own properties.
 */
export function hookContext<G extends object>(ctx: DataContext, given: G): HookContext & G {
  return Object.assign(new TransactionMembers(ctx), given) as unknown as HookContext & G;
}
