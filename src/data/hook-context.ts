/**
 * @internal The context hooks are given, built from the context of the write.
 * @module
 */
import { afterCommit, type DataContext } from "./context.js";
import type { EnqueueOptions } from "../define/enqueue.js";
import type { HookContext } from "../define/hooks.js";

/** The context of a hook run by a write in `ctx` (a transaction). */
export function hookContext(ctx: DataContext): HookContext {
  let system: HookContext["system"] | undefined;
  const ports = ctx.shared.ports;
  return {
    user: ctx.user,
    get system() {
      system ??= ports.systemScope(ctx);
      return system;
    },
    get db() {
      return ctx.db as HookContext["db"];
    },
    afterCommit: (fn) => afterCommit(ctx, fn),
    enqueue: ((name: string, input: unknown, options?: EnqueueOptions) => ports.enqueue(ctx, name, input, options)) as HookContext["enqueue"],
  };
}
