/**
 * A PostgreSQL server restarted under load: a private cluster (never the shared server), made
 * with initdb in a temporary folder and restarted with `pg_ctl restart -m fast` while clients
 * write and read. Requests fail cleanly with 503 while it is down, none with 500, and every
 * request is served again once it is back; the time from the restart to the first request
 * served after it is printed. Runs in `npm run test:reliability` (`CIMIENTO_PG_RESTART=1`),
 * where the PostgreSQL server binaries are installed; skipped, saying why, otherwise.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { postgres } from "cimiento/postgres";
import { quietLogger } from "../jobs/support.js";

const versions = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").sort() : [];
const bin = versions.length > 0 ? join("/usr/lib/postgresql", versions.at(-1)!, "bin") : undefined;
const asRoot = process.getuid?.() === 0;
const skipped =
  process.env["CIMIENTO_PG_RESTART"] !== "1"
    ? "set CIMIENTO_PG_RESTART=1 (npm run test:reliability)"
    : bin === undefined
      ? "no PostgreSQL server binaries under /usr/lib/postgresql"
      : undefined;

const run = promisify(execFile);

/**
 * Runs a PostgreSQL binary (as the `postgres` user when this process is root: initdb refuses
 * root), without holding the event loop, so that requests go on meanwhile.
 */
async function pg(command: string, args: string[]): Promise<void> {
  const path = join(bin!, command);
  await (asRoot ? run("runuser", ["-u", "postgres", "--", path, ...args]) : run(path, args));
}

const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true, create: () => true } });

test.skipIf(skipped !== undefined)(`PostgreSQL restarted under load: 503s, no 500, served again${skipped === undefined ? "" : ` (skipped: ${skipped})`}`, async () => {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-pg-"));
  chmodSync(folder, 0o777);
  const data = join(folder, "data");
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const ctl = (action: string, extra: string[] = []) =>
    pg("pg_ctl", ["-D", data, "-w", "-l", join(folder, "log"), "-o", `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1`, ...extra, action]);
  await pg("initdb", ["-D", data, "-A", "trust", "-U", "root", "--no-sync"]);
  await ctl("start");
  const logger = quietLogger();
  const backend = createBackend({
    database: postgres({ connectionString: `postgres://root@127.0.0.1:${port}/postgres`, max: 4 }),
    collections: { notes },
    logger,
  });
  try {
    await backend.migrate();
    const statuses = new Map<number, number>();
    let restartedAt = Infinity;
    let firstRefusal = Infinity;
    let lastRefusal = 0;
    const served: number[] = [];
    let stop = false;
    const post = (text: string) =>
      new Request("http://localhost/collections/notes/records", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
    const load = async () => {
      for (let i = 0; !stop; i++) {
        const response = i % 2 === 0 ? await backend.fetch(post(`note ${i}`)) : await backend.fetch(new Request("http://localhost/collections/notes/records?limit=5"));
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const at = performance.now();
        if (response.status === 503) {
          expect(await response.json()).toMatchObject({ code: "UNAVAILABLE", reason: "unreachable" });
          firstRefusal = Math.min(firstRefusal, at);
          lastRefusal = Math.max(lastRefusal, at);
        } else {
          await response.arrayBuffer();
          served.push(at);
        }
        if (response.status === 503) await new Promise((resolve) => setTimeout(resolve, 20));
        else await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const loads = Array.from({ length: 8 }, load);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    restartedAt = performance.now();
    await ctl("restart", ["-m", "fast"]);
    const restarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stop = true;
    await Promise.all(loads);
    const servedAgainAt = Math.min(...served.filter((at) => at > lastRefusal));

    console.log(
      `PostgreSQL restart: pg_ctl restart took ${Math.round(restarted - restartedAt)} ms; requests refused (503) from ${Math.round(firstRefusal - restartedAt)} to ${Math.round(lastRefusal - restartedAt)} ms after it began, served again ${Math.round(servedAgainAt - restartedAt)} ms after; answers: ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect([...statuses.keys()].every((status) => status === 200 || status === 201 || status === 503)).toBe(true);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(servedAgainAt).toBeLessThan(Infinity);
    expect(logger.errors.filter((message) => message.includes("unexpected"))).toEqual([]);
    for (let i = 0; i < 10; i++) expect((await backend.fetch(post(`after ${i}`))).status).toBe(201);
  } finally {
    await backend.close();
    await ctl("stop", ["-m", "immediate"]);
    rmSync(folder, { recursive: true, force: true });
  }
}, 120_000);
