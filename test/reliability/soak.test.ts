/**
 * Sustained load: `CIMIENTO_SOAK_REQUESTS` mixed requests (lists, gets, creates, actions that
 * write and enqueue a job, sign-ins with cheap hashing, session checks) against one server
 * process per database, from 32 kept-alive connections. No answer but the expected ones;
 * resident memory flat after warm-up; p99 steady. It prints the curve (per tenth of the run:
 * requests per second, p50 and p99, resident memory). Run by `npm run test:reliability`
 * (1,000,000 requests); skipped in `npm test`.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { sharedDatabase } from "../jobs/support.js";
import { bundleReliabilityProgram, startProgram } from "./support.js";

const REQUESTS = Number(process.env["CIMIENTO_SOAK_REQUESTS"] ?? 0);
const CONNECTIONS = 32;
const WINDOWS = 10;
const ACCOUNT = { email: "soak@example.com", password: "a soak test password" };

let program: Awaited<ReturnType<typeof bundleReliabilityProgram>> | undefined;
beforeAll(async () => {
  if (REQUESTS > 0) program = await bundleReliabilityProgram("soak-server");
});
afterAll(() => program?.remove());

interface Answer {
  readonly status: number;
  readonly body: string;
}

function call(agent: Agent, port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        agent,
        method,
        path,
        headers: { ...headers, ...(text === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(text) }) },
      },
      (res) => {
        let received = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (received += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, body: received }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

/** The server's resident memory in MB (Linux's /proc). */
function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

interface Window {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly rss: number;
}

describeEachDatabase("soak", (db) => {
  test.skipIf(REQUESTS === 0)(`${REQUESTS} mixed requests: only expected answers, memory flat, p99 steady`, async () => {
    const shared = await sharedDatabase(db);
    const server = startProgram(program!.file, { connection: shared.connection });
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    try {
      const port = Number(await server.ready);
      const pid = server.child.pid!;
      const signedIn = await call(agent, port, "POST", "/auth/sign-in", ACCOUNT);
      expect(signedIn.status).toBe(200);
      const token = (JSON.parse(signedIn.body) as { token: string }).token;
      const ids: string[] = [];
      const unexpected = new Map<string, number>();
      const perWindow = Math.ceil(REQUESTS / WINDOWS);
      const windows: Window[] = [];
      let latencies: number[] = [];
      let windowStarted = performance.now();
      let sent = 0;

      /** One request of the mix; its answer must have the status the mix expects. */
      async function one(): Promise<void> {
        const pick = Math.random() * 100;
        const started = performance.now();
        let answer: Answer;
        let expected: number;
        if (pick < 40) {
          answer = await call(agent, port, "GET", "/collections/notes/records?limit=20&orderBy=-createdAt");
          expected = 200;
        } else if (pick < 60 && ids.length > 0) {
          answer = await call(agent, port, "GET", `/collections/notes/records/${ids[Math.floor(Math.random() * ids.length)]}`);
          expected = 200;
        } else if (pick < 80) {
          answer = await call(agent, port, "POST", "/collections/notes/records", { batch: "single", text: "soak" });
          expected = 201;
          if (answer.status === 201 && ids.length < 10_000) ids.push((JSON.parse(answer.body) as { id: string }).id);
        } else if (pick < 90) {
          answer = await call(agent, port, "POST", "/actions/writeBatch", { batch: randomUUID(), size: 2 });
          expected = 200;
        } else if (pick < 95) {
          answer = await call(agent, port, "POST", "/auth/sign-in", ACCOUNT);
          expected = 200;
        } else {
          answer = await call(agent, port, "GET", "/auth/session", undefined, { authorization: `Bearer ${token}` });
          expected = 200;
        }
        latencies.push(performance.now() - started);
        if (answer.status !== expected) {
          const key = `${answer.status} ${answer.body.slice(0, 120)}`;
          unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
        }
      }

      const loop = async () => {
        while (sent < REQUESTS) {
          sent++;
          await one();
          if (latencies.length >= perWindow) {
            const now = performance.now();
            const sorted = latencies.sort((a, b) => a - b);
            windows.push({ rate: (sorted.length * 1000) / (now - windowStarted), p50: percentile(sorted, 50), p99: percentile(sorted, 99), rss: residentMb(pid) });
            latencies = [];
            windowStarted = now;
          }
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, loop));

      const rows = windows.map((w, i) => `${String(i + 1).padStart(2)}  ${Math.round(w.rate).toString().padStart(6)} req/s  p50 ${w.p50.toFixed(1).padStart(6)} ms  p99 ${w.p99.toFixed(1).padStart(6)} ms  RSS ${w.rss.toFixed(0).padStart(4)} MB`);
      console.log(`soak [${db.dialect}], ${REQUESTS} requests, ${CONNECTIONS} connections, per tenth:\n${rows.join("\n")}`);

      expect(Object.fromEntries(unexpected)).toEqual({});
      // After the warm-up (the first two tenths), memory stays within a quarter of where it was.
      const settled = windows.slice(2);
      const base = settled[0]!.rss;
      expect(Math.max(...settled.map((w) => w.rss))).toBeLessThan(base * 1.25);
      // p99 does not drift upward: the median of the last three tenths' p99 within three times
      // the settled start's (one tenth slowed by a neighbour on a shared machine is no drift).
      const startP99 = Math.max(settled[0]!.p99, 1);
      const lastP99 = settled.slice(-3).map((w) => w.p99).sort((a, b) => a - b)[1]!;
      expect(lastP99).toBeLessThan(startP99 * 3);
      server.child.kill("SIGTERM");
      expect((await server.exited).code).toBe(0);
    } finally {
      agent.destroy();
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
      await shared.drop();
    }
  }, 3_600_000);
});
