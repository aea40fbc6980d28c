/**
 * @internal The context hooks are given, built from the context of the write.
 * @module
 */
import { afterCommit, type DataContext } from "./context.js";
import type { EnqueueOptions } from "../define/enqueue.js";
import type { HookContext } from "../define/hooks.js";

/**
 * A hook's context: the caller and what the hook gave (`data`, `record`, `previous`) as its own
 * properties, the rest read through the prototype and made when read. A class, not an object
 * literal with getters: on Node 20's V8 such a literal costs microseconds to make, and what it
 * holds stays in the heap until a full collection (test/perf/retention.test.ts).
 */
class HookContextOf {
  readonly user: HookContext["user"];
  readonly #ctx: DataContext;
  #system: HookContext["system"] | undefined;

  constructor(ctx: DataContext, given: object) {
    this.user = ctx.user;
    this.#ctx = ctx;
    Object.assign(this, given);
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

for (const name of ["system", "db", "afterCommit", "enqueue"]) {
  Object.defineProperty(HookContextOf.prototype, name, { ...Object.getOwnPropertyDescriptor(HookContextOf.prototype, name), enumerable: true });
}
Object.freeze(HookContextOf.prototype);

/**
 * The context of a hook run by a write in `ctx` (a transaction), with what the hook is given
 * (`data`, `record`, `previous`). Its functions work unbound, taken off the context.
 */
export function hookContext<G extends object>(ctx: DataContext, given: G): HookContext & G {
  return new HookContextOf(ctx, given) as unknown as HookContext & G;
}
