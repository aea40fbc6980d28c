/**
 * The regression guard of the performance work, without timing anything: how many SQL
 * statements each HTTP request runs, and that SQL is compiled (and, on SQLite, prepared) once per
 * query shape, then reused by every later request of that shape.
 */
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, scryptHasher, usersCollection } from "cimiento";
import { CompiledQueryCache } from "../../src/data/compiled-query-cache.js";
import { describeEachDatabase } from "../setup/dialects.js";

const notes = collection("notes", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    owner: field.text(),
    published: field.boolean().default(false),
    views: field.integer().default(0),
    tags: field.json(z.array(z.string())).default([]),
  },
  indexes: [["published", "views"]],
  access: {
    list: () => true,
    get: () => true,
    create: () => true,
    update: ({ user }) => (user === null ? true : { owner: user.id }),
    delete: () => true,
  },
});

const drafts = collection("drafts", {
  fields: { title: field.text(), owner: field.text() },
  access: { create: ({ user }) => (user === null ? false : { owner: user.id }) },
});

/** A blog's rules: a memo is read, changed and removed when published or by its owner. */
const readable = ({ user }: { user: { id: string } | null }) => (user === null ? { published: true } : { or: [{ published: true }, { owner: user.id }] });
const memos = collection("memos", {
  fields: { title: field.text(), owner: field.text(), published: field.boolean().default(false) },
  access: { list: readable, get: readable, create: () => true, update: readable, delete: readable },
});

/** Rules by time: `get` and `update` hold the same instant as two Dates, `delete` another one. */
const CUTOFF = Date.UTC(2026, 0, 1);
const events = collection("events", {
  fields: { title: field.text(), at: field.datetime() },
  access: {
    get: () => ({ at: { lt: new Date(CUTOFF) } }),
    update: () => ({ at: { lt: new Date(CUTOFF) } }),
    delete: () => ({ at: { lt: new Date(CUTOFF - 1) } }),
    create: () => true,
  },
});

const view = action({
  input: z.object({ id: z.string() }),
  http: { method: "POST", path: "/notes/:id/view" },
  access: () => true,
  async handler({ input, data }) {
    const note = await data.notes.get(input.id);
    if (note === null) throw new ApiError(404, "NOTE_NOT_FOUND", "No such note");
    return data.notes.update(note.id, { views: (note.views as number) + 1 });
  },
});

const LIST = `/collections/notes/records?where=${encodeURIComponent(JSON.stringify({ published: true }))}&orderBy=-views&limit=20`;

