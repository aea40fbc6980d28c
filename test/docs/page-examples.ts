/**
 * The runner of a docs page's examples: the page's `ts` blocks form one program, in order; a
 * test file keeps them verbatim with checks in between, and this module compares them with the
 * page, type-checks the program in a program of its own (a page may declare `Register`, which
 * must not reach the project's other files) and runs it on every database.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, inject, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";

const root = join(import.meta.dirname, "..", "..");

/** A piece of the program: an example of the page (verbatim), or a check of what the page says. */
export type Part = { readonly kind: "example" | "check"; readonly code: string };
export const example = (code: string): Part => ({ kind: "example", code });
export const check = (code: string): Part => ({ kind: "check", code });

/** The `ts` code blocks of a Markdown page, in order. */
function examplesOf(page: string): string[] {
  const markdown = readFileSync(join(root, page), "utf8");
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

// What the program is given: the database (the page's `database`), `expect`, and `track`, which
// hands over the backends it opens so that they are closed whatever happens. Checks may also
// read `postgresUrl`, the test run's PostgreSQL database (or null).
const PRELUDE = `import type { DatabaseAdapter } from "cimiento";
import type { expect as Expect } from "vitest";
const { database, expect, track } = (globalThis as unknown as {
  __cimientoDocs: {
    database: DatabaseAdapter<"sqlite" | "postgres">;
    expect: typeof Expect;
    track: (backend: { close(): Promise<void> }) => void;
  };
}).__cimientoDocs;
`;

/** The page's examples and the checks, as one module. */
function compose(parts: readonly Part[]): string {
  let n = 0;
  const pieces = parts.map((part) => (part.kind === "example" ? `// ── example ${++n}\n${part.code}` : `// ── check\n${part.code}`));
  return `${PRELUDE}\n${pieces.join("\n")}\nexport {};\n`;
}

/**
 * Type-checks a module with the project's compiler options, in a program of its own (a page may
 * declare `Register`, which must not reach the project's other files). Returns the errors.
 */
function typeErrors(source: string): string[] {
  const config = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  const options = { ...ts.parseJsonConfigFileContent(config.config, ts.sys, root).options, noEmit: true };
  const file = join(root, "test", "docs", "__page__.ts");
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram({ rootNames: [file], options, host });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined
      ? `${diagnostic.file.fileName === file ? "page" : diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}: `
      : "";
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
  });
}

/** Runs a module on a database: written to a folder of its own, and imported. */
async function run(source: string, database: unknown): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-docs-"));
  const opened: { close(): Promise<void> }[] = [];
  symlinkSync(join(root, "node_modules"), join(folder, "node_modules"), "dir");
  writeFileSync(join(folder, "page.ts"), source);
  (globalThis as Record<string, unknown>)["__cimientoDocs"] = {
    database,
    expect,
    track: (backend: never) => opened.push(backend),
    postgresUrl: inject("postgresUrl"),
  };
  try {
    await import(join(folder, "page.ts"));
  } finally {
    for (const backend of opened) await backend.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The tests of a page: its examples are these, they type-check, and they run on every database. */
export function describePage(PAGE: string, program: readonly Part[]): void {
  describe(PAGE, () => {
    test("holds exactly these examples, in this order", () => {
      expect(examplesOf(PAGE)).toEqual(program.filter((part) => part.kind === "example").map((part) => part.code));
    });

    test("its examples type-check, with the Register they declare", () => {
      expect(typeErrors(compose(program))).toEqual([]);
    }, 120_000); // a whole program of its own: seconds alone, more on a busy machine
  });

  describeEachDatabase(`${PAGE}: the examples`, (db) => {
    test("run, and do what the page says", async () => {
      const fresh = await db.fresh();
      try {
        await run(compose(program), fresh.database);
      } finally {
        await fresh.drop();
      }
    });
  });
}
