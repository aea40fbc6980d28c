/**
 * An install made before the claim had indexes of its own: `migrate()` adds them and the
 * `startedAt` column, keeping every job; an attempt that version left open (its row written at
 * the claim) is shown as it ended.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { createBackend, job, type DatabaseAdapter } from "cimiento";
import { drainJobs, testClock, type TestClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "./support.js";

const START = Date.parse("2030-01-01T00:00:00Z");

describeEachDatabase("jobs upgrade", (db) => {
  let shared: SharedDatabase;
  let clock: TestClock;
  const noop = job({ input: z.object({ n: z.number() }), handler: () => {} });
  const instance = () =>
    createBackend({ database: shared.adapter() as DatabaseAdapter<"sqlite">, jobs: { noop }, clock, logger: quietLogger() });

  beforeEach(async () => {
    shared = await sharedDatabase(db);
    clock = testClock(START);
  });
  afterEach(async () => {
    await shared.drop();
  });

  test("migrate adds the claim's indexes and startedAt to an existing jobs table, and its jobs run", async () => {
    const before = instance();
    let open: string;
    try {
      await before.migrate();
      const kysely = before.db as unknown as Kysely<any>;
      await before.system.enqueue("noop", { n: 1 });
      open = (await before.system.enqueue("noop", { n: 2 })).id;
      // The tables as they were: no partial indexes, no startedAt, and an attempt row written at
      // the claim of a job that is running.
      for (const index of ["cimiento_jobs_due", "cimiento_jobs_lease", "cimiento_jobs_finished"]) await sql`drop index ${sql.id(index)}`.execute(kysely);
      await sql`alter table cimiento_jobs drop column "startedAt"`.execute(kysely);
      await sql`update cimiento_jobs set state = 'running', attempts = 1, "lockedBy" = 'old', "leaseUntil" = ${START + 30_000} where id = ${open}`.execute(kysely);
      await sql`insert into cimiento_job_attempts (id, "jobId", attempt, worker, "startedAt", "createdAt", "updatedAt")
        values ('a1', ${open}, 1, 'old', ${START}, ${new Date(START).toISOString()}, ${new Date(START).toISOString()})`.execute(kysely);
    } finally {
      await before.close();
    }
    const after = instance();
    try {
      const { changes } = await after.migrate();
      expect(changes.map((change) => change.description)).toEqual([
        "add column cimiento_jobs.startedAt",
        'create index cimiento_jobs_due on cimiento_jobs (priority, runAt, id)',
        "create index cimiento_jobs_lease on cimiento_jobs (leaseUntil)",
        "create index cimiento_jobs_finished on cimiento_jobs (finishedAt)",
      ]);
      expect((await after.migrate()).changes).toEqual([]);
      expect(await drainJobs(after)).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
      // The old attempt, still running, ends by its worker's lease; then the job runs again.
      clock.advance(31_000);
      expect(await drainJobs(after)).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
      const details = await after.jobs.get(open);
      expect(details?.state).toBe("succeeded");
      expect(details?.history.map((attempt) => [attempt.attempt, attempt.worker, attempt.outcome])).toEqual([
        [1, "old", "lost"],
        [2, expect.stringMatching(/^drain:/), "succeeded"],
      ]);
    } finally {
      await after.close();
    }
  });
});
