/** What the reliability suites share: their programs, bundled once, and a child process started from one. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { bundleProgram } from "../setup/programs.js";

const root = join(import.meta.dirname, "..", "..");

/** Bundles `test/reliability/programs/<name>.ts`; returns its file and how to remove it. */
export function bundleReliabilityProgram(name: string): ReturnType<typeof bundleProgram> {
  return bundleProgram(join(import.meta.dirname, "programs", `${name}.ts`));
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
