/**
 * Instructions per request, counted by `valgrind --tool=callgrind`: what instructions.ts and
 * check.ts measure. Unlike requests per second or CPU time, the count of a deterministic run does
 * not move with what else the machine does, so one change can be judged by one number.
 *
 * Each dialect's database is seeded once (natively, here); then, for each subject (Hono with raw
 * statements and cimiento in Hono, served by `@hono/node-server`; `node:http` with raw statements
 * and cimiento on `node:http`; all served and called over loopback in the process; the in-process get),
 * one process runs count.ts under callgrind on a fresh copy of it. V8 runs in its predictable mode (one thread, a fixed garbage-collection
 * schedule, fixed seeds), so a run counts the same instructions every time; what is counted is
 * every instruction of that process, JIT-compiled code and the collector included. On PostgreSQL
 * the server's own work, in another process, is not counted.
 * @module
 */
import { RECORDS } from "./fixture.js";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { CountSubject, CountTask } from "./count.js";
import { postgresDatabase, sqliteDatabase, type BenchDatabase } from "./databases.js";
import { HTTP_SCENARIOS } from "./scenarios.js";

/** The scenarios counted: all but sign-in, whose cost is the password hash's. */
export const COUNTED_SCENARIOS = HTTP_SCENARIOS.filter((scenario) => scenario.key !== "sign-in");

/** The key and title of the in-process row: `backend.as(user).data.posts.get` against the raw statement. */
export const LOCAL_ROW = { key: "local-get", title: "in-process get: backend.as(user).data.posts.get" } as const;

/** How much is counted. */
export interface CountSettings {
  /** Uncounted requests before each scenario's counted ones. */
  readonly warmup: number;
  /** Counted requests of each scenario. */
  readonly count: number;
  /** The seed of the random ids. */
  readonly seed: number;
  /** Processes under valgrind at once. */
  readonly jobs: number;
  /** Only these scenario keys (each then counted alone in its process); all when absent. */
  readonly only?: readonly string[];
  /** A folder to keep each counted phase's callgrind file in. */
  readonly keep?: string;
}

/** How a figure's requests reach the servers: Hono's `app.fetch`, a `node:http` server, or none. */
export type CountedMount = "hono" | "node" | "in-process";

/** One row: a scenario on a dialect and a mount, its baseline and cimiento, in instructions per request. */
export interface InstructionFigure {
  readonly dialect: "sqlite" | "postgres";
  /** Absent in results counted before `node:http` was: `hono`, or `in-process` for `local-get`. */
  readonly mount?: CountedMount;
  readonly scenario: string;
  readonly title: string;
  /**
   * Hono with prepared statements, or `node:http` with them (for `local-get`, the prepared
   * statement alone). On `node:http` the count includes the client's side of the loopback
   * connection, the same for both servers but for the longer answers' headers it reads.
   */
  readonly raw: number;
  /** cimiento in Hono, or on `node:http` (for `local-get`, `backend.as(user).data.posts.get`). */
  readonly cimiento: number;
  /** `raw / cimiento`: the share of the baseline's work in cimiento's, 1 at best. */
  readonly ratio: number;
}

/** What `bench/results/instructions.json` holds. */
export interface InstructionResults {
  readonly measuredAt: string;
  readonly node: string;
  readonly valgrind: string;
  readonly v8Flags: readonly string[];
  readonly warmup: number;
  readonly count: number;
  readonly seed: number;
  readonly figures: readonly InstructionFigure[];
}

/** The committed results. */
export const RESULTS_FILE = fileURLToPath(new URL("./results/instructions.json", import.meta.url));

/**
 * Uncounted requests before each scenario's counted ones, by default: enough for V8 to have
 * optimised most of what a request runs (after 300, most of the action's count was V8
 * compiling; after 10,000 instead of 3,000 it counts 3.5% fewer).
 */
export const WARMUP = 3000;

/**
 * What is left out of the count, as functions entered: V8's compilers (its runtime's entries to
 * them: lazy, baseline and optimizing) and the old generation's collections (incremental
 * marking, mark-compact, sweeping, the write barrier's marking). When a function gets
 * optimised, and when the old generation fills, are accidents of counters that a change
 * anywhere in a request moves, and of the process's history: counted, a compilation or a marking
 * cycle that fell in a phase swung its figure by tens or hundreds of thousands of instructions
 * per request, while the request's own work moved by a few thousand. The young generation's collections, which follow
 * from what each request allocates, are counted.
 */
export const NOT_COUNTED =
  /^v8::internal::(?:Runtime_(?:Compile|InstallBaselineCode)|MarkCompactCollector::|IncrementalMarking::|Sweeper::|MarkingBarrier::|WriteBarrier::Marking|Heap::(?:StartIncrementalMarking|FinalizeIncrementalMarking|MarkCompact|CompleteSweeping))/;

/**
 * The instructions a dump counts, but those of `NOT_COUNTED`: its total less what its calls into
 * them cost, with all they called (the cost line after a `calls=` line is inclusive), from
 * callers that are not themselves left out.
 */
