/**
 * Prints the import graph of src/ (type imports included): which folder imports which, and the
 * files that import each other in a circle. `npx tsx scripts/import-graph.ts [folder]`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(process.argv[2] ?? "src");
const files: string[] = [];
const walk = (folder: string): void => {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith(".ts")) files.push(path);
  }
};
walk(root);

/** Each file's relative imports and re-exports, type-only ones included. */
const edges = new Map<string, string[]>();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  edges.set(
    file,
    importedFiles.filter(({ fileName }) => fileName.startsWith(".")).map(({ fileName }) => resolve(dirname(file), fileName.replace(/\.js$/, ".ts"))),
  );
}
const name = (file: string) => relative(root, file);
const folder = (file: string) => name(file).split("/")[0]!;

const folders = new Map<string, Set<string>>();
for (const [file, imported] of edges) {
  for (const target of imported) {
    if (folder(file) === folder(target)) continue;
    if (!folders.has(folder(file))) folders.set(folder(file), new Set());
    folders.get(folder(file))!.add(folder(target));
  }
}
for (const [from, to] of [...folders].sort()) console.log(`${from.padEnd(14)} -> ${[...to].sort().join(" ")}`);

// Strongly connected components (Tarjan): every component of more than one file is a circle.
let next = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
const circles: string[][] = [];
const visit = (file: string): void => {
  index.set(file, next);
  low.set(file, next++);
  stack.push(file);
  onStack.add(file);
  for (const target of edges.get(file) ?? []) {
    if (!edges.has(target)) continue;
    if (!index.has(target)) {
      visit(target);
      low.set(file, Math.min(low.get(file)!, low.get(target)!));
    } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
  }
  if (low.get(file) !== index.get(file)) return;
  const component: string[] = [];
  let member: string;
  do {
    member = stack.pop()!;
    onStack.delete(member);
    component.push(member);
  } while (member !== file);
  if (component.length > 1) circles.push(component);
};
for (const file of files) if (!index.has(file)) visit(file);
console.log(`\n${circles.length} circle(s) of files`);
for (const circle of circles) console.log(`- ${circle.length} files: ${circle.map(name).sort().join(" ")}`);
