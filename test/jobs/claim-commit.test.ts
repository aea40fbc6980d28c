/**
 * A claim commits without waiting for the disk on PostgreSQL (`synchronous_commit = off` for its
 * transaction only): lost in a crash of the server, it leaves its jobs queued, as a dead
 * worker's claim would. The setting does not outlive the claim's transaction, so the enqueues,
 * outcomes and the host's own writes on the same connections still wait for the disk.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { sql, type Kysely, type LogEvent } from "kysely";
import { z } from "zod";
import { createBackend, job } from "cimiento";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

describeEachDatabase("the commit of a claim", (db) => {
  const noop = job({ input: z.object({ n: z.number() }), handler: () => {} });
  const statements: string[] = [];
  const makeBackend = async () => {
    const fresh = await db.fresh({ log: (event: LogEvent) => void statements.push(event.query.sql) });
    return { fresh, backend: createBackend({ database: fresh.database, jobs: { a: noop, b: noop }, logger: quietLogger() }) };
  };
  let made: Awaited<ReturnType<typeof makeBackend>>;
  const store = () => partsOf(made.backend).jobs.store;

  beforeEach(async () => {
    statements.length = 0;
    made = await makeBackend();
    await made.backend.migrate();
    await made.backend.system.enqueue("a", { n: 1 });
    await made.backend.system.enqueue("b", { n: 2 });
  });
  afterEach(async () => {
    await made.backend.close();
    await made.fresh.drop();
  });

  if (db.dialect === "postgres") {
    test("a claim's transaction commits without waiting for the disk, and the setting ends with it", async () => {
      const kysely = made.backend.db as unknown as Kysely<any>;
      const setting = async (conn: Kysely<any>) => (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(conn)).rows[0]!.synchronous_commit;
      const seen = await kysely.connection().execute(async (conn) => {
        const before = await setting(conn);
        await sql`begin`.execute(conn);
        const { rows } = await conn.executeQuery(store().claimStatement("w", 16, ["a", "b"], 30_000, Date.now()));
        const during = await setting(conn);
        await sql`commit`.execute(conn);
        return { before, during, after: await setting(conn), claimed: rows.length };
      });
      expect(seen).toEqual({ before: "on", during: "off", after: "on", claimed: 2 });
    });

    test("a claim limited per name (a read, then an update) asks the same of its update", async () => {
      statements.length = 0;
      const claimed = await store().claim("w", 16, new Map([["a", 1], ["b", 16]]), 30_000);
      expect(claimed.map((attempt) => attempt.name).sort()).toEqual(["a", "b"]);
      const updates = statements.filter((text) => /^update "cimiento_jobs"/.test(text));
      expect(updates).toHaveLength(1);
      expect(updates[0]).toContain(`set_config('synchronous_commit', 'off', true)`);
    });
  }

  test("claims take every due job once, by either path", async () => {
    expect((await store().claim("w", 16, new Map([["a", 16], ["b", 16]]), 30_000)).length).toBe(2);
    await made.backend.system.enqueue("a", { n: 3 });
    expect((await store().claim("w", 16, new Map([["a", 1], ["b", 16]]), 30_000)).map((attempt) => attempt.name)).toEqual(["a"]);
    expect(await store().claim("w", 16, new Map([["a", 16], ["b", 16]]), 30_000)).toEqual([]);
  });
});
