/**
 * nodemailer is loaded by `smtpMailer()`, never when the module that exports it is imported: the
 * module runs where nodemailer cannot be found at all, and `smtpMailer()` there says to install
 * it. (With nodemailer installed, the auth suites send real mail through `smtpMailer`.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import ts from "typescript";
import { afterAll, expect, test } from "vitest";

/** A directory outside this project, from which no package resolves. */
const dir = mkdtempSync(join(tmpdir(), "cimiento-mail-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * src/auth/mail.ts as JavaScript in `dir/auth/`, beside the one module of cimiento it imports at
 * run time (src/support/load-package.ts): its other imports are `node:` modules and types.
 */
function isolatedMailModule(): string {
  const compile = (from: string, to: string) => {
    const source = readFileSync(new URL(`../../src/${from}`, import.meta.url), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    mkdirSync(dirname(join(dir, to)), { recursive: true });
    writeFileSync(join(dir, to), outputText);
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  compile("support/load-package.ts", "support/load-package.js");
  compile("auth/mail.ts", "auth/mail.js");
  const imports = readFileSync(join(dir, "auth/mail.js"), "utf8").match(/^import .* from "[^"]+";$/gm) ?? [];
  expect(imports.filter((line) => !line.includes('"node:'))).toEqual(['import { loadPackage } from "../support/load-package.js";']);
  return join(dir, "auth/mail.js");
}

/** Runs `body` in a fresh Node process, in `dir`, and returns what it printed. */
function run(body: string): { stdout: string; stderr: string; status: number | null } {
  const script = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, body);
  const result = spawnSync(process.execPath, [script], { cwd: dir, encoding: "utf8" });
  return { stdout: result.stdout.trim(), stderr: result.stderr, status: result.status };
}

test("where nodemailer is not installed, the mail module loads, and smtpMailer() says to install it", () => {
  isolatedMailModule();
  const unreachable = run(`try { await import("nodemailer"); console.log("found"); } catch (error) { console.log(error.code); }`);
  expect(unreachable.stdout).toBe("ERR_MODULE_NOT_FOUND");
  const result = run(`
    const { smtpMailer, logMailer } = await import("./auth/mail.js");
    console.log(typeof logMailer({ error() {} }).send);
    try {
      smtpMailer({ host: "127.0.0.1", from: "no-reply@example.com" });
      console.log("made");
    } catch (error) {
      console.log(error.message);
    }
  `);
  expect(result.stderr).toBe("");
  expect(result.stdout.split("\n")).toEqual(["function", "smtpMailer() sends with nodemailer, which is not installed: npm install nodemailer"]);
});
