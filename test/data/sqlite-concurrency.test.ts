import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { counterCollections } from "./programs/counter-schema.js";

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), "cimiento-concurrency-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

test("concurrent writers on one SQLite file, in several processes and in-process, never fail with SQLITE_BUSY nor lose an update", async () => {
  const file = join(folder, "shared.db");
  const backend = createBackend({ database: sqlite({ file }), collections: counterCollections });
  await backend.migrate();
  await backend.system.data.counters.create({ id: "shared", value: 0 });

  const processes = 4;
  const perProcess = 150;
  const inProcess = 200;
  const writer = join(import.meta.dirname, "programs", "sqlite-writer.ts");
  const children = Array.from({ length: processes }, (_, i) =>
    run(process.execPath, ["--import", "tsx", writer, file, `process ${i}`, String(perProcess)], {
      cwd: join(import.meta.dirname, "..", ".."),
    }),
  );
  const local = Array.from({ length: inProcess }, (_, i) =>
    backend.system.transaction(async (tx) => {
      const counter = (await tx.data.counters.get("shared"))!;
      await tx.data.counters.update("shared", { value: counter.value + 1 });
      await tx.data.entries.create({ writer: "parent", sequence: i });
    }),
  );
  const outcomes = await Promise.allSettled([...children, ...local]);
  const failures = outcomes.filter((outcome) => outcome.status === "rejected");
  expect(failures).toEqual([]);

  const total = processes * perProcess + inProcess;
  expect((await backend.system.data.counters.get("shared"))!.value).toBe(total);
  expect(await backend.system.data.entries.count()).toBe(total);
  for (let i = 0; i < processes; i++) {
    expect(await backend.system.data.entries.count({ where: { writer: `process ${i}` } })).toBe(perProcess);
  }
  await backend.close();
}, 120_000);
