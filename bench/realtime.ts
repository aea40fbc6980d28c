/**
 * `npm run bench:realtime` (and the end of `npm run bench`): subscribers over SSE, on SQLite and
 * on PostgreSQL (when `CIMIENTO_TEST_POSTGRES_URL` or `BENCH_POSTGRES_URL` is set). The servers
 * run in processes of their own, pinned to core 1; the subscribers (fetch streams, parsed as
 * they come) in this process, on core 0. Figures:
 *
 * - latency from the write (the time taken just before the create) to its delivery to each
 *   subscriber, p50 / p99, with writes 30 ms apart: with 1,000 subscribers alike (one query:
 *   read once per batch for them all), with 1,000 distinct filters (read once per subscriber),
 *   and with the 1,000 spread over three server processes on one database;
 * - events delivered per second in a burst of writes made one after another;
 * - the server's resident memory per idle subscriber.
 *
 * Environment: `BENCH_SUBSCRIBERS` (default 1000), `BENCH_EVENTS` (latency writes, default 100),
 * `BENCH_BURST` (default 500), `BENCH_DIALECTS`. Results in bench/results/realtime.json.
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describePinning, pin, pinning } from "./cores.js";
import { epochMs } from "./jobs-shared.js";
import type { ServerTask } from "./realtime-server.js";

const SUBSCRIBERS = Number(process.env["BENCH_SUBSCRIBERS"] ?? 1000);
const EVENTS = Number(process.env["BENCH_EVENTS"] ?? 100);
const BURST = Number(process.env["BENCH_BURST"] ?? 500);
const GAP = 30;
const SENT_AT = '"sentAt":';
const dialects = process.env["BENCH_DIALECTS"]?.split(",") ?? ["sqlite", "postgres"];
const postgresUrl = process.env["BENCH_POSTGRES_URL"] ?? process.env["CIMIENTO_TEST_POSTGRES_URL"];

interface Server {
  readonly child: ChildProcess;
  readonly base: string;
  ask<T>(message: object, answer: string): Promise<T>;
}

async function startServer(task: ServerTask): Promise<Server> {
  const child = fork(new URL("./realtime-server.ts", import.meta.url).pathname, [JSON.stringify(task)], {
    execArgv: ["--import", "tsx", "--expose-gc"],
  });
  if (pinning !== undefined) pin(child.pid!, pinning.server);
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve(message.port));
    child.once("exit", (code) => reject(new Error(`a server exited (${code}) before it listened`)));
  });
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    ask: (message, answer) =>
      new Promise((resolve) => {
        const listener = (reply: Record<string, unknown>) => {
          if (!(answer in reply)) return;
          child.off("message", listener);
          resolve(reply as never);
        };
        child.on("message", listener);
        child.send(message);
      }),
  };
}

/** One subscriber: an SSE stream parsed as it comes, keeping the latency of each event. */
interface Subscriber {
  received: number;
  readonly latencies: number[];
  readonly ready: Promise<void>;
  readonly abort: AbortController;
}

function subscribe(base: string, where: object | undefined): Subscriber {
  const abort = new AbortController();
  const latencies: number[] = [];
  const subscriber: Subscriber = { received: 0, latencies, abort, ready: Promise.resolve() };
  const query = where === undefined ? "" : `?where=${encodeURIComponent(JSON.stringify(where))}`;
  (subscriber as { ready: Promise<void> }).ready = (async () => {
    const response = await fetch(`${base}/collections/ticks/subscribe${query}`, { signal: abort.signal });
    if (response.status !== 200) throw new Error(`subscribe answered ${response.status}: ${await response.text()}`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let isReady: () => void = () => {};
    const readyHeard = new Promise<void>((resolve) => (isReady = resolve));
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          const now = epochMs();
          buffer += decoder.decode(value, { stream: true });
          let at: number;
          while ((at = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            if (block.startsWith("event: ready")) isReady();
            else if (block.startsWith("event: created")) {
              // The one number it needs, without parsing the whole event: the load generator
              // must not be what delays the deliveries it measures.
              const at = block.indexOf(SENT_AT) + SENT_AT.length;
              latencies.push(now - Number.parseFloat(block.slice(at, block.indexOf(",", at))));
              subscriber.received++;
            }
          }
        }
      } catch {
        // Aborted.
      }
    })();
    await readyHeard;
  })();
  return subscriber;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for deliveries");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Figure {
  readonly dialect: string;
  readonly scenario: string;
  readonly subscribers: number;
  readonly processes: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly eventsPerSecond?: number;
  readonly bytesPerSubscriber?: number;
}

let written = 0;

/** Writes `count` records through `server`, `gap` ms apart; resolves once written. */
async function write(server: Server, count: number, gap: number): Promise<void> {
  await server.ask({ write: { from: written, count, gap } }, "written");
  written += count;
}

