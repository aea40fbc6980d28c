/**
 * `npm run bench:check`: counts instructions per request again (callgrind.ts), with the settings
 * of the committed `bench/results/instructions.json`, and compares each cimiento figure with the
 * committed one. Exits with 1, naming the scenarios, when one grew by more than the tolerance
 * (`INSTR_TOLERANCE`, in percent, default 3); prints every change, improvements too. PostgreSQL
 * is checked when the committed results have it and `CIMIENTO_TEST_POSTGRES_URL` is set.
 *
 * A baseline that moved too means the ground moved (another Node, another dependency): the
 * figures are then compared with a warning, and the results are best measured again with
 * `npm run bench:instructions` before the change under test.
 * @module
 */
import { readFileSync } from "node:fs";
import { countInstructions, instructionTable, mountOf, RESULTS_FILE, settingsFromEnv, type InstructionFigure, type InstructionResults } from "./callgrind.js";

const tolerance = Number(process.env["INSTR_TOLERANCE"] ?? 3);
const committed = JSON.parse(readFileSync(RESULTS_FILE, "utf8")) as InstructionResults;
const dialects = [...new Set(committed.figures.map((figure) => figure.dialect))];
const settings = settingsFromEnv({ warmup: committed.warmup, count: committed.count, seed: committed.seed });
if (settings.warmup !== committed.warmup || settings.count !== committed.count || settings.seed !== committed.seed) {
  console.log(`Note: counting with other settings than the committed results (${committed.warmup} + ${committed.count}, seed ${committed.seed}).`);
}
if (process.version !== committed.node) {
  console.log(`Note: Node ${process.version} here, ${committed.node} in the committed results: the baselines will say how far that moves.`);
}

const current = await countInstructions(settings, dialects, process.env["CIMIENTO_TEST_POSTGRES_URL"]);
console.log(`\n${instructionTable(current)}\n`);

const percent = (now: number, before: number) => ((now - before) / before) * 100;
const signed = (value: number) => `${value >= 0 ? "+" : ""}${value.toFixed(1)}%`;
const key = (figure: InstructionFigure) => `${figure.dialect} ${mountOf(figure)} ${figure.scenario}`;
const before = new Map(committed.figures.map((figure) => [key(figure), figure]));

const grew: string[] = [];
const improved: string[] = [];
const moved: string[] = [];
for (const figure of current.figures) {
  const old = before.get(key(figure));
  if (old === undefined) {
    console.log(`${key(figure).padEnd(30)} new: not in the committed results`);
    continue;
  }
  const change = percent(figure.cimiento, old.cimiento);
  const baseline = percent(figure.raw, old.raw);
  console.log(
    `${key(figure).padEnd(30)} cimiento ${old.cimiento.toLocaleString("en-US").padStart(11)} -> ${figure.cimiento.toLocaleString("en-US").padStart(11)} (${signed(change).padStart(7)})   baseline ${signed(baseline).padStart(7)}`,
  );
  if (change > tolerance) grew.push(`${key(figure)} (${signed(change)})`);
  else if (change < -tolerance) improved.push(`${key(figure)} (${signed(change)})`);
  if (Math.abs(baseline) > tolerance) moved.push(`${key(figure)} (${signed(baseline)})`);
}

if (moved.length > 0) console.log(`\nWarning: baselines moved by more than ${tolerance}%: ${moved.join(", ")}. The ground changed, not only cimiento.`);
if (improved.length > 0) console.log(`\nImproved by more than ${tolerance}%: ${improved.join(", ")}.`);
if (grew.length > 0) {
  console.log(`\nGrew by more than ${tolerance}%: ${grew.join(", ")}.`);
  process.exitCode = 1;
} else {
  console.log(`\nNo cimiento figure grew by more than ${tolerance}%.`);
}
