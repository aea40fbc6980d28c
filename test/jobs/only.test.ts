/**
 * A backend of jobs alone (no collections), and workers that run only some of its jobs.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { createBackend, job, type JobEvent } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

describeEachDatabase("jobs alone", (db) => {
  let drop: () => Promise<void>;
  let ran: string[];

  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const mail = job({ input: z.object({ n: z.number() }), handler: ({ input }) => void ran.push(`mail ${input.n}`) });
    const report = job({ input: z.object({ n: z.number() }), handler: ({ input }) => void ran.push(`report ${input.n}`) });
    return createBackend({ database: fresh.database, jobs: { mail, report }, logger: quietLogger() });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  beforeEach(async () => {
    ran = [];
    backend = await makeBackend();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  test("a backend with jobs and no collections migrates its job tables, enqueues and runs", async () => {
    const { changes } = await backend.migrate();
    expect(changes.filter((change) => change.kind === "createTable").map((change) => change.table).sort()).toEqual([
      "cimiento_job_attempts",
      "cimiento_jobs",
    ]);
    await backend.system.enqueue("mail", { n: 1 });
    const done = new Promise<void>((resolve) => backend.jobs.on((event) => event.type === "succeeded" && resolve()));
    backend.jobs.start({ pollInterval: 20 });
    await done;
    expect(ran).toEqual(["mail 1"]);
  });

  test("a worker started with only some jobs claims those and leaves the others queued", async () => {
    await backend.migrate();
    for (let n = 0; n < 3; n++) {
      await backend.system.enqueue("mail", { n });
      await backend.system.enqueue("report", { n });
    }
    const succeeded: JobEvent[] = [];
    const three = new Promise<void>((resolve) =>
      backend.jobs.on((event) => {
        if (event.type === "succeeded" && succeeded.push(event) === 3) resolve();
      }),
    );
    backend.jobs.start({ only: ["report"], pollInterval: 20 });
    await three;
    await backend.jobs.stop();
    expect(ran.sort()).toEqual(["report 0", "report 1", "report 2"]);
    const queued = await backend.jobs.list({ state: "queued" });
    expect(queued.map((record) => record.name)).toEqual(["mail", "mail", "mail"]);
  });

  test("start({ only }) refuses an empty list and names that are not jobs", () => {
    expect(() => backend.jobs.start({ only: [] })).toThrow(/only must be a non-empty array/);
    expect(() => backend.jobs.start({ only: ["mail", "sms" as "mail"] })).toThrow(/only names "sms", which is not a registered job/);
    expect(backend.jobs.started).toBe(false);
  });
});