export function countedInstructions(text: string): number {
  const totals = /^totals:\s*(\d+)/m.exec(text) ?? /^summary:\s*(\d+)/m.exec(text);
  if (totals === null) throw new Error("A callgrind dump without totals.");
  let left = 0;
  let caller = "";
  let callee = "";
  let call = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("fn=")) caller = line.slice(3);
    else if (line.startsWith("cfn=")) callee = line.slice(4);
    else if (line.startsWith("calls=")) call = true;
    else if (call && /^[+\-*\d]/.test(line)) {
      call = false;
      if (NOT_COUNTED.test(callee) && !NOT_COUNTED.test(caller)) left += Number(line.trim().split(/\s+/)[1] ?? 0);
    }
  }
  return Number(totals[1]) - left;
}

/** V8 in its predictable mode, with the collector callable between phases. */
const V8_FLAGS = ["--expose-gc", "--predictable", "--predictable-gc-schedule", "--random-seed=1", "--hash-seed=1"];
const BUNDLE = fileURLToPath(new URL("./.count.mjs", import.meta.url));

/** Bundles count.ts to plain JavaScript beside it, so that no TypeScript loader runs under valgrind. */
async function bundle(): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL("./count.ts", import.meta.url))],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
}

function output(command: string, args: string[], cwd?: string): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...(cwd === undefined ? {} : { cwd }) });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, text }));
  });
}

/** The instructions of each of the task's items, per request, counted in one process under callgrind. */
async function countProcess(task: CountTask, folder: string, name: string, keep: string | undefined): Promise<number[]> {
  const prefix = join(folder, name);
  const { code, text } = await output("valgrind", [
    "--tool=callgrind",
    // V8 writes and rewrites its machine code in anonymous memory: have valgrind check it all.
    "--smc-check=all-non-file",
    "--dump-before=uv_os_getpriority",
    `--callgrind-out-file=${prefix}.%p`,
    // Every dump names its functions in full (compressed, a name is defined in the first dump
    // that meets it), so that the calls into what is not counted can be found in it.
    "--compress-strings=no",
    "--compress-pos=no",
    process.execPath,
    // A kept run also maps V8's machine code to its functions (/tmp/perf-<pid>.map), kept beside.
    ...(keep === undefined ? [] : ["--perf-basic-prof"]),
    ...V8_FLAGS,
    BUNDLE,
    JSON.stringify(task),
  ], folder);
  if (code !== 0) throw new Error(`The counting process ${name} failed (${code}):\n${text.split("\n").slice(-30).join("\n")}`);
  const dumps = new Map<number, { file: string; total: number }>();
  for (const file of readdirSync(folder)) {
    const match = /^(.+)\.\d+\.(\d+)$/.exec(file);
    if (match === null || join(folder, match[1]!) !== prefix) continue;
    const phase = Number(match[2]);
    // Only the counted phases (even dumps) are read: a warm-up's dump is large.
    if (phase % 2 === 0) dumps.set(phase, { file: join(folder, file), total: countedInstructions(readFileSync(join(folder, file), "utf8")) });
  }
  // With INSTR_KEEP, V8 wrote the map of the process's machine code to /tmp: it is moved beside the phases.
  const pid = /\.(\d+)\.\d+$/.exec(dumps.values().next().value?.file ?? "")?.[1];
  const map = `/tmp/perf-${pid}.map`;
  const perRequest = task.items.map((item, j) => {
    const dump = dumps.get(2 * j + 2);
    if (dump === undefined) throw new Error(`Callgrind wrote no counted phase for ${name} ${item}.`);
    if (keep !== undefined) copyFileSync(dump.file, join(keep, `${name}-${item}.callgrind`));
    return dump.total / task.count;
  });
  if (keep !== undefined && existsSync(map)) {
    copyFileSync(map, join(keep, `${name}.perf.map`));
    rmSync(map);
  }
  return perRequest;
}

/** Runs `jobs` of `work` at a time, in order of start. */
async function pool<T>(work: (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const results: T[] = new Array(work.length);
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const at = next++;
      results[at] = await work[at]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, work.length)) }, worker));
  return results;
}

