/**
 * The claim's cost does not grow with the queue: with 100,000 queued jobs, the claim reads the
 * due index from its front (no scan of the table, no sort), and expired leases and finished jobs
 * are found through indexes of their own. On PostgreSQL, `EXPLAIN ANALYZE` counts the rows the
 * claim read, also under the generic plan a prepared statement ends up with.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { CompiledQuery, sql, type Kysely } from "kysely";
import { z } from "zod";
import { createBackend, job } from "cimiento";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

const QUEUED = 100_000;
const LIMIT = 16;
const NOW = Date.now();

interface PlanNode {
  readonly "Node Type": string;
  readonly "Index Name"?: string;
  readonly "Relation Name"?: string;
  readonly "Actual Rows"?: number;
  readonly "Rows Removed by Filter"?: number;
  readonly Plans?: readonly PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** A bound value as a SQL literal, for `EXECUTE` of a statement prepared in SQL. */
function literal(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value)) return `'{${value.join(",")}}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

describeEachDatabase("the claim's plan", (db) => {
  let drop: () => Promise<void>;
  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const noop = job({ input: z.object({}), handler: () => {} });
    return createBackend({ database: fresh.database, jobs: { a: noop, b: noop }, logger: quietLogger() });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;
  let kysely: Kysely<any>;

  beforeAll(async () => {
    backend = await makeBackend();
    await backend.migrate();
    kysely = backend.db as unknown as Kysely<any>;
    // 100,000 queued jobs (due, of two names), 10 running ones, 2 of them with an expired lease,
    // and 1,000 finished ones.
    const columns = `"id", "name", "input", "state", "priority", "runAt", "attempts", "maxAttempts", "leaseUntil", "lockedBy", "startedAt", "finishedAt"`;
    if (db.dialect === "postgres") {
      await sql`insert into cimiento_jobs (${sql.raw(columns)})
        select lpad(g::text, 12, '0'), case when g % 2 = 0 then 'a' else 'b' end, '{}'::jsonb,
          case when g <= 10 then 'running' when g <= 1010 then 'succeeded' else 'queued' end,
          0, ${NOW}::bigint - g, case when g <= 1010 then 1 else 0 end, 4,
          case when g <= 2 then ${NOW}::bigint - 1000 when g <= 10 then ${NOW}::bigint + 60000 end,
          case when g <= 10 then 'w' end, case when g <= 1010 then ${NOW}::bigint - 2000 end,
          case when g > 10 and g <= 1010 then ${NOW}::bigint - g end
        from generate_series(1, ${QUEUED + 1010}) as g`.execute(kysely);
      // Statistics of the whole table (a target of 10,000 samples every row of it), and no
      // autovacuum to take them again mid-file: a sample that missed the 10 running jobs, or an
      // analyze after the claim's rolled-back update, could change a plan from run to run.
      await sql`alter table cimiento_jobs set (autovacuum_enabled = false)`.execute(kysely);
      for (const column of ["state", "leaseUntil", "runAt", "name"]) {
        await sql`alter table cimiento_jobs alter column ${sql.ref(column)} set statistics 10000`.execute(kysely);
      }
      await sql`analyze cimiento_jobs`.execute(kysely);
    } else {
      await sql`with recursive g(n) as (select 1 union all select n + 1 from g where n < ${QUEUED + 1010})
        insert into cimiento_jobs (${sql.raw(columns)})
        select printf('%012d', n), case when n % 2 = 0 then 'a' else 'b' end, '{}',
          case when n <= 10 then 'running' when n <= 1010 then 'succeeded' else 'queued' end,
          0, ${NOW} - n, case when n <= 1010 then 1 else 0 end, 4,
          case when n <= 2 then ${NOW} - 1000 when n <= 10 then ${NOW} + 60000 end,
          case when n <= 10 then 'w' end, case when n <= 1010 then ${NOW} - 2000 end,
          case when n > 10 and n <= 1010 then ${NOW} - n end
        from g`.execute(kysely);
      // No `ANALYZE`: SQLite keeps no statistics unless asked, and most databases never are.
    }
  }, 120_000);
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  const store = () => partsOf(backend).jobs.store;

  if (db.dialect === "sqlite") {
    const plan = async (query: CompiledQuery) => {
      const { rows } = await kysely.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
      return rows.map((row) => row.detail);
    };

    const claimReadsDueIndex = async () => {
      const details = await plan(store().claimStatement("w", LIMIT, ["a", "b"], 30_000, NOW));
      expect(details.some((detail) => /SCAN cimiento_jobs USING INDEX cimiento_jobs_due\b/.test(detail))).toBe(true);
      expect(details.filter((detail) => /TEMP B-TREE|^SCAN cimiento_jobs$/.test(detail))).toEqual([]);
    };
    const expiredReadsLeaseIndex = async () => {
      const details = await plan(store().expiredStatement(NOW, 100));
      expect(details.some((detail) => /SEARCH cimiento_jobs USING INDEX cimiento_jobs_lease \(leaseUntil<\?\)/.test(detail))).toBe(true);
      expect(details.filter((detail) => /TEMP B-TREE|^SCAN cimiento_jobs$/.test(detail))).toEqual([]);
    };
    const limitedClaimReadsDueIndex = async () => {
      const details = await plan(store().dueStatement(["a", "b"], LIMIT, NOW));
      expect(details.some((detail) => /SCAN cimiento_jobs USING INDEX cimiento_jobs_due\b/.test(detail))).toBe(true);
      expect(details.filter((detail) => /TEMP B-TREE|^SCAN cimiento_jobs$/.test(detail))).toEqual([]);
    };
    const sweepReadsFinishedIndex = async () => {
      const details = await plan(store().finishedStatement(NOW, ["succeeded", "cancelled"], 1000));
      expect(details.some((detail) => /SEARCH cimiento_jobs USING INDEX cimiento_jobs_finished \(finishedAt[<>]/.test(detail))).toBe(true);
      expect(details.filter((detail) => /TEMP B-TREE|^SCAN cimiento_jobs$/.test(detail))).toEqual([]);
    };

    test("the claim reads the due index in its order: no scan of the table, no sort", claimReadsDueIndex);

    test("expired leases are found through the lease index", expiredReadsLeaseIndex);

    test("a claim limited per name reads the due index too", limitedClaimReadsDueIndex);

    test("when the next job becomes due is read from the (state, runAt) index, without sorting", async () => {
      const details = await plan(store().nextDueStatement(["a", "b"], NOW));
      expect(details.some((detail) => /SEARCH cimiento_jobs USING (?:COVERING )?INDEX cimiento_jobs_state_runAt_idx \(state=\? AND runAt>\?\)/.test(detail))).toBe(true);
      expect(details.filter((detail) => /TEMP B-TREE|^SCAN cimiento_jobs$/.test(detail))).toEqual([]);
    });

    test("the retention sweep reads the index of finished jobs, oldest first", sweepReadsFinishedIndex);

    test("with ANALYZE statistics, the plans are the same", async () => {
      await sql`analyze`.execute(kysely);
      try {
        await claimReadsDueIndex();
        await expiredReadsLeaseIndex();
        await limitedClaimReadsDueIndex();
        await sweepReadsFinishedIndex();
      } finally {
        await sql`drop table sqlite_stat1`.execute(kysely);
      }
    });
  } else {
    const explain = async (trx: Kysely<any>, text: string, parameters: readonly unknown[] = []) => {
      const { rows } = await trx.executeQuery<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        CompiledQuery.raw(`explain (analyze, format json) ${text}`, [...parameters]),
      );
      return nodes(rows[0]!["QUERY PLAN"][0].Plan);
    };
    const readsDueIndex = (plan: PlanNode[]) => {
      const scans = plan.filter((node) => node["Relation Name"] === "cimiento_jobs" && node["Node Type"] !== "ModifyTable");
      expect(plan.filter((node) => node["Node Type"] === "Sort" || node["Node Type"] === "Seq Scan")).toEqual([]);
      const due = scans.find((node) => node["Index Name"] === "cimiento_jobs_due");
      expect(due).toBeDefined();
      // About as many rows as it claims: the front of the index, nothing filtered out.
      expect(due!["Actual Rows"]).toBeLessThanOrEqual(LIMIT + 2);
      expect(due!["Rows Removed by Filter"] ?? 0).toBe(0);
    };

    test("with 100,000 queued jobs the claim reads about as many rows as it claims, through the due index", async () => {
      await kysely
        .transaction()
        .execute(async (trx) => {
          const query = store().claimStatement("w", LIMIT, ["a", "b"], 30_000, NOW);
          const plan = await explain(trx, query.sql, query.parameters);
          readsDueIndex(plan);
          expect(plan[0]!["Actual Rows"]).toBe(LIMIT);
          throw new Error("rollback");
        })
        .catch((error: Error) => expect(error.message).toBe("rollback"));
    });

    test("the prepared claim's generic plan reads the due index too", async () => {
      const query = store().claimStatement("w", LIMIT, ["a", "b"], 30_000, NOW);
      await kysely
        .connection()
        .execute(async (connection) => {
          await sql`set plan_cache_mode = force_generic_plan`.execute(connection);
          await sql.raw(`prepare claim as ${query.sql}`).execute(connection);
          await sql`begin`.execute(connection);
          try {
            const plan = await explain(connection, `execute claim(${query.parameters.map(literal).join(", ")})`);
            readsDueIndex(plan);
          } finally {
            await sql`rollback`.execute(connection);
            await sql`deallocate claim`.execute(connection);
            await sql`reset plan_cache_mode`.execute(connection);
          }
        });
    });

    test("expired leases are found through the lease index, reading only the expired ones", async () => {
      const query = store().expiredStatement(NOW, 100);
      const plan = await explain(kysely, query.sql, query.parameters);
      const lease = plan.find((node) => node["Index Name"] === "cimiento_jobs_lease");
      expect(lease, JSON.stringify(plan.map((node) => [node["Node Type"], node["Index Name"], node["Actual Rows"]]))).toBeDefined();
      expect(lease!["Actual Rows"]).toBe(2);
      expect(plan.filter((node) => node["Node Type"] === "Seq Scan")).toEqual([]);
    });
  }

  test("the claim takes the oldest due jobs, as many as asked", async () => {
    const claimed = await store().claim("w", LIMIT, new Map([["a", LIMIT], ["b", LIMIT]]), 30_000);
    expect(claimed.map((one) => one.id)).toEqual(
      Array.from({ length: LIMIT }, (_, i) => String(QUEUED + 1010 - i).padStart(12, "0")),
    );
  });
});
