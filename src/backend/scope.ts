/**
 * Scopes: who is calling, and what it may reach. `backend.as(user)` and `backend.system`.
 * @module
 */
import { runAction, type ActionServices } from "../actions/run-action.js";
import { createDataApi } from "../data/collection-api.js";
import { afterCommit, type DataContext } from "../data/context.js";
import type { EnqueueManyOptions, EnqueueOptions } from "../define/enqueue.js";
import type { TransactionScope } from "../define/scope.js";
import type { DialectName, Schema } from "../define/types.js";

/** @internal The scope of a context: its data, its actions, its transactions. */
export function createScope(ctx: DataContext, services: ActionServices): TransactionScope<Schema, DialectName> {
  let api: Record<string, (input: unknown) => Promise<unknown>> | undefined;
  const scope = {
    user: ctx.user,
    data: createDataApi(ctx, ctx.model),
    // Made on first use: most requests never call an action through the scope.
    get actions() {
      if (api === undefined) {
        api = {};
        for (const [name, definition] of Object.entries(services.actions)) {
          api[name] = (input) => runAction(services, ctx, name, definition, input);
        }
        Object.freeze(api);
      }
      return api;
    },
    db: ctx.db,
    transaction: <T>(fn: (tx: TransactionScope<Schema, DialectName>) => Promise<T>) =>
      ctx.atomic((tx) => fn(tx === ctx ? (scope as TransactionScope<Schema, DialectName>) : createScope(tx, services))),
    afterCommit: (fn: () => void | Promise<void>) => afterCommit(ctx, fn),
    enqueue: (name: string, input: unknown, options?: EnqueueOptions) => services.enqueue(ctx, name, input, options),
    enqueueMany: (name: string, inputs: readonly unknown[], options?: EnqueueManyOptions) => services.enqueueMany(ctx, name, inputs, options),
  };
  return scope as unknown as TransactionScope<Schema, DialectName>;
}
