/**
 * The import graph of src/ (type imports included): which folder imports which, the files that
 * import each other in a circle, and the imports that go up the layers. Exits with 1 when there
 * is a circle or an upward import. `npx tsx scripts/import-graph.ts [folder]`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers of src/, from the ground up, by folder (or top-level file). A file imports only from
 * its own folder and from folders of lower layers; folders of one layer are peers and never import
 * each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // ApiError, ERROR_CODES, defineErrors, validation issues; optional packages loaded when chosen.
  ["errors", "support"],
  // What user code declares and holds: collections, fields, rules, hooks, jobs, actions, scopes, the auth API.
  ["define"],
  // The model, built once from the collections; the rules of stored values.
  ["model"],
  // SQLite and PostgreSQL: capabilities, DDL, introspection, value conversion, drivers.
  ["dialects"],
  // Rules compiled per caller.
  ["access"],
  // The data engine: context, statement keys, planning, reads, writes, hooks' calls.
  ["data"],
  // Schema sync and versioned migrations, asking the dialect.
  ["migrate"],
  // The services, peers: actions, jobs, built-in auth, realtime.
  ["actions", "jobs", "auth", "realtime"],
  // The OpenAPI document, built from the model, the actions and built-in auth's options.
  ["openapi"],
  // The Fetch handler.
  ["http"],
  // createBackend and scopes: the one place parts are wired together.
  ["backend"],
  // The HTTP client: types from the layers below, nothing of theirs at run time.
  ["client"],
  // The entries of the exports map.
  ["hosts", "testing", "index.ts", "types.ts", "client.ts"],
];

export interface ImportGraph {
  /** Each folder (or top-level file) and the others it imports. */
  readonly folders: ReadonlyMap<string, ReadonlySet<string>>;
  /** The groups of files that import each other in a circle. */
  readonly circles: readonly (readonly string[])[];
  /** The imports that reach a folder of a higher layer or a peer: "from -> to". */
  readonly upward: readonly string[];
}

/** Reads every `.ts` file under `root` and returns its import graph, checked against `layers`. */
export function importGraph(root: string, layers: readonly (readonly string[])[] = LAYERS): ImportGraph {
  const files: string[] = [];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) files.push(path);
    }
  };
  walk(root);

  // Each file's relative imports and re-exports, type-only ones included.
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
  const layer = new Map<string, number>();
  layers.forEach((members, index) => members.forEach((member) => layer.set(member, index)));

  const folders = new Map<string, Set<string>>();
  const upward: string[] = [];
  for (const [file, imported] of edges) {
    for (const target of imported) {
      const from = folder(file);
      const to = folder(target);
      if (from === to) continue;
      if (!folders.has(from)) folders.set(from, new Set());
      folders.get(from)!.add(to);
      const below = (layer.get(to) ?? Infinity) < (layer.get(from) ?? -Infinity);
      if (!below) upward.push(`${name(file)} -> ${name(target)}`);
    }
  }

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
    if (component.length > 1 || (edges.get(file) ?? []).includes(file)) circles.push(component.map(name).sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return { folders, circles, upward: upward.sort() };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { folders, circles, upward } = importGraph(resolve(process.argv[2] ?? "src"));
  for (const [from, to] of [...folders].sort()) console.log(`${from.padEnd(14)} -> ${[...to].sort().join(" ")}`);
  console.log(`\n${circles.length} circle(s) of files`);
  for (const circle of circles) console.log(`- ${circle.length} files: ${circle.join(" ")}`);
  console.log(`${upward.length} import(s) up the layers or between peers`);
  for (const line of upward) console.log(`- ${line}`);
  if (circles.length > 0 || upward.length > 0) process.exit(1);
}
