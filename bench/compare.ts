/**
 * `npx tsx bench/compare.ts`: a paired comparison for a busy machine. Several servers run at
 * once, each in its own process on its own copy of the database, and are measured in short
 * alternating rounds, so that whatever else the machine does falls on all of them alike; it
 * prints each server's median and least CPU time per request (contention only adds to it, so the
 * least is the steadiest figure when the machine is shared). Writes nothing.
 *
 * Environment: `COMPARE_SERVERS`, comma-separated `checkout:variant` pairs, where `checkout` is
 * the folder of a cimiento checkout whose `bench/.build/` is built (`.` for this one; another
 * one, such as an export of an earlier commit, to compare builds) and `variant` a server variant
 * (default `.:hono-cimiento,.:hono-raw`); `COMPARE_SCENARIO` (a scenario key, default `get`);
 * `COMPARE_ROUNDS` (default 7); `BENCH_CONNECTIONS` (default 50); `BENCH_PIN` (`0`: unpinned, else the
 * servers run on core 1 and the load generator on core 0 where there are two); `COMPARE_SECONDS` (per round, default 2); `BENCH_DIALECTS`
 * (`sqlite` or `postgres`, with `CIMIENTO_TEST_POSTGRES_URL`); `BENCH_SERVER_ARGS` (extra Node
 * arguments of the servers, such as `--cpu-prof --cpu-prof-dir=prof`).
 * @module
 */
import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { pin, pinning } from "./cores.js";
import { postgresDatabase, sqliteDatabase } from "./databases.js";
import { round } from "./http.js";
import { scenarioOf } from "./scenarios.js";
import type { ServerSpec, Variant } from "./variants.js";

const env = process.env;
const dialect = (env["BENCH_DIALECTS"] ?? "sqlite") as ServerSpec["dialect"];
const rounds = Number(env["COMPARE_ROUNDS"] ?? 7);
const seconds = Number(env["COMPARE_SECONDS"] ?? 2);
const scenario = scenarioOf(env["COMPARE_SCENARIO"] ?? "get");
const wanted = (env["COMPARE_SERVERS"] ?? ".:hono-cimiento,.:hono-raw").split(",").map((pair) => {
  const at = pair.lastIndexOf(":");
  return { label: pair, checkout: resolve(pair.slice(0, at)), variant: pair.slice(at + 1) as Variant };
});

const database =
  dialect === "sqlite" ? await sqliteDatabase() : await postgresDatabase(env["CIMIENTO_TEST_POSTGRES_URL"] ?? "postgres://unset");

function reply<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((done) => {
    const listen = (value: unknown) => {
      if (typeof value !== "object" || value === null || !(key in value)) return;
      child.off("message", listen);
      done((value as Record<string, T>)[key]!);
    };
    child.on("message", listen);
  });
}

function cpu(child: ChildProcess): Promise<number> {
  const answer = reply<number>(child, "cpuUs");
  child.send("cpu");
  return answer;
}

const connections = Number(env["BENCH_CONNECTIONS"] ?? 50);
const load = (port: number, duration: number) => round(scenario, database.caller, port, database.ids, duration, connections);

const servers: { label: string; child: ChildProcess; port: number; samples: number[] }[] = [];
try {
  for (const { label, checkout, variant } of wanted) {
    const spec: ServerSpec = { variant, scenario: scenario.key, dialect, target: await database.copy() };
    const child = fork(resolve(checkout, "bench/server.ts"), [JSON.stringify(spec)], {
      cwd: checkout,
      execArgv: ["--import", "tsx", ...(env["BENCH_SERVER_ARGS"]?.split(" ").filter(Boolean) ?? [])],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    if (pinning !== undefined && child.pid !== undefined) pin(child.pid, pinning.server);
    servers.push({ label, child, port: await reply<number>(child, "port"), samples: [] });
  }
  for (const server of servers) await load(server.port, 1);
  for (let i = 0; i < rounds; i++) {
    for (const server of i % 2 === 0 ? servers : [...servers].reverse()) {
      const before = await cpu(server.child);
      const result = await load(server.port, seconds);
      server.samples.push(((await cpu(server.child)) - before) / Math.max(1, result.requests.total));
    }
  }
  for (const { label, samples } of servers) {
    const sorted = [...samples].sort((a, b) => a - b);
    console.log(
      `${dialect} ${scenario.key.padEnd(10)} ${label.padEnd(40)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1).padStart(7)} µs/req, least ${sorted[0]!.toFixed(1).padStart(7)}  [${samples.map((x) => x.toFixed(0)).join(" ")}]`,
    );
  }
} finally {
  for (const { child } of servers) child.send("exit");
  await new Promise((done) => setTimeout(done, 2000));
  for (const { child } of servers) if (child.exitCode === null) child.kill("SIGKILL");
  await database.drop();
}
