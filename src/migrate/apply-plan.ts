/**
 * @internal Runs a plan's statements, in phase order, inside the sync's transaction.
 * @module
 */
import { sql, type Kysely } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";
import { MigrationError } from "./migration-error.js";
import type { Plan } from "./plan.js";

/**
 * @internal Applies `plan`. A statement that the data makes fail (a unique index over duplicates
 * the checks could not foresee, a foreign key over missing ids) throws a {@link MigrationError}
 * naming the change, with the driver's error as its cause.
 * @example
 * ```ts
 * if (plan.refused.length === 0) await applyPlan(trx, runtime, plan);
 * ```
 */
export async function applyPlan(db: Kysely<any>, runtime: DialectRuntime, plan: Plan): Promise<void> {
  const statements = plan.changes.flatMap((change) => change.statements).sort((a, b) => a.phase - b.phase);
  for (const statement of statements) {
    try {
      await sql.raw(statement.sql).execute(db);
    } catch (error) {
      const kind = runtime.classify(error)?.kind;
      if (statement.refusedOnViolation !== undefined && (kind === "unique" || kind === "foreignKey")) {
        throw new MigrationError([statement.refusedOnViolation], { cause: error });
      }
      throw error;
    }
  }
}
