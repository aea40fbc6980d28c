/**
 * `npm run bench`: every scenario through every server, and the local API in-process, on
 * SQLite, and on PostgreSQL when `CIMIENTO_TEST_POSTGRES_URL` is set. Writes
 * `bench/results/latest.json` and the tables of `docs/performance.md`.
 *
 * Environment: `BENCH_SECONDS` (measured seconds per round, default 5), `BENCH_WARMUP` (default
 * 2), `BENCH_CONNECTIONS` (default 50), `BENCH_PIN` (`0`: do not pin the server and the load
 * generator to cores of their own), `BENCH_LOCAL_MS` (per in-process task, default 1000),
 * `BENCH_ONLY` (comma-separated scenario keys, and `local`), `BENCH_VARIANTS` (server variants),
 * `BENCH_DIALECTS` (e.g. `sqlite`).
 * @module
 */
import { RECORDS } from "./fixture.js";
import { describePinning } from "./cores.js";
import { postgresDatabase, sqliteDatabase, type BenchDatabase } from "./databases.js";
import { measureHttp, type HttpFigure } from "./http.js";
import { measureLocal, type LocalFigure } from "./local.js";
import { collect, tables, write } from "./report.js";
import { HTTP_SCENARIOS } from "./scenarios.js";
import { VARIANTS } from "./variants.js";

const env = process.env;
const settings = {
  connections: Number(env["BENCH_CONNECTIONS"] ?? 50),
  warmupSeconds: Number(env["BENCH_WARMUP"] ?? 2),
  seconds: Number(env["BENCH_SECONDS"] ?? 5),
  localMilliseconds: Number(env["BENCH_LOCAL_MS"] ?? 1000),
  pinning: describePinning(),
};
const only = env["BENCH_ONLY"]?.split(",").filter(Boolean);
const variants = env["BENCH_VARIANTS"]?.split(",").filter(Boolean);
const dialects = env["BENCH_DIALECTS"]?.split(",").filter(Boolean) ?? ["sqlite", "postgres"];
const postgresUrl = env["CIMIENTO_TEST_POSTGRES_URL"];

const http: HttpFigure[] = [];
const local: LocalFigure[] = [];

async function measure(database: BenchDatabase): Promise<void> {
  console.log(`\n${database.dialect}: ${RECORDS} records seeded (${database.ids.length} readable by the caller)`);
  for (const scenario of HTTP_SCENARIOS) {
    if (only !== undefined && !only.includes(scenario.key)) continue;
    for (const { variant, label } of VARIANTS) {
      if (variants !== undefined && !variants.includes(variant)) continue;
      const figure = await measureHttp(scenario, variant, database, settings);
      http.push(figure);
      console.log(
        `  ${scenario.key.padEnd(10)} ${label.padEnd(40)} ${Math.round(figure.requestsPerSecond).toString().padStart(7)} req/s  p99 ${figure.p99Ms} ms  errors ${figure.errors}`,
      );
    }
  }
  if (only === undefined || only.includes("local")) {
    for (const figure of await measureLocal(database, settings.localMilliseconds)) {
      local.push(figure);
      console.log(`  local ${figure.operation.padEnd(6)} ${figure.variant.padEnd(6)} ${Math.round(figure.opsPerSecond).toString().padStart(8)} ops/s`);
    }
  }
}

async function withDatabase(open: () => Promise<BenchDatabase>): Promise<void> {
  const database = await open();
  try {
    await measure(database);
  } finally {
    await database.drop();
  }
}

if (dialects.includes("sqlite")) await withDatabase(sqliteDatabase);
if (dialects.includes("postgres")) {
  if (postgresUrl === undefined) console.log("\npostgres: skipped (CIMIENTO_TEST_POSTGRES_URL is not set)");
  else await withDatabase(() => postgresDatabase(postgresUrl));
}

const results = collect(http, local, settings);
write(results);
console.log(`\n${tables(results)}\n\nWrote bench/results/latest.json and docs/performance.md.`);
