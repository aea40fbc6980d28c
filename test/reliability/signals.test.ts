/**
 * A server shut down by SIGTERM under load (closeOnSignals): every request it accepted before
 * the signal is answered 200 and its writes are there; none fails with a 5xx; the process exits
 * with 0. Under 16 writing clients of our own (which know when each request was sent), and under
 * autocannon (50 connections of reads and writes).
 */
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { sharedDatabase } from "../jobs/support.js";
import { appBackend } from "./programs/app.js";
import { bundleReliabilityProgram, startProgram } from "./support.js";

let program: Awaited<ReturnType<typeof bundleReliabilityProgram>>;
beforeAll(async () => {
  program = await bundleReliabilityProgram("server");
});
afterAll(() => program.remove());

interface Outcome {
  readonly started: number;
  readonly status?: number;
  readonly error?: string;
  readonly batch: string;
}

/** POSTs one batch on a kept-alive connection of `agent`. */
function send(agent: Agent, port: number, batch: string): Promise<Outcome> {
  const started = performance.now();
  const body = JSON.stringify({ batch, size: 3, pause: 20 });
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, agent, method: "POST", path: "/actions/writeBatch", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ started, status: res.statusCode!, batch }));
        res.on("error", (error) => resolve({ started, error: error.message, batch }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ started, error: error.code ?? error.message, batch }));
    req.end(body);
  });
}

describeEachDatabase("closeOnSignals under load", (db) => {
  test("SIGTERM: every request accepted before it is answered 200, nothing fails with a 5xx, exit 0", async () => {
    const shared = await sharedDatabase(db);
    const server = startProgram(program.file, { connection: shared.connection, timeout: 5_000, worker: true });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const port = Number(await server.ready);
      const outcomes: Outcome[] = [];
      let signalled = Infinity;
      const deadline = () => performance.now() > signalled + 3_000;
      const loop = async () => {
        while (!deadline()) {
          const outcome = await send(agent, port, randomUUID());
          outcomes.push(outcome);
          if (outcome.error !== undefined && outcome.started > signalled) return;
        }
      };
      const loops = Array.from({ length: 16 }, loop);
      await new Promise((resolve) => setTimeout(resolve, 800));
      signalled = performance.now();
      server.child.kill("SIGTERM");
      await Promise.all(loops);
      const exit = await server.exited;
      expect(exit, server.stderr()).toEqual({ code: 0, signal: null });

      const before = outcomes.filter((outcome) => outcome.started < signalled);
      expect(before.length).toBeGreaterThan(16);
      expect(before.filter((outcome) => outcome.status !== 200)).toEqual([]);
      // After the signal: answered in full, or refused a connection; never a 5xx.
      expect(outcomes.filter((outcome) => outcome.status !== undefined && outcome.status !== 200)).toEqual([]);
      expect(server.stderr()).toContain("SIGTERM: shutting down");
      const after = outcomes.filter((outcome) => outcome.started >= signalled);
      console.log(
        `SIGTERM [${db.dialect}]: ${before.length} requests sent before it, ${before.filter((o) => o.status !== 200).length} failed; after it, ${after.filter((o) => o.status === 200).length} answered 200 and ${after.filter((o) => o.status === undefined).length} refused a connection; exit ${exit.code}`,
      );

      // Every acknowledged batch is whole, with its job.
      const acknowledged = outcomes.filter((outcome) => outcome.status === 200).map((outcome) => outcome.batch);
      const backend = appBackend(shared.connection);
      try {
        const notes = await backend.system.data.notes.list({ where: { batch: { in: acknowledged } }, limit: 100_000 });
        const perBatch = new Map<string, number>();
        for (const note of notes.items) perBatch.set(note.batch, (perBatch.get(note.batch) ?? 0) + 1);
        expect(acknowledged.filter((batch) => perBatch.get(batch) !== 3)).toEqual([]);
        const enqueued = new Set<string>();
        for (let offset = 0; ; offset += 1000) {
          const page = await backend.jobs.list({ name: "receipt", limit: 1000, offset });
          for (const job of page) enqueued.add((job.input as { batch: string }).batch);
          if (page.length < 1000) break;
        }
        expect(acknowledged.filter((batch) => !enqueued.has(batch))).toEqual([]);
      } finally {
        await backend.close();
      }
    } finally {
      agent.destroy();
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
      await shared.drop();
    }
  }, 60_000);

  test("SIGTERM under autocannon: every request the server received is answered 200, none cut, exit 0", async () => {
    const shared = await sharedDatabase(db);
    const server = startProgram(program.file, { connection: shared.connection, timeout: 5_000, worker: true });
    try {
      const port = Number(await server.ready);
      const statuses = new Map<number, number>();
      const errors = new Map<string, number>();
      let signalled = Infinity;
      let answeredBefore = 0;
      const instance: autocannon.Instance = autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: 50,
        duration: 4,
        requests: [
          { method: "GET", path: "/collections/notes/records?limit=5" },
          { method: "POST", path: "/actions/writeBatch", headers: { "content-type": "application/json" }, body: JSON.stringify({ batch: "load", size: 1, pause: 5 }) },
        ],
      }, () => {});
      instance.on("response", (_client: unknown, status: number) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (performance.now() < signalled) answeredBefore++;
      });
      instance.on("reqError", (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message;
        errors.set(code, (errors.get(code) ?? 0) + 1);
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      signalled = performance.now();
      server.child.kill("SIGTERM");
      const exit = await server.exited;
      instance.stop();
      expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
      expect(answeredBefore).toBeGreaterThan(50);
      // Every answer was a 200: none a 5xx, and a request in flight at the signal was answered.
      expect([...statuses.keys()]).toEqual([200]);
      // Every request the server received was answered in full: none was cut. What autocannon
      // counts as errors are connections refused after the signal, and requests it wrote on a
      // connection the server had answered with `Connection: close` (ECONNRESET), which the
      // server never received.
      const [received, answered, cut] = /requests (\d+) (\d+) (\d+)/.exec(server.stderr())!.slice(1).map(Number);
      expect(cut).toBe(0);
      expect(answered).toBe(received);
      expect([...errors.keys()].filter((code) => code !== "ECONNREFUSED" && code !== "ECONNRESET")).toEqual([]);
      console.log(
        `SIGTERM under autocannon [${db.dialect}]: ${answeredBefore} answered before it; the server received ${received} requests, answered ${answered}, cut ${cut}; autocannon's answers ${JSON.stringify(Object.fromEntries(statuses))}, errors ${JSON.stringify(Object.fromEntries(errors))}; exit ${exit.code}`,
      );
    } finally {
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
      await shared.drop();
    }
  }, 60_000);
});
