/**
 * Waking workers: a job enqueued in this process or in another one wakes an idle worker long
 * before its next poll (here a minute away), through the notifier: in-process at once, across
 * processes by PostgreSQL's NOTIFY (its listening connection reconnects) or SQLite's
 * data_version. The notifier itself: payloads, coalescing, unsubscribe.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import pg from "pg";
import { sql } from "kysely";
import { inject } from "vitest";
import { z } from "zod";
import { createBackend, job, type DatabaseAdapter } from "cimiento";
import { postgres } from "cimiento/postgres";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "./support.js";

const IDLE = 60_000;

describeEachDatabase("waking workers", (db) => {
  let shared: SharedDatabase;
  let ran: number[];
  let backends: { close(): Promise<void> }[];
  const noted = job({ input: z.object({ n: z.number() }), handler: ({ input }) => void ran.push(input.n) });
  const instance = () => {
    const backend = createBackend({ database: shared.adapter() as DatabaseAdapter<"sqlite">, jobs: { noted }, logger: quietLogger() });
    backends.push(backend);
    return backend;
  };
  /** Resolves when `backend` has run `count` jobs. */
  const succeeded = (backend: ReturnType<typeof instance>, count = 1) =>
    new Promise<void>((resolve) => {
      let seen = 0;
      backend.jobs.on((event) => event.type === "succeeded" && ++seen === count && resolve());
    });
  /** Lets the worker claim, find nothing and go to sleep. */
  const idle = () => new Promise((resolve) => setTimeout(resolve, 200));

  beforeEach(async () => {
    ran = [];
    backends = [];
    shared = await sharedDatabase(db);
    await instance().migrate();
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    await shared.drop();
  });

  test("a job enqueued in the worker's process wakes it at once", async () => {
    const backend = instance();
    backend.jobs.start({ pollInterval: IDLE });
    await idle();
    const done = succeeded(backend);
    await backend.system.enqueue("noted", { n: 1 });
    await done;
    expect(ran).toEqual([1]);
  });

  test("a job enqueued by another instance wakes an idle worker before its next poll", async () => {
    const worker = instance();
    const producer = instance();
    worker.jobs.start({ pollInterval: IDLE });
    await idle();
    const first = succeeded(worker);
    await producer.system.enqueue("noted", { n: 1 });
    await first;
    const more = succeeded(worker, 100);
    await producer.system.enqueueMany("noted", Array.from({ length: 100 }, (_, n) => ({ n: n + 2 })));
    await more;
    expect(ran.sort((a, b) => a - b)).toEqual(Array.from({ length: 101 }, (_, n) => n + 1));
  });

  test("the notifier carries payloads to other instances, coalesced per topic, and stops on unsubscribe", async () => {
    const listener = partsOf(instance()).jobs.notifier;
    const publisher = partsOf(instance()).jobs.notifier;
    const heard: (string | undefined)[] = [];
    const local: (string | undefined)[] = [];
    const off = listener.subscribe("test", (payload) => heard.push(payload));
    publisher.subscribe("test", (payload) => local.push(payload));
    await idle();
    const writer = instance();
    for (let n = 1; n <= 100; n++) publisher.publish("test", String(n));
    // In its own process a listener hears every publication, at once (besides the "look" its
    // listening connection tells once it listens, on PostgreSQL).
    expect(local.filter((payload) => payload !== undefined)).toEqual(Array.from({ length: 100 }, (_, n) => String(n + 1)));
    if (db.dialect === "postgres") {
      await expect.poll(() => heard.at(-1), { timeout: 5_000 }).toBe("100");
      expect(heard.length).toBeLessThan(100);
    } else {
      // SQLite carries no payload: a write by another connection is heard as "look".
      await writer.system.enqueue("noted", { n: 1 });
      await expect.poll(() => heard.length, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(heard.every((payload) => payload === undefined)).toBe(true);
    }
    off();
    const before = heard.length;
    publisher.publish("test", "101");
    await writer.system.enqueue("noted", { n: 2 });
    await idle();
    expect(heard.length).toBe(before);
  });

  if (db.dialect === "postgres") {
    test("what is published just before close() is still sent to other instances, with no warning", async () => {
      const listener = partsOf(instance()).jobs.notifier;
      const heard: (string | undefined)[] = [];
      listener.subscribe("test", (payload) => heard.push(payload));
      await idle();
      const logger = quietLogger();
      const closing = createBackend({ database: shared.adapter() as DatabaseAdapter<"sqlite">, jobs: { noted }, logger });
      // The first NOTIFY of a backend opens a connection: close() comes while it is under way.
      partsOf(closing).jobs.notifier.publish("test", "1");
      await new Promise((resolve) => setImmediate(resolve));
      partsOf(closing).jobs.notifier.publish("test", "2");
      await closing.close();
      expect(logger.warnings).toEqual([]);
      await expect.poll(() => heard.at(-1), { timeout: 5_000 }).toBe("2");
    });

    test("close() gives up after a second on an announcement that cannot go out (its connection held by a 20 s statement)", async () => {
      const { url, schema } = shared.connection as { url: string; schema: string };
      const closing = createBackend({ database: postgres({ connectionString: url, schema, max: 1 }), jobs: { noted }, logger: quietLogger() });
      // The pool's one connection, held by a statement that runs for 20 s.
      const stuck = sql`select pg_sleep(20)`.execute(closing.db).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      partsOf(closing).jobs.notifier.publish("test", "1");
      const started = Date.now();
      await closing.close({ timeout: 0 });
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(5_000);
      await stuck;
    });

    test("the listening connection tells its listeners they may have missed something once it listens, and again when it connects again after being killed", async () => {
      const worker = instance();
      const producer = instance();
      const heard: (string | undefined)[] = [];
      partsOf(worker).jobs.notifier.subscribe("other", (payload) => heard.push(payload));
      worker.jobs.start({ pollInterval: IDLE });
      await idle();
      const admin = new pg.Client({ connectionString: inject("postgresUrl")! });
      await admin.connect();
      try {
        const channel = `cimiento:${shared.connection.dialect === "postgres" ? shared.connection.schema : ""}`;
        const listeners = async () =>
          (await admin.query<{ pid: number }>("select pid from pg_stat_activity where query = $1", [`listen "${channel}"`])).rows.map((row) => row.pid);
        const [pid] = await listeners();
        expect(pid).toBeDefined();
        // Once listening, the connection said that what came before it was not heard.
        expect(heard).toEqual([undefined]);
        await admin.query("select pg_terminate_backend($1)", [pid]);
        await expect.poll(async () => (await listeners()).filter((other) => other !== pid).length, { timeout: 10_000 }).toBe(1);
        await expect.poll(() => heard, { timeout: 5_000 }).toEqual([undefined, undefined]);
        const done = succeeded(worker);
        await producer.system.enqueue("noted", { n: 7 });
        await done;
        expect(ran).toEqual([7]);
      } finally {
        await admin.end();
      }
    });
  }
});
