/**
 * `npm run bench:instructions`: instructions per request under callgrind (see callgrind.ts) for
 * every scenario but sign-in, through Hono with raw statements and through cimiento in Hono, and
 * the in-process get, on SQLite, and on PostgreSQL when `CIMIENTO_TEST_POSTGRES_URL` is set.
 * Writes `bench/results/instructions.json` and prints the table.
 *
 * Environment: `INSTR_WARMUP` (uncounted requests per scenario, default 3,000), `INSTR_COUNT`
 * (counted requests per scenario, default 300), `INSTR_SEED` (of the random ids, default 1),
 * `INSTR_JOBS` (processes under valgrind at once, default 2), `BENCH_DIALECTS` (e.g. `sqlite`),
 * `INSTR_ONLY` (scenario keys, comma-separated: those alone, printed and not written, to look at
 * one scenario without the others before it in its process), `INSTR_KEEP` (a folder: keep each
 * counted phase's callgrind file there, its function names in full).
 * @module
 */
import { writeFileSync } from "node:fs";
import { countInstructions, instructionTable, RESULTS_FILE, settingsFromEnv } from "./callgrind.js";

const started = Date.now();
const dialects = (process.env["BENCH_DIALECTS"]?.split(",").filter(Boolean) ?? ["sqlite", "postgres"]) as ("sqlite" | "postgres")[];
const settings = settingsFromEnv();
const results = await countInstructions(settings, dialects, process.env["CIMIENTO_TEST_POSTGRES_URL"]);
if (settings.only === undefined) writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`\n${instructionTable(results)}\n\n${settings.only === undefined ? "Wrote bench/results/instructions.json" : "Counted"} in ${seconds} s.`);
