/**
 * @internal Running an action: validation, access, one transaction, output.
 * @module
 */
import { denied } from "../access/caller-access.js";
import { afterCommit, type DataContext } from "../data/context.js";
import { issuesOf, validationError } from "../errors/validation.js";
import type { EnqueueOptions } from "../jobs/enqueue-types.js";
import type { Action, ActionContext } from "./action.js";

/**
 * Runs `action` for the caller of `ctx`, joining its transaction or opening one. The input is
 * validated first (`VALIDATION_FAILED`), then the access rule (absent: system scope only).
 */
export async function runAction<I, O>(
  ctx: DataContext,
  name: string,
  action: Action<I, O>,
  rawInput: unknown,
  request?: Request,
): Promise<O> {
  const definition = action.definition;
  const parsed = await definition.input.safeParseAsync(rawInput);
  if (!parsed.success) {
    throw validationError(`Invalid input of ${name}`, issuesOf(parsed.error, []));
  }
  const input = parsed.data;
  if (!ctx.system) {
    const allowed = definition.access === undefined ? false : await definition.access({ user: ctx.user, input });
    if (allowed !== true) throw denied(ctx.user, `You may not call ${name}.`);
  }
  return ctx.atomic(async (tx) => {
    let system: unknown;
    const context: ActionContext<unknown> = {
      input,
      user: tx.user,
      data: (tx.shared.scopeOf(tx) as { data: ActionContext<unknown>["data"] }).data,
      get system() {
        system ??= tx.shared.scopeOf(tx.as(null, true));
        return system as ActionContext<unknown>["system"];
      },
      db: tx.db as ActionContext<unknown>["db"],
      request,
      call: (other, otherInput) => {
        const otherName = Object.entries(tx.shared.actions).find(([, known]) => known === (other as unknown))?.[0];
        return runAction(tx, otherName ?? "an unregistered action", other, otherInput, request);
      },
      afterCommit: (fn) => afterCommit(tx, fn),
      enqueue: ((name: string, jobInput: unknown, options?: EnqueueOptions) =>
        tx.shared.jobs.enqueue(tx, name, jobInput, options)) as ActionContext<unknown>["enqueue"],
    };
    const result = await definition.handler(context);
    if (definition.output === undefined) return result as O;
    const output = await definition.output.safeParseAsync(result);
    if (!output.success) {
      throw new Error(`The action ${name} returned a value its output schema refuses: ${output.error.message}`);
    }
    return output.data as O;
  });
}
