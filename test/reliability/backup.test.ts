/**
 * Backups and a full disk on SQLite. A backup made while batches are written: every batch
 * acknowledged before it began is in it, every batch in it is whole, and a backend restored from
 * it serves; a full database answers 503 and loses nothing, and serves again once there is room.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, test } from "vitest";
import { createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { postgres } from "cimiento/postgres";
import { quietLogger } from "../jobs/support.js";
import { appBackend, notes } from "./programs/app.js";

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "cimiento-backup-"));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

const post = (path: string, body: unknown) =>
  new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The notes of each batch. */
async function batchesOf(backend: ReturnType<typeof appBackend>): Promise<Map<string, number>> {
  const rows = await sql<{ batch: string; n: number }>`select batch, count(*) as n from notes group by batch`.execute(backend.db);
  return new Map(rows.rows.map((row) => [row.batch, Number(row.n)]));
}

test("a backup under write load holds every batch acknowledged before it, whole, and restores into a backend that serves", async () => {
  const file = join(folder, "app.db");
  const backend = appBackend({ dialect: "sqlite", file });
  await backend.migrate();
  // Enough pages that the copy takes many steps, with writes between them.
  for (let i = 0; i < 40; i++) {
    await backend.system.data.notes.createMany(Array.from({ length: 500 }, (_, j) => ({ batch: `seed-${i}`, text: `seed ${i}/${j} ${"x".repeat(200)}` })));
  }
  const acknowledged: { batch: string; at: number }[] = [];
  let writing = true;
  const writer = async () => {
    while (writing) {
      const batch = randomUUID();
      const response = await backend.fetch(post("/actions/writeBatch", { batch, size: 3 }));
      expect(response.status).toBe(200);
      acknowledged.push({ batch, at: performance.now() });
      // As requests arriving from sockets do, let the event loop turn (on SQLite a request may
      // run in microtasks alone).
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const writers = Array.from({ length: 4 }, writer);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const steps: number[] = [];
  const began = performance.now();
  const backupFile = join(folder, "backups", "app-backup.db");
  mkdirSync(join(folder, "backups"));
  const result = await backend.backup(backupFile, { onProgress: ({ remainingPages }) => steps.push(remainingPages) });
  const ended = performance.now();
  console.log(`backup: ${result.pages} pages, ${(result.bytes / 1e6).toFixed(1)} MB in ${Math.round(ended - began)} ms, ${steps.length} steps, while 4 clients wrote`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  writing = false;
  await Promise.all(writers);

  expect(steps.length).toBeGreaterThan(2);
  expect(result.file).toBe(backupFile);
  expect(result.pages).toBeGreaterThan(1000);
  expect(result.bytes).toBeGreaterThan(4_000_000);
  // Nothing but the backup is left in its folder.
  expect(readdirSync(join(folder, "backups"))).toEqual(["app-backup.db"]);
  const before = acknowledged.filter((write) => write.at < began);
  const during = acknowledged.filter((write) => write.at >= began && write.at <= ended);
  expect(before.length).toBeGreaterThan(0);
  expect(during.length).toBeGreaterThan(0);
  await backend.close();

  const restored = appBackend({ dialect: "sqlite", file: backupFile });
  try {
    await restored.migrate();
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(restored.db);
    expect(integrity.rows).toEqual([{ integrity_check: "ok" }]);
    const batches = await batchesOf(restored);
    expect(before.filter((write) => batches.get(write.batch) !== 3)).toEqual([]);
    // No batch is half there: the seeds whole, every other batch 3 notes.
    for (const [batch, count] of batches) expect(count, batch).toBe(batch.startsWith("seed-") ? 500 : 3);
    // Each batch in the backup has its job, enqueued in the same transaction.
    const jobs = await sql<{ n: number }>`select count(*) as n from cimiento_jobs where name = 'receipt'`.execute(restored.db);
    expect(Number(jobs.rows[0]!.n)).toBe([...batches.keys()].filter((batch) => !batch.startsWith("seed-")).length);
    // It serves: a read, and a write.
    const listed = await restored.fetch(new Request("http://localhost/collections/notes/records?limit=2"));
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(2);
    const written = await restored.fetch(post("/actions/writeBatch", { batch: "after-restore", size: 2 }));
    expect(written.status).toBe(200);
  } finally {
    await restored.close();
  }
});

test("backup refuses a path that is no file, and PostgreSQL, saying what to use", async () => {
  const backend = createBackend({ database: sqlite({ file: join(folder, "a.db") }), collections: { notes } });
  await expect(backend.backup("")).rejects.toThrow("backend.backup(file) takes the path of the file to write.");
  await expect(backend.backup(":memory:")).rejects.toThrow("takes the path");
  await backend.close();
  const onPostgres = createBackend({ database: postgres({ connectionString: "postgres://unused@127.0.0.1:1/none" }), collections: { notes } });
  await expect(onPostgres.backup(join(folder, "b.db"))).rejects.toThrow("pg_dump");
  await onPostgres.close();
  expect(existsSync(join(folder, "b.db"))).toBe(false);
});

test("a full database answers 503 UNAVAILABLE (full), loses nothing, and writes again once there is room", async () => {
  const file = join(folder, "full.db");
  const logger = quietLogger();
  const backend = appBackend({ dialect: "sqlite", file }, logger);
  await backend.migrate();
  const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(backend.db);
  // A few pages more than the database has: room for some batches, not for many.
  await sql.raw(`pragma max_page_count = ${rows[0]!.page_count + 8}`).execute(backend.db);
  const written: string[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < 2000 && refused === undefined; i++) {
    const batch = `batch-${i}`;
    const response = await backend.fetch(post("/actions/writeBatch", { batch, size: 3 }));
    if (response.status === 200) written.push(batch);
    else refused = response;
  }
  expect(written.length).toBeGreaterThan(0);
  expect(refused?.status).toBe(503);
  expect(refused?.headers.get("retry-after")).toBe("30");
  expect(await refused!.json()).toMatchObject({ code: "UNAVAILABLE", reason: "full", detail: "The database has no space left; nothing was written." });

  expect(logger.warnings).toEqual(["A request failed: the database cannot serve it now."]);
  expect(logger.errors).toEqual([]);
  const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(backend.db);
  expect(integrity.rows).toEqual([{ integrity_check: "ok" }]);
  const batches = await batchesOf(backend);
  expect(written.filter((batch) => batches.get(batch) !== 3)).toEqual([]);
  expect(batches.size).toBe(written.length);

  await sql.raw("pragma max_page_count = 1073741823").execute(backend.db);
  const again = await backend.fetch(post("/actions/writeBatch", { batch: "with-room", size: 3 }));
  expect(again.status).toBe(200);
  expect((await batchesOf(backend)).get("with-room")).toBe(3);
  await backend.close();
});
