/**
 * Measures one scenario through one server: the server in its own process, autocannon in this
 * one (on cores of their own where there are two: see cores.ts), on loopback, with a fixed number of connections, a warm-up round, then a measured round.
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { pin, pinning } from "./cores.js";
import type { BenchDatabase } from "./databases.js";
import { requestHeaders, type BenchCaller, type HttpScenario } from "./scenarios.js";
import type { ServerSpec, Variant } from "./variants.js";

/** How hard and how long each round runs. */
export interface HttpSettings {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/** What one measured round gave. */
export interface HttpFigure {
  readonly scenario: string;
  readonly variant: Variant;
  readonly dialect: "sqlite" | "postgres";
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connection errors, timeouts and answers with another status than expected. */
  readonly errors: number;
  readonly requests: number;
  readonly peakRssMb: number;
  /**
   * CPU time the server spent per request in the measured round: steadier than req/s on a busy
   * machine, since time spent waiting for a core is not counted.
   */
  readonly cpuUsPerRequest: number;
}

const SERVER = fileURLToPath(new URL("./server.ts", import.meta.url));

function message<T>(child: ChildProcess, test: (value: unknown) => value is T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (value: unknown) => {
      if (!test(value)) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(value);
    };
    const onExit = (code: number | null) => reject(new Error(`The benchmark server exited (${code}) before answering.`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

function cpu(child: ChildProcess): Promise<number> {
  const answer = message(child, (value): value is { cpuUs: number } => typeof (value as { cpuUs?: unknown })?.cpuUs === "number");
  child.send("cpu");
  return answer.then((value) => value.cpuUs);
}

function startServer(spec: ServerSpec): { child: ChildProcess; port: Promise<number> } {
  const child = fork(SERVER, [JSON.stringify(spec)], {
    execArgv: ["--import", "tsx", ...(process.env["BENCH_SERVER_ARGS"]?.split(" ").filter(Boolean) ?? [])],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  if (pinning !== undefined && child.pid !== undefined) pin(child.pid, pinning.server);
  const port = message(child, (value): value is { port: number } => typeof (value as { port?: unknown })?.port === "number").then(
    (value) => value.port,
  );
  return { child, port };
}

/** The path of a request of `scenario` to `id`. */
function pathOf(scenario: HttpScenario, id: string): string {
  const base = `/api${scenario.path.replace(":id", id)}`;
  return scenario.query === undefined ? base : `${base}?${scenario.query}`;
}

/** One round of load: `connections` connections sending `scenario`'s request for `seconds`. */
export function round(scenario: HttpScenario, caller: BenchCaller, port: number, ids: readonly string[], seconds: number, connections: number) {
  const body = scenario.body?.(caller);
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: scenario.connections ?? connections,
    duration: seconds,
    requests: [
      {
        method: scenario.method,
        headers: requestHeaders(scenario, caller),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        setupRequest: (request) => ({ ...request, path: pathOf(scenario, ids[Math.floor(Math.random() * ids.length)]!) }),
      },
    ],
  });
}

/** Runs one scenario through one server variant, on a fresh copy of the database. */
export async function measureHttp(
  scenario: HttpScenario,
  variant: Variant,
  database: BenchDatabase,
  settings: HttpSettings,
): Promise<HttpFigure> {
  const target = await database.copy();
  const { child, port: portPromise } = startServer({ variant, scenario: scenario.key, dialect: database.dialect, target });
  try {
    const port = await portPromise;
    // A request that fails here would fail every request: say so now, not after the rounds.
    const body = scenario.body?.(database.caller);
    const probe = await fetch(`http://127.0.0.1:${port}${pathOf(scenario, database.ids[0]!)}`, {
      method: scenario.method,
      headers: requestHeaders(scenario, database.caller),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (probe.status !== scenario.status) {
      throw new Error(`${variant} answered ${scenario.key} with ${probe.status}: ${await probe.text()}`);
    }
    await round(scenario, database.caller, port, database.ids, settings.warmupSeconds, settings.connections);
    const cpuBefore = await cpu(child);
    const result = await round(scenario, database.caller, port, database.ids, settings.seconds, settings.connections);
    const cpuUsed = (await cpu(child)) - cpuBefore;
    child.send("stats");
    const stats = await message(child, (value): value is { maxRssKb: number } => typeof (value as { maxRssKb?: unknown })?.maxRssKb === "number");
    const wrongStatus = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => Number(code) !== scenario.status)
      .reduce((sum, [, value]) => sum + (value.count ?? 0), 0);
    return {
      scenario: scenario.key,
      variant,
      dialect: database.dialect,
      requestsPerSecond: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts + wrongStatus,
      requests: result.requests.total,
      peakRssMb: Math.round(stats.maxRssKb / 1024),
      cpuUsPerRequest: Math.round((cpuUsed / Math.max(1, result.requests.total)) * 10) / 10,
    };
  } finally {
    child.send("exit");
    await Promise.race([once(child, "exit"), new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
    await database.discard(target);
  }
}
