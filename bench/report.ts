/**
 * The results: `bench/results/latest.json`, the tables in `docs/performance.md` (between its
 * markers), and the same tables on the console.
 * @module
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpFigure, HttpSettings } from "./http.js";
import type { LocalFigure } from "./local.js";
import { HTTP_SCENARIOS } from "./scenarios.js";
import { VARIANTS } from "./variants.js";

/** A speed target of the issue, checked against this run. */
export interface Target {
  readonly name: string;
  readonly dialect: "sqlite" | "postgres";
  readonly ratio: number;
  /** The smallest acceptable ratio (for "within N times": 1/N). */
  readonly atLeast: number;
  readonly met: boolean;
}

/** Everything one run measured. */
export interface Results {
  readonly generatedAt: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGb: number; readonly platform: string };
  readonly versions: Record<string, string>;
  /** `pinning` in words (absent from results measured before the benchmark pinned its processes). */
  readonly settings: HttpSettings & { readonly localMilliseconds: number; readonly pinning?: string };
  readonly http: readonly (HttpFigure & {
    /** req/s over its baseline's (cimiento servers only: see `VARIANTS`). */
    readonly vsBaseline: number | null;
    /** The same from server CPU time per request: the baseline's over this one's. */
    readonly cpuVsBaseline: number | null;
    /** req/s over the `node:http` limit's. */
    readonly vsLimit: number | null;
  })[];
  readonly local: readonly (LocalFigure & { readonly vsRaw: number | null })[];
  readonly targets: readonly Target[];
}

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

function version(name: string): string {
  if (name === "cimiento") return (JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { version: string }).version;
  let folder = dirname(require.resolve(name));
  // Walk up to the package's own package.json (the entry may live in a subfolder).
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(`${folder}/package.json`, "utf8")) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version !== undefined) return manifest.version;
    } catch {
      // not here
    }
    const parent = dirname(folder);
    if (parent === folder) return "unknown";
    folder = parent;
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** The HTTP scenarios with a target, and the least ratio each must reach against its baseline. */
const HTTP_TARGETS = [
  ["get", 0.8],
  ["list", 0.8],
  ["create", 0.7],
  ["action", 0.7],
  ["session", 0.8],
  ["get-session", 0.8],
] as const;

/** Puts the figures together with their ratios and the targets. */
export function collect(
  http: readonly HttpFigure[],
  local: readonly LocalFigure[],
  settings: Results["settings"],
): Results {
  const httpOut = http.map((figure) => {
    const of = (variant: string | undefined) =>
      http.find((other) => other.dialect === figure.dialect && other.scenario === figure.scenario && other.variant === variant);
    const baseline = of(VARIANTS.find((one) => one.variant === figure.variant)?.baseline);
    const limit = of("node-raw");
    return {
      ...figure,
      vsBaseline: baseline ? round2(figure.requestsPerSecond / baseline.requestsPerSecond) : null,
      cpuVsBaseline: baseline ? round2(baseline.cpuUsPerRequest / figure.cpuUsPerRequest) : null,
      vsLimit: figure.variant !== "node-raw" && limit ? round2(figure.requestsPerSecond / limit.requestsPerSecond) : null,
    };
  });
  const localOut = local.map((figure) => {
    const raw = local.find((other) => other.dialect === figure.dialect && other.operation === figure.operation && other.variant === "raw");
    return { ...figure, vsRaw: figure.variant !== "raw" && raw ? round2(figure.opsPerSecond / raw.opsPerSecond) : null };
  });
  const targets: Target[] = [];
  for (const dialect of ["sqlite", "postgres"] as const) {
    for (const [scenario, atLeast] of HTTP_TARGETS) {
      for (const variant of ["hono-cimiento", "node-cimiento"] as const) {
        const figure = httpOut.find((f) => f.dialect === dialect && f.scenario === scenario && f.variant === variant);
        if (figure?.vsBaseline == null) continue;
        const versus = variant === "hono-cimiento" ? "toHono / Hono + raw" : "toNodeHandler / node:http + raw";
        targets.push({ name: `HTTP ${scenario}: ${versus} (req/s)`, dialect, ratio: figure.vsBaseline, atLeast, met: figure.vsBaseline >= atLeast });
        if (figure.cpuVsBaseline !== null) {
          targets.push({ name: `HTTP ${scenario}: ${versus} (server CPU per request)`, dialect, ratio: figure.cpuVsBaseline, atLeast, met: figure.cpuVsBaseline >= atLeast });
        }
      }
    }
    const figure = localOut.find((f) => f.dialect === dialect && f.operation === "get" && f.variant === "as");
    if (figure?.vsRaw != null) {
      targets.push({ name: "in-process get (backend.as(user)) / raw statement", dialect, ratio: figure.vsRaw, atLeast: 0.7, met: figure.vsRaw >= 0.7 });
    }
  }
  return {
    generatedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model.trim() ?? "unknown",
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      platform: `${process.platform} ${process.arch}`,
    },
    versions: {
      node: process.version,
      ...Object.fromEntries(["cimiento", "kysely", "better-sqlite3", "pg", "hono", "@hono/node-server", "express", "zod", "autocannon", "tinybench"].map((name) => [name, version(name)])),
    },
    settings,
    http: httpOut,
    local: localOut,
    targets,
  };
}

