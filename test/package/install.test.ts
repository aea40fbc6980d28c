/**
 * The package as users get it: built, packed with `npm pack`, installed from the tarball into a
 * fresh project outside the repository, and used there by a consumer program (consumer/) that
 * tsc type-checks against the installed types and node then runs against real Express and Hono
 * servers.
 */
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, existsSync, readFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const consumer = join(import.meta.dirname, "consumer");

/** The environment of the outer `npm test`, less what would tie a nested npm to this package. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(name) || name === "INIT_CWD") delete env[name];
  }
  return env;
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd,
      env: childEnv(),
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** The newest modification time of the files under `path` (a file or a folder). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * Whether `dist/` was built after every source and build setting last changed (as it is in CI,
 * which builds just before the tests): then the test packs it as it is, and does not build twice.
 */
function builtFromCurrentSources(): boolean {
  const dist = join(root, "dist");
  if (!existsSync(join(dist, "index.js")) || !existsSync(join(dist, "index.d.ts"))) return false;
  const built = Math.min(...readdirSync(dist).map((name) => statSync(join(dist, name)).mtimeMs));
  const sources = Math.max(...["src", "package.json", "tsup.config.ts", "tsconfig.json", "tsconfig.build.json"].map((path) => newest(join(root, path))));
  return built > sources;
}

test("the packed package installs into a fresh project, type-checks strictly, emits portable declarations and serves through Express and Hono", async () => {
  const work = mkdtempSync(join(tmpdir(), "cimiento-install-"));
  try {
    if (!builtFromCurrentSources()) await run("npm", ["run", "build"], root);
    await run("npm", ["pack", "--pack-destination", work], root);
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    expect(tarball).toMatch(/^cimiento-\d+\.\d+\.\d+.*\.tgz$/);

    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module", allowScripts: { "better-sqlite3": true } }),
    );
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        // better-sqlite3's native build is its own business, and takes minutes: its binary is
        // taken from this repository's install below when the versions match.
        "--ignore-scripts",
        join(work, tarball!),
        "zod@^4",
        "express@^5",
        "hono@^4",
        "@hono/node-server",
        "typescript@~6.0",
        "@types/express@^5",
        "@types/node@^20",
      ],
      app,
    );
    const native = (base: string) => join(base, "node_modules", "better-sqlite3");
    const version = (base: string) => (JSON.parse(readFileSync(join(native(base), "package.json"), "utf8")) as { version: string }).version;
    if (version(app) === version(root)) cpSync(join(native(root), "build"), join(native(app), "build"), { recursive: true });
    else await run("npm", ["rebuild", "better-sqlite3"], app);
    copyFileSync(join(consumer, "index.ts"), join(app, "index.ts"));
    copyFileSync(join(consumer, "tsconfig.json"), join(app, "tsconfig.json"));

    // Type-check and emit: the consumer's @ts-expect-error lines fail the check if the types are loose.
    await run(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app);
    // Its declarations name what it inferred through the package's entries, never a file of dist/.
    const declarations = readFileSync(join(app, "dist", "index.d.ts"), "utf8");
    expect(declarations).toContain('backend: import("cimiento").Backend<');
    expect(declarations).toContain('import("cimiento/types").WithFieldState<');
    expect(declarations).not.toMatch(/cimiento\/dist/);
    const output = await run(process.execPath, [join(app, "dist", "index.js")], app);

    expect(output).toContain('in-process: "typed" pinned=true, refused VALIDATION_FAILED, VALIDATION_FAILED');
    const checks = output.split("\n").filter((line) => /^(ok|FAIL) /.test(line));
    expect(checks.filter((line) => line.startsWith("FAIL"))).toEqual([]);
    expect(checks.map((line) => line.replace(/[0-9a-f-]{36}/, ":id").replace(/\?.*? ->/, "?… ->"))).toEqual(
      ["express", "hono"].flatMap((host) => [
        `ok ${host} GET / -> 200`,
        `ok ${host} GET /api/health -> 200`,
        `ok ${host} POST /api/collections/notes/records -> 401`,
        `ok ${host} POST /api/collections/notes/records -> 201`,
        `ok ${host} POST /api/notes/:id/pin -> 200`,
        `ok ${host} GET /api/collections/notes/records?… -> 200`,
        `ok ${host} POST /api/collections/notes/records -> 422`,
        `ok ${host} GET /api/collections/nope/records -> 404`,
      ]),
    );
    expect(output.trimEnd().endsWith("all checks passed")).toBe(true);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 240_000);