describeEachDatabase("statements per request", (db) => {
  let backend: ReturnType<typeof open>;
  let drop: () => Promise<void>;
  let statements: string[] = [];
  let ids: string[] = [];

  function open(database: Parameters<typeof createBackend>[0]["database"]) {
    return createBackend({ database: database!, collections: { notes, drafts, memos, events }, actions: { view } });
  }

  beforeAll(async () => {
    const fresh = await db.fresh({
      log: (event) => {
        if (event.level === "query") statements.push(event.query.sql);
      },
    });
    drop = fresh.drop;
    backend = open(fresh.database);
    await backend.migrate();
    const created = await backend.system.data.notes.createMany(
      Array.from({ length: 30 }, (_, i) => ({ title: `note ${i}`, owner: `user-${i % 3}`, published: i % 2 === 0, views: i })),
    );
    ids = created.map((note) => note.id);
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });
  beforeEach(() => {
    statements = [];
  });

  async function send(path: string, init?: RequestInit): Promise<Response> {
    const response = await backend.fetch(new Request(`http://localhost${path}`, init));
    await response.arrayBuffer();
    return response;
  }

  function json(method: string, body: unknown): RequestInit {
    return { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  }

  /** The statements the data layer runs (a transaction's begin and commit aside). */
  function queries(): string[] {
    return statements.filter((sql) => !/^(begin|commit|rollback|savepoint|release)\b/i.test(sql.trim()));
  }

  test("getting a record by id is one statement", async () => {
    expect((await send(`/collections/notes/records/${ids[0]}`)).status).toBe(200);
    expect(queries()).toHaveLength(1);
  });

  test("a filtered, sorted page is one statement, and two with its count", async () => {
    expect((await send(LIST)).status).toBe(200);
    expect(queries()).toHaveLength(1);
    statements = [];
    expect((await send(`${LIST}&count=true`)).status).toBe(200);
    expect(queries()).toHaveLength(2);
  });

  test("creating a record with no hooks and an unconditional rule is one statement, outside a transaction", async () => {
    expect((await send("/collections/notes/records", json("POST", { title: "new", owner: "user-1" }))).status).toBe(201);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^insert into/i);
  });

  test("updating and deleting a record are one statement each", async () => {
    expect((await send(`/collections/notes/records/${ids[1]}`, json("PATCH", { title: "changed" }))).status).toBe(200);
    expect(statements).toHaveLength(1);
    statements = [];
    const { id } = await backend.system.data.notes.create({ title: "doomed", owner: "user-1" });
    statements = [];
    expect((await send(`/collections/notes/records/${id}`, { method: "DELETE" })).status).toBe(204);
    expect(statements).toHaveLength(1);
  });

  test("an action that reads and updates runs those two statements in one transaction", async () => {
    expect((await send(`/notes/${ids[2]}/view`, { method: "POST" })).status).toBe(200);
    expect(queries()).toHaveLength(2);
    expect(queries()[0]).toMatch(/^select/i);
    expect(queries()[1]).toMatch(/^update/i);
  });

  test("a filter rule is pushed into the one statement of an update, outside a transaction", async () => {
    const alice = backend.as({ id: "user-0", role: "member" });
    statements = [];
    await alice.data.notes.update(ids[0]!, { title: "mine", owner: "user-0" });
    // The record before the change, and as the change would leave it, must match the rule.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^update .* where .*"owner".* and exists \(select 1 from \(select .*"owner"/i);
  });

  test("an update that sets no column its rule reads checks the rule once, on the record before the change", async () => {
    const alice = backend.as({ id: "user-0", role: "member" });
    statements = [];
    await alice.data.notes.update(ids[0]!, { title: "mine again" });
    // The rule reads "owner", which the change keeps: as the record is, so it will be.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^update .* where .*"owner"/i);
    expect(statements[0]).not.toMatch(/exists/i);
  });

  test("a rule the same as another the statement holds is held once, and still refuses what it refuses", async () => {
    const [mine, theirs, published] = await backend.system.data.memos.createMany([
      { title: "mine", owner: "user-0" },
      { title: "theirs", owner: "user-1" },
      { title: "published", owner: "user-1", published: true },
    ]);
    const alice = backend.as({ id: "user-0", role: "member" });
    const testsOfPublished = (sql: string) => sql.split('"published"').length - 1;
    statements = [];
    expect(await alice.data.memos.update(mine!.id, { title: "still mine" })).toMatchObject({ title: "still mine" });
    expect(statements).toHaveLength(1);
    // get and update: one rule, one test of "published"
    expect(testsOfPublished(statements[0]!)).toBe(1);
    await expect(alice.data.memos.update(theirs!.id, { title: "taken" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    statements = [];
    expect(await alice.data.memos.updateMany({ where: {}, data: { title: "all" } })).toEqual({ count: 2 });
    expect(statements).toHaveLength(1);
    expect(testsOfPublished(statements[0]!)).toBe(1);
    statements = [];
    await alice.data.memos.delete(published!.id);
    expect(statements).toHaveLength(1);
    expect(testsOfPublished(statements[0]!)).toBe(1);
    await expect(alice.data.memos.delete(theirs!.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await backend.system.data.memos.get(theirs!.id))?.title).toBe("theirs");
  });

  test("rules with Dates are the same when they hold the same instant, and both held when not", async () => {
    const [past, edge] = await backend.system.data.events.createMany([
      { title: "past", at: new Date(CUTOFF - 60_000) },
      { title: "edge", at: new Date(CUTOFF - 1) },
    ]);
    const alice = backend.as({ id: "user-0", role: "member" });
    const testsOfAt = (sql: string) => sql.split('"at"').length - 1;
    statements = [];
    await alice.data.events.update(past!.id, { title: "still past" });
    expect(testsOfAt(statements[0]!)).toBe(1);
    statements = [];
    // get's instant and delete's differ: both are held, and the edge is outside delete's.
    await expect(alice.data.events.delete(edge!.id)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(testsOfAt(statements[0]!)).toBe(2);
    await alice.data.events.delete(past!.id);
    expect(await backend.system.data.events.get(past!.id)).toBeNull();
  });

  test("updateMany checks its rule after the change in a statement of its own only when the change sets a column the rule reads", async () => {
    const alice = backend.as({ id: "user-0", role: "member" });
    statements = [];
    expect(await alice.data.notes.updateMany({ where: { views: { lt: 6 } }, data: { title: "bulk" } })).toEqual({ count: 2 });
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^update /i);
    statements = [];
    expect(await alice.data.notes.updateMany({ where: { views: { lt: 6 } }, data: { owner: "user-0" } })).toEqual({ count: 2 });
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^select .* not exists/i);
  });

  test("a filter rule is pushed into the one statement of a create, outside a transaction", async () => {
    const alice = backend.as({ id: "user-0", role: "member" });
    statements = [];
    await alice.data.drafts.create({ title: "mine", owner: "user-0" });
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^insert into "drafts" .* select .* from \(select .* where .*"owner"/i);
    statements = [];
    await expect(alice.data.drafts.create({ title: "theirs", owner: "user-1" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(statements).toHaveLength(1);
  });

  describe("reuse", () => {
    let compiled: ReturnType<typeof vi.spyOn>;

    beforeEach(() => {
      // A compile happens only on a cache miss: count them through the cache's size.
      compiled = vi.spyOn(CompiledQueryCache.prototype, "get");
    });
    afterEach(() => {
      compiled.mockRestore();
    });

    test("a request of a shape seen before compiles no SQL (and on SQLite prepares no statement)", async () => {
      const prepare = vi.spyOn(BetterSqlite3.prototype, "prepare");
      const requests: [string, RequestInit?][] = [
        [`/collections/notes/records/${ids[3]}`],
        // A shape no earlier test asked for: the first round must compile (and prepare) it.
        [`/collections/notes/records/${ids[3]}?select=title,views`],
        [LIST],
        [`${LIST}&count=true`],
        ["/collections/notes/records", json("POST", { title: "again", owner: "user-2", tags: ["a"] })],
        [`/collections/notes/records/${ids[4]}`, json("PATCH", { title: "again" })],
        [`/notes/${ids[5]}/view`, { method: "POST" }],
      ];
      const cache = () => compiled.mock.contexts.at(-1) as CompiledQueryCache;
      await send(`/collections/notes/records/${ids[3]}`);
      const before = cache().size;
      for (const [path, init] of requests) await send(path, init); // every shape seen once
      const cached = cache().size;
      expect(cached).toBe(before + 1);
      const prepared = prepare.mock.calls.length;
      expect(prepared).toBe(db.dialect === "sqlite" ? 1 : 0);
      compiled.mockClear();
      for (let round = 0; round < 5; round++) {
        for (const [path, init] of requests) expect((await send(path, init)).status).toBeLessThan(300);
      }
      expect(compiled.mock.calls.length).toBeGreaterThanOrEqual(5 * requests.length);
      expect(cache().size).toBe(cached);
      expect(prepare.mock.calls.length).toBe(prepared);
      prepare.mockRestore();
    });

    test("calls through backend.as() of different callers share the compiled SQL of a shape", async () => {
      await backend.as({ id: "user-1", role: "member" }).data.notes.get(ids[6]!);
      const size = (compiled.mock.contexts[0] as CompiledQueryCache).size;
      for (let i = 0; i < 10; i++) await backend.as({ id: `someone-${i}`, role: "member" }).data.notes.get(ids[i]!);
      expect((compiled.mock.contexts.at(-1) as CompiledQueryCache).size).toBe(size);
    });
  });
});

describeEachDatabase("statements per request, signed in", (db) => {
  let statements: string[] = [];

  test("a request with a session token adds one statement: the session and its user, read together", async () => {
    const fresh = await db.fresh({
      log: (event) => {
        if (event.level === "query") statements.push(event.query.sql);
      },
    });
    const backend = createBackend({
      database: fresh.database,
      collections: { notes },
      auth: { password: { hasher: scryptHasher({ logN: 10 }) } },
    });
    try {
      await backend.migrate();
      const ada = await backend.auth.createUser({ email: "ada@example.com", password: "a long password", emailVerified: true });
      const { id } = await backend.system.data.notes.create({ title: "mine", owner: ada.id });
      const { token } = await backend.auth.createSession(ada.id);
      for (let i = 0; i < 2; i++) {
        statements = [];
        const response = await backend.fetch(
          new Request(`http://localhost/collections/notes/records/${id}`, { headers: { authorization: `Bearer ${token}` } }),
        );
        expect(response.status).toBe(200);
        expect(statements).toHaveLength(2);
        expect(statements[0]).toMatch(/from "cimiento_sessions" inner join "users"/);
      }
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });

  /** The statements of `GET /auth/session` with a backend of these `users`, and its answer's user. */
  async function sessionRoute(users?: Parameters<typeof usersCollection>[0]) {
    const fresh = await db.fresh({
      log: (event) => {
        if (event.level === "query") statements.push(event.query.sql);
      },
    });
    const backend = createBackend({
      database: fresh.database,
      collections: users === undefined ? { notes } : { notes, users: usersCollection(users) },
      auth: { password: { hasher: scryptHasher({ logN: 10 }) } },
    });
    try {
      await backend.migrate();
      const ada = await backend.auth.createUser({ email: "ada@example.com", password: "a long password", emailVerified: true });
      const { token } = await backend.auth.createSession(ada.id);
      statements = [];
      const response = await backend.fetch(new Request("http://localhost/auth/session", { headers: { authorization: `Bearer ${token}` } }));
      expect(response.status).toBe(200);
      const { user } = (await response.json()) as { user: Record<string, unknown> };
      const run = [...statements];
      const read = await backend.as({ id: ada.id, role: "user" }).data.users.get(ada.id);
      return { statements: run, user, read: JSON.parse(JSON.stringify(read)) as Record<string, unknown> | null };
    } finally {
      await backend.close();
      await fresh.drop();
    }
  }

  test("GET /auth/session is one statement when the user's own record is what the session read", async () => {
    const { statements: run, user, read } = await sessionRoute();
    expect(run).toHaveLength(1);
    expect(user).toEqual(read);
  });

  test("GET /auth/session reads the record again when a field rule or the get rule says otherwise", async () => {
    const masked = await sessionRoute({
      fields: { nickname: field.text().optional().access({ read: ({ user }) => user?.role === "admin" }) },
    });
    expect(masked.statements).toHaveLength(1);
    expect(masked.user).toEqual(masked.read);
    expect(Object.hasOwn(masked.user, "nickname")).toBe(false);
    const verifiedOnly = await sessionRoute({ access: { get: () => ({ emailVerified: true }) } });
    expect(verifiedOnly.statements).toHaveLength(2);
    expect(verifiedOnly.user).toEqual(verifiedOnly.read);
  });
});