/** Counts every scenario, and the in-process get, on one seeded database. */
async function countDatabase(database: BenchDatabase, settings: CountSettings, log: (line: string) => void): Promise<InstructionFigure[]> {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-instructions-"));
  try {
    const idsFile = join(folder, "ids.json");
    writeFileSync(idsFile, JSON.stringify({ ids: database.ids, caller: database.caller }));
    const scenarios = COUNTED_SCENARIOS.map((scenario) => scenario.key).filter((key) => settings.only === undefined || settings.only.includes(key));
    const subjects: { subject: CountSubject; items: string[] }[] = [
      { subject: "hono-cimiento", items: scenarios },
      { subject: "hono-raw", items: scenarios },
      { subject: "node-cimiento", items: scenarios },
      { subject: "node-raw", items: scenarios },
      { subject: "local", items: ["raw", "as"] },
    ];
    const counted = await pool(
      subjects.map(({ subject, items }) => async () => {
        const target = await database.copy();
        try {
          const started = Date.now();
          const { warmup, count, seed } = settings;
          const task: CountTask = { subject, items, dialect: database.dialect, target, idsFile, warmup, count, seed };
          const perRequest = await countProcess(task, folder, `${database.dialect}-${subject}`, settings.keep);
          log(`  ${database.dialect} ${subject}: counted in ${Math.round((Date.now() - started) / 1000)} s`);
          return new Map(items.map((item, j) => [item, perRequest[j]!]));
        } finally {
          await database.discard(target);
        }
      }),
      settings.jobs,
    );
    const [cimiento, raw, nodeCimiento, nodeRaw, local] = counted as Map<string, number>[] as [
      Map<string, number>,
      Map<string, number>,
      Map<string, number>,
      Map<string, number>,
      Map<string, number>,
    ];
    const counts = COUNTED_SCENARIOS.filter((scenario) => cimiento.has(scenario.key));
    const row = (mount: CountedMount, scenario: string, title: string, rawCount: number, cimientoCount: number): InstructionFigure => ({
      dialect: database.dialect,
      mount,
      scenario,
      title,
      raw: Math.round(rawCount),
      cimiento: Math.round(cimientoCount),
      ratio: Math.round((rawCount / cimientoCount) * 1000) / 1000,
    });
    return [
      ...counts.map((scenario) => row("hono", scenario.key, scenario.title, raw.get(scenario.key)!, cimiento.get(scenario.key)!)),
      ...counts.map((scenario) => row("node", scenario.key, scenario.title, nodeRaw.get(scenario.key)!, nodeCimiento.get(scenario.key)!)),
      row("in-process", LOCAL_ROW.key, LOCAL_ROW.title, local.get("raw")!, local.get("as")!),
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Counts instructions per request on SQLite, and on PostgreSQL when `postgresUrl` is given, with
 * the given settings.
 */
export async function countInstructions(
  settings: CountSettings,
  dialects: readonly ("sqlite" | "postgres")[],
  postgresUrl: string | undefined,
  log: (line: string) => void = console.log,
): Promise<InstructionResults> {
  const valgrind = await output("valgrind", ["--version"]);
  if (valgrind.code !== 0) throw new Error("valgrind is not installed: the instruction counts need it.");
  await bundle();
  const figures: InstructionFigure[] = [];
  for (const dialect of dialects) {
    if (dialect === "postgres" && postgresUrl === undefined) {
      log("postgres: skipped (CIMIENTO_TEST_POSTGRES_URL is not set)");
      continue;
    }
    const database = dialect === "sqlite" ? await sqliteDatabase() : await postgresDatabase(postgresUrl!);
    try {
      log(`${dialect}: ${RECORDS} records seeded (${database.ids.length} readable by the caller); counting under callgrind`);
      figures.push(...(await countDatabase(database, settings, log)));
    } finally {
      await database.drop();
    }
  }
  return {
    measuredAt: new Date().toISOString(),
    node: process.version,
    valgrind: valgrind.text.trim(),
    v8Flags: V8_FLAGS,
    warmup: settings.warmup,
    count: settings.count,
    seed: settings.seed,
    figures,
  };
}

/**
 * Settings from the environment: `INSTR_WARMUP`, `INSTR_COUNT`, `INSTR_SEED`, `INSTR_JOBS`,
 * `INSTR_ONLY` (comma-separated scenario keys), `INSTR_KEEP` (a folder for the callgrind files).
 */
export function settingsFromEnv(defaults: Omit<CountSettings, "jobs"> = { warmup: WARMUP, count: 300, seed: 1 }): CountSettings {
  const env = process.env;
  const only = env["INSTR_ONLY"]?.split(",").filter(Boolean);
  const keep = env["INSTR_KEEP"];
  if (keep !== undefined) mkdirSync(keep, { recursive: true });
  return {
    ...(keep === undefined ? {} : { keep }),
    warmup: Number(env["INSTR_WARMUP"] ?? defaults.warmup),
    count: Number(env["INSTR_COUNT"] ?? defaults.count),
    seed: Number(env["INSTR_SEED"] ?? defaults.seed),
    jobs: Number(env["INSTR_JOBS"] ?? 2),
    ...(only === undefined ? {} : { only }),
  };
}

/** A figure's mount, also of results counted before the mount was recorded. */
export function mountOf(figure: InstructionFigure): CountedMount {
  return figure.mount ?? (figure.scenario === LOCAL_ROW.key ? "in-process" : "hono");
}

function thousands(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** The results as a Markdown table. */
export function instructionTable(results: InstructionResults): string {
  const lines = [
    `Instructions per request (callgrind, Node ${results.node}, ${results.warmup} warm-up + ${results.count} counted requests per scenario)`,
    "",
    "| Database | Mount | Scenario | baseline (raw statements) | cimiento | raw / cimiento |",
    "|---|---|---|--:|--:|--:|",
  ];
  for (const figure of results.figures) {
    lines.push(`| ${figure.dialect} | ${mountOf(figure)} | ${figure.title} | ${thousands(figure.raw)} | ${thousands(figure.cimiento)} | ${figure.ratio.toFixed(2)} |`);
  }
  return lines.join("\n");
}
