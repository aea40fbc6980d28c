/**
 * The runner of a docs page's examples: the page's code blocks form one program, in order (the
 * page says `<!-- one program -->`); a test file keeps them verbatim with checks in between, and
 * this module compares them with the page and runs the program on every database. The blocks
 * are type-checked, with the Register they declare, by code-blocks.test.ts.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { blocksOf, readPage } from "./code-blocks.js";

const root = join(import.meta.dirname, "..", "..");

/** A piece of the program: an example of the page (verbatim), or a check of what the page says. */
export type Part = { readonly kind: "example" | "check"; readonly code: string };
export const example = (code: string): Part => ({ kind: "example", code });
export const check = (code: string): Part => ({ kind: "check", code });

/** The code blocks of the page's program, in order: all but those marked `<!-- apart -->` (see code-blocks.ts). */
function examplesOf(page: string): string[] {
  return blocksOf(readPage(page)).blocks.filter((block) => !block.apart).map((block) => `${block.code}\n`);
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

/** The tests of a page: its examples are these, and they run on every database. */
export function describePage(PAGE: string, program: readonly Part[]): void {
  describe(PAGE, () => {
    test("holds exactly these examples, in this order", () => {
      expect(blocksOf(readPage(PAGE)).oneProgram).toBe(true); // so code-blocks.test.ts checks them as one
      expect(examplesOf(PAGE)).toEqual(program.filter((part) => part.kind === "example").map((part) => part.code));
    });
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
