/**
 * The runnable examples: each starts as its own process on a random port with a fresh database
 * file, prints the curl lines of examples/quickstart/requests.ts, and those requests answer as
 * printed (sent with fetch, and with curl itself where it is installed). examples/quickstart/client.ts
 * runs against the quickstart through cimiento/client and prints what it should.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { curl, demoRequests, fetchArgs } from "../../examples/quickstart/requests.js";

const root = join(import.meta.dirname, "..", "..");
const folder = mkdtempSync(join(tmpdir(), "cimiento-examples-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const hasCurl = spawnSync("curl", ["--version"]).status === 0;

interface Running {
  readonly child: ChildProcess;
  /** Everything it printed up to the end of its instructions. */
  readonly output: string;
}

/** Starts an example on a random port and waits until it has printed what to try. */
async function start(example: string, database: string): Promise<Running> {
  const child = spawn(process.execPath, ["--import", "tsx", join("examples", example, "index.ts")], {
    cwd: root,
    env: { ...process.env, PORT: "0", QUICKSTART_DB: database },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${example} did not start in time:\n${output}`)), 30_000);
    const ready = () => {
      if (!output.includes("Stop with Ctrl+C")) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on("data", ready);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${example} exited with ${code}:\n${output}`));
    });
  });
  return { child, output };
}

/** Stops an example the way Ctrl+C would; it closes its server and database and exits 0. */
async function stop({ child }: Running): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  return exited;
}

/** The seeded post, as the example's requests name it. */
function seededPost(database: string): { id: string; slug: string } {
  const db = new Database(database, { readonly: true });
  try {
    return db.prepare("select id, slug from posts where slug = 'sqlite-is-enough'").get() as { id: string; slug: string };
  } finally {
    db.close();
  }
}

/** Sends a request to 127.0.0.1: the examples listen there, and print `localhost`. */
async function send(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url.replace("//localhost:", "//127.0.0.1:"), init);
  await response.arrayBuffer();
  return response.status;
}

const examples = [
  { name: "quickstart", listens: "The API of the quickstart backend listens on", mount: "", hostRoutes: [] },
  { name: "express", listens: "The Express app listens on", mount: "/api", hostRoutes: ["/", "/stats"] },
  { name: "hono", listens: "The Hono app listens on", mount: "/api", hostRoutes: ["/", "/stats"] },
];

describe.each(examples)("examples/$name", ({ name, listens, mount, hostRoutes }) => {
  test("serves on a random port, and the curl lines it prints answer with the statuses they promise", async () => {
    const database = join(folder, `${name}.db`);
    const running = await start(name, database);
    try {
      const origin = new RegExp(`${listens} (http://localhost:\\d+)`).exec(running.output)?.[1];
      expect(origin, running.output).toBeDefined();
      expect(running.output).toContain("Seeded 2 users, 2 posts (one a draft of Ada's) and 2 comments.");
      // A real session token (256 bits, base64url), made at start-up.
      const token = /the token ([A-Za-z0-9_-]{43}) signs in as Ada/.exec(running.output)?.[1];
      expect(token, running.output).toBeDefined();

      const base = `${origin}${mount}`;
      const requests = demoRequests({ token: token!, post: seededPost(database) });
      const printed = running.output.split("\n").filter((line) => line.startsWith("curl "));
      expect(printed).toEqual(requests.map((request) => curl(base, request)));

      const statuses = [];
      for (const request of requests) statuses.push(await send(...fetchArgs(base, request)));
      expect(statuses).toEqual([200, 200, 200, 201, 200, 401, 200, 422]);
      expect(statuses).toEqual(requests.map((request) => request.status));

      if (hasCurl) {
        const run = promisify(execFile);
        const curlStatuses = [];
        for (const line of printed) {
          const { stdout } = await run("sh", ["-c", `${line} -s -o /dev/null -w '%{http_code}'`]);
          curlStatuses.push(Number(stdout));
        }
        expect(curlStatuses).toEqual(statuses);
      }

      for (const path of hostRoutes) expect(await send(`${origin}${path}`), path).toBe(200);
    } finally {
      expect(await stop(running)).toBe(0);
    }
  });
});

test("the quickstart keeps its data: a second run seeds nothing and finds the schema up to date", async () => {
  const database = join(folder, "again.db");
  await stop(await start("quickstart", database));
  const again = await start("quickstart", database);
  expect(await stop(again)).toBe(0);
  expect(again.output).toContain(`Database ${database}: schema up to date`);
  expect(again.output).not.toContain("Seeded");
});

test("the README's Express and Hono snippets are lines of examples/express and examples/hono, in order", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Mounting in Express and Hono"));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].slice(0, 2).map((match) => match[1]!);
  expect(blocks).toHaveLength(2);
  ["express", "hono"].forEach((example, i) => {
    const file = readFileSync(join(root, "examples", example, "index.ts"), "utf8").split("\n");
    let from = 0;
    for (const line of blocks[i]!.split("\n").filter((line) => line.trim() !== "")) {
      const at = file.indexOf(line, from);
      expect(at, `examples/${example}/index.ts has, after line ${from}: ${line}`).toBeGreaterThanOrEqual(0);
      from = at + 1;
    }
  });
});

describe("examples/quickstart/client.ts", () => {
  test("runs against the quickstart server through cimiento/client: sign-in, reads, writes, an action, pages, an error, sign-out", async () => {
    const running = await start("quickstart", join(folder, "client.db"));
    try {
      const origin = /listens on (http:\/\/localhost:\d+)/.exec(running.output)![1]!.replace("//localhost:", "//127.0.0.1:");
      const run = promisify(execFile);
      const { stdout } = await run(process.execPath, ["--import", "tsx", join("examples", "quickstart", "client.ts")], {
        cwd: root,
        env: { ...process.env, API_URL: origin },
      });
      const lines = stdout.trim().split("\n");
      expect(lines[0]).toBe("Signed in as Ada (user).");
      expect(lines.slice(1, 3)).toEqual(["1 published post(s) about SQLite:", '- "SQLite is enough" by Ada, 2 comment(s), tags sqlite, databases']);
      expect(lines[3]).toMatch(/^Commented on "SQLite is enough" at \d{4}-\d\d-\d\dT[\d:.]+Z\.$/);
      expect(lines.slice(4)).toEqual([
        '"SQLite is enough" has 1 view(s).',
        "Drafts only Ada sees: Draft: PostgreSQL later",
        "422 VALIDATION_FAILED: title (too_small), slug (invalid_format)",
        "Signed out: no session.",
      ]);
    } finally {
      expect(await stop(running)).toBe(0);
    }
  });
});
