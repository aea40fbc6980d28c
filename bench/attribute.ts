/**
 * `npx tsx bench/attribute.ts <kept.callgrind> [--by=file] [--top=40]`: where a counted phase's
 * instructions go, by JavaScript function. Reads a phase kept by `INSTR_KEEP` and the map of
 * V8's machine code kept beside it (`<subject>.perf.map`). Every instruction of a function that is
 * not JavaScript (a builtin, V8's runtime, SQLite) is given to the JavaScript functions that
 * called it, in proportion to what each call cost; the collector and V8's interrupts have lines
 * of their own, and what the count leaves out (V8's compilers, the old generation's
 * collections) is left out here too. `--by=file` sums by module (a package, a Node internal, cimiento's
 * build, the benchmark's own code). The figures are per request.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NOT_COUNTED } from "./callgrind.js";

const args = process.argv.slice(2);
const file = args.find((arg) => !arg.startsWith("--"));
if (file === undefined) throw new Error("Usage: npx tsx bench/attribute.ts <kept.callgrind> [--by=file] [--top=40]");
const byFile = args.includes("--by=file");
const top = Number(args.find((arg) => arg.startsWith("--top="))?.slice(6) ?? 40);

const text = readFileSync(file, "utf8");
const count = (JSON.parse(/^cmd:.*? (\{.*\})$/m.exec(text)?.[1] ?? "{}") as { count?: number }).count ?? 1;
// <dialect>-<subject>-<item>.callgrind beside <dialect>-<subject>.perf.map
const mapName = readdirSync(dirname(file)).find((name) => name.endsWith(".perf.map") && basename(file).startsWith(`${name.slice(0, -".perf.map".length)}-`));
if (mapName === undefined) throw new Error(`No map of V8's machine code beside ${file}: keep the run with INSTR_KEEP.`);
const mapFile = join(dirname(file), mapName);

/** The code map: start, size and name, by start; a later entry at the same start is newer. */
const code = readFileSync(mapFile, "utf8")
  .trim()
  .split("\n")
  .map((line) => {
    const [start, size, ...name] = line.split(" ");
    return { start: parseInt(start!, 16), size: parseInt(size!, 16), name: name.join(" ") };
  })
  .sort((a, b) => a.start - b.start);

/** A function's name, JavaScript ones by the map (prefixed `JS `), made shorter. */
function named(name: string): string {
  const address = /^0x([0-9a-f]+)/.exec(name);
  if (address === null) return name;
  const at = parseInt(address[1]!, 16);
  let low = 0;
  let high = code.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (code[middle]!.start <= at) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  const entry = found < 0 ? undefined : code[found]!;
  if (entry === undefined || at >= entry.start + entry.size) return name;
  return `JS ${entry.name.replace(/^JS:[*^~]?/, "").replace(/file:\/\/\/.*?\/(bench\/\.build\/)?([^/]+\.m?js)/, "$2").replace(/chunk-\w+/, "cimiento")}`;
}

/** What the count leaves out (V8's compilers, the old generation's collections), and all they call. */
const LEFT_OUT = "(left out)";
/**
 * The collector and V8's interrupts have figures of their own: the function whose allocation
 * or loop happened to start them would otherwise be given them.
 */
const COLLECTING = /^v8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompactCollector|MinorMarkCompactCollector|Sweeper|IncrementalMarking|GCTracer)/;
const INTERRUPTS = /^v8::internal::(StackGuard::HandleInterrupts|Runtime_StackGuard|Runtime_BytecodeBudgetInterrupt)/;
const own = new Map<string, number>();
/** callee -> caller -> what its calls cost, all they called included. */
const calls = new Map<string, Map<string, number>>();
let fn = "";
let callee = "";
let call = false;
for (const line of text.split("\n")) {
  if (line.startsWith("fn=")) fn = named(line.slice(3));
  else if (line.startsWith("cfn=")) callee = named(line.slice(4));
  else if (line.startsWith("calls=")) call = true;
  else if (/^[+\-*\d]/.test(line)) {
    const cost = Number(line.trim().split(/\s+/)[1] ?? 0);
    if (call) {
      call = false;
      if (callee === fn) continue;
      let callers = calls.get(callee);
      if (callers === undefined) calls.set(callee, (callers = new Map()));
      callers.set(fn, (callers.get(fn) ?? 0) + cost);
    } else own.set(fn, (own.get(fn) ?? 0) + cost);
  }
}

/** The JavaScript functions a function's instructions are given to, each with its share. */
const shares = new Map<string, Map<string, number>>();
function sharesOf(name: string, path: Set<string>): Map<string, number> {
  if (name.startsWith("JS ")) return new Map([[name, 1]]);
  if (NOT_COUNTED.test(name)) return new Map([[LEFT_OUT, 1]]);
  if (COLLECTING.test(name)) return new Map([["(the collector)", 1]]);
  if (INTERRUPTS.test(name)) return new Map([["(V8's interrupts)", 1]]);
  const known = shares.get(name);
  if (known !== undefined) return known;
  path.add(name);
  const result = new Map<string, number>();
  const callers = [...(calls.get(name) ?? [])].filter(([caller]) => !path.has(caller));
  const total = callers.reduce((sum, [, cost]) => sum + cost, 0);
  for (const [caller, cost] of callers) {
    for (const [js, share] of sharesOf(caller, path)) result.set(js, (result.get(js) ?? 0) + (share * cost) / total);
  }
  path.delete(name);
  if (result.size === 0) result.set(`(not called from JavaScript) ${name}`, 1);
  shares.set(name, result);
  return result;
}

const given = new Map<string, number>();
let all = 0;
for (const [name, cost] of own) {
  for (const [js, share] of sharesOf(name, new Set())) {
    if (js === LEFT_OUT) continue;
    all += cost * share;
    const key = byFile ? (/ ([^ ]+?):\d+:\d+$/.exec(js)?.[1]?.replace(/^node_modules\/([^/]+).*/, "$1") ?? js) : js;
    given.set(key, (given.get(key) ?? 0) + cost * share);
  }
}
console.log(`${Math.round(all / count).toLocaleString("en-US")} instructions per request, what the count leaves out aside (${count} requests)\n`);
for (const [name, cost] of [...given].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${Math.round(cost / count).toLocaleString("en-US").padStart(9)}  ${name.slice(0, 150)}`);
}