const number = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const ratio = (value: number | null) => (value === null ? "" : `${value.toFixed(2)}×`);

/** The tables, in Markdown. */
export function tables(results: Results): string {
  const lines: string[] = [];
  const { machine, versions, settings } = results;
  lines.push(
    `Measured ${results.generatedAt.slice(0, 16).replace("T", " ")} UTC on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB (${machine.platform}).`,
    "",
    `Versions: ${Object.entries(versions).map(([name, value]) => `${name} ${value}`).join(", ")}.`,
    "",
    `HTTP: autocannon, ${settings.connections} connections, ${settings.warmupSeconds} s warm-up then ${settings.seconds} s measured, each server in its own process on a fresh copy of the database (${settings.pinning ?? "server and load generator unpinned"}). In-process: tinybench, ${settings.localMilliseconds} ms per task.`,
  );
  for (const dialect of ["sqlite", "postgres"] as const) {
    const http = results.http.filter((figure) => figure.dialect === dialect);
    if (http.length === 0) continue;
    lines.push("", `### HTTP, ${dialect === "sqlite" ? "SQLite" : "PostgreSQL"}`, "");
    lines.push("| Scenario | Server | req/s | p50 ms | p99 ms | errors | peak RSS MB | CPU µs/req | vs its baseline | (by CPU) | vs limit |");
    lines.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (const scenario of HTTP_SCENARIOS) {
      for (const { variant, label } of VARIANTS) {
        const figure = http.find((f) => f.scenario === scenario.key && f.variant === variant);
        if (figure === undefined) continue;
        lines.push(
          `| ${scenario.title} | ${label} | ${number(figure.requestsPerSecond)} | ${ms(figure.p50Ms)} | ${ms(figure.p99Ms)} | ${figure.errors} | ${figure.peakRssMb} | ${figure.cpuUsPerRequest.toFixed(0)} | ${ratio(figure.vsBaseline)} | ${ratio(figure.cpuVsBaseline)} | ${ratio(figure.vsLimit)} |`,
        );
      }
    }
    const local = results.local.filter((figure) => figure.dialect === dialect);
    if (local.length === 0) continue;
    lines.push("", `### In-process, ${dialect === "sqlite" ? "SQLite" : "PostgreSQL"}`, "");
    lines.push("| Operation | Caller | ops/s | p50 µs | p99 µs | vs raw |");
    lines.push("|---|---|--:|--:|--:|--:|");
    const callers = { raw: "raw prepared statement", system: "backend.system.data.posts", as: "backend.as(user).data.posts" };
    for (const figure of local) {
      lines.push(
        `| ${figure.operation} | ${callers[figure.variant]} | ${number(figure.opsPerSecond)} | ${figure.p50Us.toFixed(1)} | ${figure.p99Us.toFixed(1)} | ${ratio(figure.vsRaw)} |`,
      );
    }
  }
  lines.push("", "### Targets", "", "| Target | Database | Ratio | Needs | Met | Short by |", "|---|---|--:|--:|---|--:|");
  for (const target of results.targets) {
    const short = target.met ? "" : `${Math.round((1 - target.ratio / target.atLeast) * 100)}%`;
    lines.push(
      `| ${target.name} | ${target.dialect} | ${target.ratio.toFixed(2)} | ≥ ${target.atLeast.toFixed(2)} | ${target.met ? "yes" : "**no**"} | ${short} |`,
    );
  }
  return lines.join("\n");
}

const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

/** Writes `bench/results/latest.json` and the tables of `docs/performance.md`. */
export function write(results: Results): void {
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  const page = `${root}docs/performance.md`;
  const text = readFileSync(page, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md lacks the ${START} ... ${END} markers.`);
  writeFileSync(page, `${text.slice(0, start + START.length)}\n${tables(results)}\n${text.slice(end)}`);
}
