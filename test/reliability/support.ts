/**
 * What the reliability suites share: their programs bundled once (in the repository, so that
 * their packages resolve; a process then starts in about half the time it takes through tsx),
 * and a child process started from one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..", "..");

/** Bundles `test/reliability/programs/<name>.ts`; returns its file and how to remove it. */
export async function bundleProgram(name: string): Promise<{ file: string; remove(): void }> {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  const folder = mkdtempSync(join(root, ".reliability-"));
  const file = join(folder, `${name}.mjs`);
  await build({
    entryPoints: [join(import.meta.dirname, "programs", `${name}.ts`)],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    tsconfig: join(root, "tsconfig.json"),
    // cimiento comes from src through the tsconfig paths; its dependencies stay packages.
    external: Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }),
    logLevel: "warning",
  });
  return { file, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** A program running in a child process. */
export interface Child {
  readonly child: ChildProcess;
  /** What it printed after `ready ` (a port), once it did. */
  readonly ready: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it wrote to stderr. */
  stderr(): string;
}

/** Starts `file` with `options` (as JSON) in a child process. */
export function startProgram(file: string, options: unknown): Child {
  const child = spawn(process.execPath, [file, JSON.stringify(options)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let errors = "";
  child.stderr!.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const ready = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\S*)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`the program exited (${code ?? signal}) before it was ready:\n${errors}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited, stderr: () => errors };
}
