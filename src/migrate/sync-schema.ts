/**
 * @internal The schema sync: introspect, plan, refuse or apply, in one transaction.
 * @module
 */
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Model } from "../model/model.js";
import { applyPlan } from "./apply-plan.js";
import { MigrationError } from "./migration-error.js";
import { planSync } from "./plan.js";
import type { SchemaChange } from "./schema-change.js";

/**
 * @internal Brings the database's tables in line with `model`, additively; or, when any change
 * is refused, throws a {@link MigrationError} listing them all and changes nothing.
 * With `dryRun`, plans (and refuses) the same way but applies nothing.
 * @example
 * ```ts
 * const changes = await syncSchema(runtime, model, false);
 * ```
 */
export async function syncSchema(runtime: DialectRuntime, model: Model, dryRun: boolean): Promise<SchemaChange[]> {
  return runtime.transaction(async (trx) => {
    // App instances starting together would otherwise all plan the same CREATE TABLE, and all
    // but one fail.
    await runtime.lock(trx, "cimiento.migrate");
    const live = await runtime.introspect(trx, [...model.collections.keys()]);
    const plan = await planSync(trx, runtime.ddl, model, live);
    if (plan.refused.length > 0) throw new MigrationError(plan.refused);
    if (!dryRun) await applyPlan(trx, runtime, plan);
    return plan.changes.map((planned) => planned.change);
  });
}
