/**
 * The package as users get it: built, packed with `npm pack` once, installed from the tarball into
 * fresh projects outside the repository, one per supported major of the host's stack (hono 4,
 * `@hono/node-server` 1.x and 2.x, Express 5, Koa 3), and used there by a consumer program
 * (consumer/) that tsc type-checks against the installed types and node then runs against real
 * Express, Koa and Hono servers. The projects install and run side by side.
 */
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, existsSync, readFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";

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

/** The packages a host installs beside cimiento, for each major of `@hono/node-server`. */
const HOSTS = [
  { nodeServer: 1, packages: ["@hono/node-server@^1.19.19"] },
  { nodeServer: 2, packages: ["@hono/node-server@^2"] },
].map((host) => ({
  ...host,
  packages: [
    ...host.packages,
    "hono@^4",
    "express@^5",
    "koa@^3",
    "zod@^4",
    "typescript@~6.0",
    "@types/express@^5",
    "@types/koa@^3",
    "@types/node@^20",
  ],
}));

/** Where the tarball is packed, and the projects made. */
let work: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cimiento-install-"));
  if (!builtFromCurrentSources()) await run("npm", ["run", "build"], root);
  await run("npm", ["pack", "--pack-destination", work], root);
  const packed = readdirSync(work).find((name) => name.endsWith(".tgz"));
  expect(packed).toMatch(/^cimiento-\d+\.\d+\.\d+.*\.tgz$/);
  tarball = join(work, packed!);
  return () => rmSync(work, { recursive: true, force: true });
}, 240_000);

/** Where every copy of a package is installed in a project, relative to it. */
function locations(app: string, name: string): string[] {
  const found: string[] = [];
  const walk = (modules: string): void => {
    if (existsSync(join(app, modules, name, "package.json"))) found.push(`${modules}/${name}`);
    for (const entry of readdirSync(join(app, modules), { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const packages = entry.name.startsWith("@")
        ? readdirSync(join(app, modules, entry.name)).map((inner) => `${entry.name}/${inner}`)
        : [entry.name];
      for (const pkg of packages) {
        const nested = `${modules}/${pkg}/node_modules`;
        if (existsSync(join(app, nested))) walk(nested);
      }
    }
  };
  walk("node_modules");
  return found.sort();
}

/** The version of a package installed at the top of a project. */
function installed(app: string, name: string): string {
  return (JSON.parse(readFileSync(join(app, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

describe.concurrent("the packed package beside the host's stack", () => {
  test.for(HOSTS)(
    "with @hono/node-server major $nodeServer, hono 4, Express 5 and Koa 3: installs with one copy of each, type-checks strictly, emits portable declarations and serves through Express, Koa and Hono",
    { timeout: 240_000 },
    async ({ nodeServer, packages }, { expect }) => {
      const app = join(work, `app-node-server-${nodeServer}`);
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
          "--prefer-offline",
          // better-sqlite3's native build is its own business, and takes minutes: its binary is
          // taken from this repository's install below when the versions match.
          "--ignore-scripts",
          tarball,
          ...packages,
        ],
        app,
      );
      // One copy of the peers, the host's: cimiento has none of its own under node_modules/cimiento.
      // (Soft: a second copy is reported with what it breaks below.)
      expect(installed(app, "@hono/node-server").split(".")[0]).toBe(String(nodeServer));
      expect.soft(locations(app, "@hono/node-server")).toEqual(["node_modules/@hono/node-server"]);
      expect.soft(locations(app, "hono")).toEqual(["node_modules/hono"]);
      expect(installed(app, "hono").split(".")[0]).toBe("4");
      expect(installed(app, "express").split(".")[0]).toBe("5");
      expect(installed(app, "koa").split(".")[0]).toBe("3");

      const native = (base: string) => join(base, "node_modules", "better-sqlite3");
      if (installed(app, "better-sqlite3") === installed(root, "better-sqlite3")) {
        cpSync(join(native(root), "build"), join(native(app), "build"), { recursive: true });
      } else await run("npm", ["rebuild", "better-sqlite3"], app);
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
      expect(output).toContain('client: "from the client" pinned=true, refused VALIDATION_FAILED, absent null');
      const checks = output.split("\n").filter((line) => /^(ok|FAIL) /.test(line));
      expect(checks.filter((line) => line.startsWith("FAIL"))).toEqual([]);
      // @hono/node-server 1.x (serving Hono) writes a content type on every answer without one, a
      // 204 too; toNodeHandler (Express, Koa) writes none.
      const noContent = (host: string) => (host === "hono" && nodeServer === 1 ? "text/plain; charset=UTF-8" : "none");
      expect(checks.map((line) => line.replace(/[0-9a-f-]{36}/, ":id").replace(/\?.*? ->/, "?… ->"))).toEqual(
        ["express", "koa", "hono"].flatMap((host) => [
          `ok ${host} GET / -> 200`,
          `ok ${host} GET /api/health -> 200`,
          `ok ${host} POST /api/collections/notes/records -> 401`,
          `ok ${host} POST /api/collections/notes/records -> 201`,
          `ok ${host} POST /api/notes/:id/pin -> 200`,
          `ok ${host} GET /api/collections/notes/records?… -> 200`,
          `ok ${host} POST /api/collections/notes/records -> 422`,
          `ok ${host} GET /api/collections/nope/records -> 404`,
          `ok ${host} DELETE /api/collections/notes/records/:id -> 204 (content type: ${noContent(host)})`,
          `ok ${host} GET /api/collections/notes/records/:id -> 404`,
          `ok ${host} OPTIONS /api/collections/notes/records -> 404`,
        ]),
      );
      expect(output.trimEnd().endsWith("all checks passed")).toBe(true);
    },
  );
});
