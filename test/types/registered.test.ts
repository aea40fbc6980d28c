/**
 * Type tests that declare `Register`: each file of registered/ is a program of its own (a
 * declaration of `Register` reaches every file of its program), checked with the project's
 * compiler options. The files' `expectTypeOf` and `@ts-expect-error` lines are the assertions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const folder = join(import.meta.dirname, "registered");

/**
 * The errors of a program made of one file of registered/, as `file:line: message`. The file is
 * checked first, as an application's compiler checks it (the library being declarations it does
 * not check): types are resolved in the order the application's code asks for them.
 */
function typeErrors(name: string): string[] {
  const config = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  const options = { ...ts.parseJsonConfigFileContent(config.config, ts.sys, root).options, noEmit: true };
  const program = ts.createProgram({ rootNames: [join(folder, name)], options });
  ts.getPreEmitDiagnostics(program, program.getSourceFile(join(folder, name)));
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where =
      diagnostic.file && diagnostic.start !== undefined
        ? `${diagnostic.file.fileName.slice(root.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}: `
        : "";
    return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
  });
}

/** The line (from 1) of the first line of a file of registered/ that holds `text`. */
function lineOf(name: string, text: string): number {
  return readFileSync(join(folder, name), "utf8").split("\n").findIndex((line) => line.includes(text)) + 1;
}

// A whole program each: seconds alone, more on a busy machine.
const TIMEOUT = 180_000;

describe("types with Register declared", () => {
  test("hooks that destructure system, db and enqueue keep their collection typed, and system typed", () => {
    expect(typeErrors("hooks.ts")).toEqual([]);
  }, TIMEOUT);

  test("a hook whose result's type depends on what it reads through system fails at the hook", () => {
    const hook = `test/types/registered/hook-result-circular.ts:${lineOf("hook-result-circular.ts", "beforeCreate:")}: `;
    expect(typeErrors("hook-result-circular.ts")).toContain(
      `${hook}'beforeCreate' implicitly has return type 'any' because it does not have a return type annotation and is referenced directly or indirectly in one of its return expressions.`,
    );
  }, TIMEOUT);
});
