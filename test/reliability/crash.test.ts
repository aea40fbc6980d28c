/**
 * Crash consistency: a server (with a job worker) is killed with SIGKILL at random moments while
 * clients write batches (three records and a job, in one transaction, over HTTP), then started
 * again on the same database, over and over. Every batch a client saw acknowledged is whole;
 * no batch is half there; every batch there has its job exactly once; the server starts cleanly
 * each time; and once it runs undisturbed every job is done, each batch's work exactly once.
 *
 * `CIMIENTO_CRASH_KILLS` sets the kills per database (30 by default; `npm run test:reliability`
 * runs 500).
 */
import { Agent, request } from "node:http";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase } from "../jobs/support.js";
import { appBackend } from "./programs/app.js";
import { bundleReliabilityProgram, startProgram } from "./support.js";

const KILLS = Number(process.env["CIMIENTO_CRASH_KILLS"] ?? 30);
const LEASE = 500;

let program: Awaited<ReturnType<typeof bundleReliabilityProgram>>;
beforeAll(async () => {
  program = await bundleReliabilityProgram("server");
});
afterAll(() => program.remove());

/** POSTs one batch; its status, or `undefined` when the connection failed. */
function send(agent: Agent, port: number, batch: string): Promise<number | undefined> {
  const body = JSON.stringify({ batch, size: 3, pause: Math.floor(Math.random() * 10) });
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, agent, method: "POST", path: "/actions/writeBatch", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("error", () => resolve(undefined));
    req.end(body);
  });
}

describeEachDatabase("SIGKILL at random moments", (db) => {
  test(`${KILLS} kills: acknowledged writes whole, no transaction half there, every job once`, async () => {
    const shared = await sharedDatabase(db);
    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const server = startProgram(program.file, { connection: shared.connection, timeout: 1_000, worker: true, leaseDuration: LEASE });
        const port = Number(await server.ready);
        const agent = new Agent({ keepAlive: true, maxSockets: 8 });
        let killed = false;
        let answered: () => void = () => {};
        const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
        const client = async () => {
          while (!killed) {
            const batch = randomUUID();
            const status = await send(agent, port, batch);
            if (status === undefined) return;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status === 200) acknowledged.add(batch);
            answered();
          }
        };
        const clients = Array.from({ length: 8 }, client);
        // Killed in the middle of the writes: at a random moment after they began.
        await firstAnswer;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
        killed = true;
        server.child.kill("SIGKILL");
        const exit = await server.exited;
        expect(exit.signal).toBe("SIGKILL");
        await Promise.all(clients);
        agent.destroy();
      }
      // Only answers in full: 200 (no request failed on the server's side).
      expect([...statuses.keys()]).toEqual([200]);
      expect(acknowledged.size).toBeGreaterThan(KILLS);

      // Once more, undisturbed: leases of the killed workers expire and their jobs run again.
      const server = startProgram(program.file, { connection: shared.connection, timeout: 5_000, worker: true, leaseDuration: LEASE });
      await server.ready;
      const backend = appBackend(shared.connection, quietLogger());
      try {
        for (let waited = 0; ; waited += 100) {
          const open = await backend.jobs.list({ state: ["queued", "running"], limit: 1 });
          if (open.length === 0) break;
          if (waited > 30_000) throw new Error("jobs still open after 30 s");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        server.child.kill("SIGTERM");
        expect((await server.exited).code).toBe(0);

        const batches = new Map(
          (await sql<{ batch: string; n: number }>`select batch, count(*) as n from notes group by batch`.execute(backend.db)).rows.map((row) => [row.batch, Number(row.n)]),
        );
        // Every acknowledged batch is there, whole; nothing is half there.
        expect([...acknowledged].filter((batch) => batches.get(batch) !== 3)).toEqual([]);
        expect([...batches].filter(([, count]) => count !== 3)).toEqual([]);
        // Every batch there has exactly one job, and every job succeeded.
        const jobs = (await sql<{ input: string | Record<string, unknown>; state: string }>`select input, state from cimiento_jobs where name = 'receipt'`.execute(backend.db)).rows;
        const perBatch = new Map<string, number>();
        for (const job of jobs) {
          const input = (typeof job.input === "string" ? JSON.parse(job.input) : job.input) as { batch: string };
          perBatch.set(input.batch, (perBatch.get(input.batch) ?? 0) + 1);
        }
        expect([...batches.keys()].filter((batch) => perBatch.get(batch) !== 1)).toEqual([]);
        expect(perBatch.size).toBe(batches.size);
        expect(jobs.filter((job) => job.state !== "succeeded")).toEqual([]);
        // Each batch's work was done once.
        const receipts = (await sql<{ batch: string }>`select batch from receipts`.execute(backend.db)).rows.map((row) => row.batch);
        expect(receipts.length).toBe(batches.size);
        expect(new Set(receipts)).toEqual(new Set(batches.keys()));
        const lost = [...acknowledged].filter((batch) => batches.get(batch) !== 3).length;
        console.log(
          `crash [${db.dialect}]: ${KILLS} SIGKILLs; ${acknowledged.size} batches acknowledged, ${lost} lost; ${batches.size} batches in the database, none partial; ${jobs.length} jobs, each succeeded once`,
        );
        if (db.dialect === "sqlite") {
          const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(backend.db);
          expect(integrity.rows).toEqual([{ integrity_check: "ok" }]);
        }
      } finally {
        await backend.close();
        if (server.child.exitCode === null) server.child.kill("SIGKILL");
      }
    } finally {
      await shared.drop();
    }
  }, 60_000 + KILLS * 3_000);
});
