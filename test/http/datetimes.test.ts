/**
 * Datetimes in answers: the collection routes write the ISO text the database holds (on
 * SQLite, without making a `Date` of it), the same text as for a `Date`; code users write
 * (in-process reads, hooks of writes made over HTTP) gets `Date`s.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";

const seen: unknown[] = [];

const events = collection("events", {
  fields: {
    name: field.text(z.string().min(1)),
    at: field.datetime().optional(),
    follows: field.belongsTo("events").optional(),
  },
  access: { list: () => true, get: () => true, create: () => true },
  hooks: {
    // A hook of a write made over HTTP reads what it needs with Dates, as in-process code does.
    afterCreate: async ({ record, system }) => {
      seen.push(record["at"]);
      if (typeof record["follows"] === "string") seen.push((await system.data.events.get(record["follows"]))?.["at"]);
    },
  },
});

describeEachDatabase("datetimes in answers", (db) => {
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  const make = (database: Parameters<typeof createBackend>[0]["database"]) => createBackend({ database, collections: { events } });
  const fetchJson = async (path: string, init?: RequestInit) => {
    const response = await backend.fetch(new Request(`http://localhost${path}`, init));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = make(fresh.database as never);
    await backend.migrate();
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  test("a get, a list and an include answer each datetime as the ISO text of its Date", async () => {
    const first = await backend.system.data.events.create({ name: "first", at: new Date("2026-03-01T12:34:56.789Z") });
    const second = await backend.system.data.events.create({ name: "second", at: null, follows: first.id });
    const got = await fetchJson(`/collections/events/records/${first.id}`);
    expect(got.body).toEqual({ ...JSON.parse(JSON.stringify(first)), at: "2026-03-01T12:34:56.789Z" });
    const listed = await fetchJson(`/collections/events/records?orderBy=name&include=${encodeURIComponent(JSON.stringify({ follows: true }))}`);
    const items = listed.body["items"] as Record<string, unknown>[];
    expect(items.map((item) => item["at"])).toEqual(["2026-03-01T12:34:56.789Z", null]);
    expect((items[1]!["follows"] as Record<string, unknown>)["at"]).toBe("2026-03-01T12:34:56.789Z");
    expect(items[1]!["createdAt"]).toBe(second.createdAt.toISOString());
  });

  test("a datetime stored in another form (written by SQL) is answered as the Date it reads as", async () => {
    const odd = await backend.system.data.events.create({ name: "odd" });
    const stored = db.dialect === "sqlite" ? "2026-05-04 03:02:01" : "2026-05-04T03:02:01Z";
    await sql`update events set at = ${stored} where id = ${odd.id}`.execute(backend.db);
    const inProcess = await backend.system.data.events.get(odd.id);
    const got = await fetchJson(`/collections/events/records/${odd.id}`);
    expect(got.body["at"]).toBe((inProcess!["at"] as Date).toISOString());
  });

  test("in-process reads, and hooks of writes made over HTTP, get Dates", async () => {
    const first = await backend.system.data.events.create({ name: "before", at: new Date("2026-01-01T00:00:00.000Z") });
    seen.length = 0;
    const created = await fetchJson("/collections/events/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "after", at: "2026-01-02T00:00:00.000Z", follows: first.id }),
    });
    expect(created.status).toBe(201);
    expect(created.body["at"]).toBe("2026-01-02T00:00:00.000Z");
    expect(seen.map((value) => value instanceof Date && value.toISOString())).toEqual(["2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]);
    const read = await backend.as({ id: "u", role: "member" }).data.events.get(created.body["id"] as string);
    expect(read!["at"]).toBeInstanceOf(Date);
    expect(read!["createdAt"]).toBeInstanceOf(Date);
  });
});