async function measureLatency(dialect: string, scenario: string, servers: Server[], where: (i: number) => object | undefined): Promise<Figure> {
  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => subscribe(servers[i % servers.length]!.base, where(i)));
  await Promise.all(subscribers.map((subscriber) => subscriber.ready));
  await write(servers[0]!, EVENTS, GAP);
  await until(() => subscribers.every((subscriber) => subscriber.received >= EVENTS), 120_000);
  const latencies = subscribers.flatMap((subscriber) => subscriber.latencies);
  for (const subscriber of subscribers) subscriber.abort.abort();
  const figure = { dialect, scenario, subscribers: SUBSCRIBERS, processes: servers.length, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
  console.log(`  ${scenario.padEnd(44)} p50 ${figure.p50Ms} ms  p99 ${figure.p99Ms} ms  (${latencies.length} deliveries)`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return figure;
}

async function measureBurst(dialect: string, server: Server): Promise<Figure> {
  const subscribers = Array.from({ length: SUBSCRIBERS }, () => subscribe(server.base, undefined));
  await Promise.all(subscribers.map((subscriber) => subscriber.ready));
  const started = epochMs();
  await write(server, BURST, 0);
  await until(() => subscribers.every((subscriber) => subscriber.received >= BURST), 300_000);
  const seconds = (epochMs() - started) / 1000;
  for (const subscriber of subscribers) subscriber.abort.abort();
  const eventsPerSecond = Math.round((BURST * SUBSCRIBERS) / seconds);
  console.log(`  ${"burst of writes, subscribers alike".padEnd(44)} ${eventsPerSecond} events delivered/s (${BURST} writes in ${seconds.toFixed(2)} s)`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { dialect, scenario: "burst", subscribers: SUBSCRIBERS, processes: 1, eventsPerSecond };
}

async function measureMemory(dialect: string, server: Server): Promise<Figure> {
  type Memory = { memory: { rss: number; heapUsed: number }; subscriptions: number };
  const before = await server.ask<Memory>({ memory: true }, "memory");
  const subscribers = Array.from({ length: SUBSCRIBERS }, () => subscribe(server.base, undefined));
  await Promise.all(subscribers.map((subscriber) => subscriber.ready));
  const after = await server.ask<Memory>({ memory: true }, "memory");
  for (const subscriber of subscribers) subscriber.abort.abort();
  const bytesPerSubscriber = Math.round((after.memory.rss - before.memory.rss) / SUBSCRIBERS);
  console.log(
    `  ${"memory per idle subscriber".padEnd(44)} ${(bytesPerSubscriber / 1024).toFixed(1)} kB resident (heap ${((after.memory.heapUsed - before.memory.heapUsed) / SUBSCRIBERS / 1024).toFixed(1)} kB), ${after.subscriptions} subscriptions`,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { dialect, scenario: "memory", subscribers: SUBSCRIBERS, processes: 1, bytesPerSubscriber };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function place(dialect: string, folder: string): Promise<{ task: Omit<ServerTask, "migrate">; drop(): Promise<void> }> {
  if (dialect === "sqlite") return { task: { dialect: "sqlite", target: join(folder, "realtime.db") }, drop: async () => {} };
  const schema = `bench_realtime_${Date.now().toString(36)}`;
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(text);
    await client.end();
  };
  await admin(`create schema "${schema}"`);
  return { task: { dialect: "postgres", target: postgresUrl!, schema }, drop: () => admin(`drop schema "${schema}" cascade`) };
}

const figures: Figure[] = [];
console.log(`realtime: ${SUBSCRIBERS} subscribers over SSE, ${describePinning()}`);
for (const dialect of dialects) {
  if (dialect === "postgres" && postgresUrl === undefined) {
    console.log("\npostgres: skipped (set CIMIENTO_TEST_POSTGRES_URL or BENCH_POSTGRES_URL)");
    continue;
  }
  console.log(`\n${dialect}:`);
  const folder = mkdtempSync(join(tmpdir(), "cimiento-bench-realtime-"));
  const where = await place(dialect, folder);
  written = 0;
  try {
    const one = await startServer({ ...where.task, migrate: true });
    figures.push(await measureMemory(dialect, one));
    figures.push(await measureLatency(dialect, "latency, subscribers alike, one process", [one], () => undefined));
    figures.push(await measureLatency(dialect, "latency, distinct filters, one process", [one], (i) => ({ n: { ne: -1 - i } })));
    figures.push(await measureBurst(dialect, one));
    const others = [await startServer({ ...where.task, migrate: false }), await startServer({ ...where.task, migrate: false })];
    figures.push(await measureLatency(dialect, "latency, subscribers alike, three processes", [one, ...others], () => undefined));
    for (const server of [one, ...others]) server.child.send({ stop: true });
    await Promise.all([one, ...others].map((server) => new Promise((resolve) => server.child.once("exit", resolve))));
  } finally {
    await where.drop();
    rmSync(folder, { recursive: true, force: true });
  }
}
writeFileSync(
  new URL("./results/realtime.json", import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, pinning: describePinning(), subscribers: SUBSCRIBERS, events: EVENTS, burst: BURST, figures }, null, 2)}\n`,
);
