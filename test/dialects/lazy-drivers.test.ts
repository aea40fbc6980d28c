/**
 * Database drivers load when a database is opened, never on import: `import "cimiento"` loads
 * neither better-sqlite3, pg, nodemailer, bcryptjs nor @node-rs/argon2, and an app on
 * cimiento/postgres runs without better-sqlite3 and nodemailer. The libraries of imported
 * password hashes load when a hash of theirs is imported, and where one is not installed, that
 * import says which package to install.
 * Each case runs the built package (tsup, as published) in a fresh Node process; "absent"
 * packages are made unresolvable there, by `import` and `require` alike (programs/absent-modules.mjs).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const programs = join(import.meta.dirname, "programs");
// Built inside the repository, so that the package's dependencies resolve as they would for an app.
const build = mkdtempSync(join(root, ".drivers-build-"));
const dist = pathToFileURL(build).href;

beforeAll(async () => {
  await run(process.execPath, [join(root, "node_modules", "tsup", "dist", "cli-default.js"), "--no-dts", "--out-dir", build, "--silent"], {
    cwd: root,
  });
});
afterAll(() => rmSync(build, { recursive: true, force: true }));

/** Runs `program` in a fresh process, with the packages `absent` unresolvable; returns its JSON output. */
async function runProgram(program: string, args: readonly string[], absent: readonly string[] = []): Promise<unknown> {
  const cwd = mkdtempSync(join(build, "cwd-"));
  const { stdout } = await run(
    process.execPath,
    ["--import", pathToFileURL(join(programs, "absent-modules.mjs")).href, join(programs, program), dist, ...args],
    { cwd, env: { ...process.env, CIMIENTO_ABSENT_MODULES: absent.join(",") } },
  );
  return JSON.parse(stdout);
}

test("importing cimiento and its database entries loads no driver, nor nodemailer, nor a hash library; opening SQLite loads better-sqlite3 only", async () => {
  expect(await runProgram("loaded-drivers.mjs", [])).toEqual({ main: [], entries: [], sqlite: ["better-sqlite3"] });
});

test("with neither driver nor nodemailer installed, every entry imports, and opening a database says which package to install", async () => {
  expect(await runProgram("missing-drivers.mjs", [], ["better-sqlite3", "pg", "nodemailer"])).toEqual({
    default: "Install better-sqlite3 to use SQLite: npm install better-sqlite3",
    sqlite: "Install better-sqlite3 to use SQLite: npm install better-sqlite3",
    postgres: "Install pg to use PostgreSQL: npm install pg",
  });
});

test("a hash library loads when a hash of its kind is imported, not before", async () => {
  expect(await runProgram("hash-libraries.mjs", [])).toEqual({
    migrated: [],
    bcrypt: ["bcryptjs"],
    argon2: ["bcryptjs", "@node-rs/argon2"],
  });
});

test("without the hash libraries, cimiento runs, and importing a hash of theirs says which package to install", async () => {
  expect(await runProgram("hash-libraries.mjs", [], ["bcryptjs", "@node-rs/argon2"])).toEqual({
    migrated: [],
    bcrypt: "Imported bcrypt hashes are checked with bcryptjs, which is not installed: npm install bcryptjs",
    argon2: "Imported argon2 hashes are checked with @node-rs/argon2, which is not installed: npm install @node-rs/argon2",
  });
});

const url = inject("postgresUrl");
describe.skipIf(url === null)("on PostgreSQL", () => {
  const schema = `s_${process.pid}_${Date.now().toString(36)}_drivers`;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });

  test("an app on cimiento/postgres migrates, writes and reads with better-sqlite3 and nodemailer absent", async () => {
    expect(await runProgram("postgres-app.mjs", [url!, schema], ["better-sqlite3", "nodemailer"])).toEqual({
      titles: ["written on PostgreSQL"],
      drivers: ["pg"],
    });
  });
});
