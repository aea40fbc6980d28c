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
import { publishAccessors } from "../support/accessors.js";

type Data = ReturnType<typeof createDataApi>;
type Transaction = TransactionScope<Schema, DialectName>;

/**
 * A scope: one small object per caller. Its data API is made the first time it is read, and its
 * functions are made the first time each is read (then kept on the scope), so that a scope made
 * for one call (`backend.as(user).data.posts.get(id)`, an HTTP request) builds only what that
 * call uses. Each function works unbound, as a property taken off the scope.
 */
class ScopeOfContext {
  readonly #ctx: DataContext;
  readonly #services: ActionServices;
  #data: Data | undefined;
  #actions: Record<string, (input: unknown) => Promise<unknown>> | undefined;
  readonly user: DataContext["user"];

  constructor(ctx: DataContext, services: ActionServices) {
    this.#ctx = ctx;
    this.#services = services;
    this.user = ctx.user;
  }

  /** The Kysely instance of the scope's connection or transaction (a transaction's is made when first read). */
  get db(): DataContext["db"] {
    return this.#ctx.db;
  }

  get data(): Data {
    return (this.#data ??= createDataApi(this.#ctx, this.#ctx.model));
  }

  // Most requests never call an action through the scope.
  get actions(): Record<string, (input: unknown) => Promise<unknown>> {
    if (this.#actions === undefined) {
      const api: Record<string, (input: unknown) => Promise<unknown>> = {};
      const services = this.#services;
      const ctx = this.#ctx;
      for (const [name, definition] of Object.entries(services.actions)) {
        api[name] = (input) => runAction(services, ctx, name, definition, input);
      }
      this.#actions = Object.freeze(api);
    }
    return this.#actions;
  }

  get transaction() {
    const ctx = this.#ctx;
    const services = this.#services;
    const transaction = <T>(fn: (tx: Transaction) => Promise<T>) =>
      ctx.atomic((tx) => fn(tx === ctx ? (this as unknown as Transaction) : createScope(tx, services)));
    return own(this, "transaction", transaction);
  }

  get afterCommit() {
    const ctx = this.#ctx;
    return own(this, "afterCommit", (fn: () => void | Promise<void>) => afterCommit(ctx, fn));
  }

  get enqueue() {
    const ctx = this.#ctx;
    const services = this.#services;
    return own(this, "enqueue", (name: string, input: unknown, options?: EnqueueOptions) => services.enqueue(ctx, name, input, options));
  }

  get enqueueMany() {
    const ctx = this.#ctx;
    const services = this.#services;
    return own(this, "enqueueMany", (name: string, inputs: readonly unknown[], options?: EnqueueManyOptions) =>
      services.enqueueMany(ctx, name, inputs, options),
    );
  }
}

/** Keeps a function made on first read as the scope's own property, and returns it. */
function own<F>(scope: ScopeOfContext, name: string, fn: F): F {
  Object.defineProperty(scope, name, { value: fn, enumerable: true });
  return fn;
}

publishAccessors(ScopeOfContext.prototype, ["data", "actions", "transaction", "afterCommit", "enqueue", "enqueueMany"]);

/** @internal The scope of a context: its data, its actions, its transactions. */
export function createScope(ctx: DataContext, services: ActionServices): TransactionScope<Schema, DialectName> {
  return new ScopeOfContext(ctx, services) as unknown as TransactionScope<Schema, DialectName>;
}
