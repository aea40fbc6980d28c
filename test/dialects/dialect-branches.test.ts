/**
 * Shared code asks the dialect (its capabilities and methods, src/dialects/dialect.ts) instead
 * of branching on its name: only src/dialects/ may compare a value with a dialect's name or look
 * something up by it, so that a new dialect is a new folder there and nothing else.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const src = join(root, "src");

const BRANCHES: readonly RegExp[] = [
  // runtime.name === "postgres", dialect !== "sqlite", "sqlite" == x
  /(?:===|!==|==|!=)\s*["'`](?:sqlite|postgres)["'`]/,
  /["'`](?:sqlite|postgres)["'`]\s*(?:===|!==|==|!=)/,
  // switch (runtime.name) { case "sqlite": ... }
  /\bcase\s+["'`](?:sqlite|postgres)["'`]/,
  // TABLE[runtime.name], TABLE[database.dialect], Record<DialectName, ...>
  /\[\s*(?:[\w.]*\bruntime\.name|[\w.]*\bdialect)\s*\]/,
  /Record<\s*DialectName\b/,
  // "sqlite" in x, x.includes("postgres")
  /["'`](?:sqlite|postgres)["'`]\s+in\b/,
  /\.includes\(\s*["'`](?:sqlite|postgres)["'`]\s*\)/,
];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The lines of `text` that branch on a dialect's name, as `file:line: text`. */
function dialectBranches(file: string, text: string): string[] {
  return text.split("\n").flatMap((line, i) => (BRANCHES.some((pattern) => pattern.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

test("the patterns find each way of branching on a dialect's name", () => {
  const samples = [
    'if (runtime.name === "postgres") lock();',
    'const strict = dialect !== "sqlite";',
    'case "sqlite":',
    "const introspect = INTROSPECTORS[runtime.name];",
    "const types = SQL_TYPES[dialect][kind];",
    "const TYPES: Record<DialectName, string> = {};",
    'if (["sqlite"].includes("sqlite")) {}',
  ];
  for (const sample of samples) expect(dialectBranches("sample.ts", sample), sample).toHaveLength(1);
  expect(dialectBranches("sample.ts", 'let key = runtime.name;\nrow[column.name] = 1;\nconst word = "SQLite cannot add one";')).toEqual([]);
});

test("no file outside src/dialects/ branches on a dialect's name", () => {
  const found = sourceFiles(src)
    .filter((file) => !relative(src, file).startsWith(`dialects/`))
    .flatMap((file) => dialectBranches(relative(root, file), readFileSync(file, "utf8")));
  expect(found).toEqual([]);
});
