/**
 * Hostile input, over HTTP on every database and through fetch, Express and Hono: nothing a
 * request sends reaches a prototype, and every request's work is bounded (include depth and
 * breadth, records per request, `where` depth and size, query length, body depth), each bound
 * answered with a 400 that names it; text with NUL is refused alike on every database; an API
 * key limited to some collections does not read others through computed fields.
 */
import { beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, userFields, usersCollection, type Principal } from "cimiento";
import { describeEachServer, read, REQUEST_ID } from "./support.js";
import { bearer, fastHasher } from "../auth/support.js";

type Row = Record<string, unknown> & { id: string };

const readable = (user: Principal | null) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] });

const users = usersCollection({
  fields: {
    name: field.text().optional(),
    email: userFields.email.access({ read: ({ user }) => user?.role === "admin" }),
    posts: field.hasMany("posts", { on: "author" }),
  },
  access: { list: () => true, get: () => true },
});
const posts = collection("posts", {
  fields: {
    title: field.text(),
    published: field.boolean().default(true),
    meta: field.json(z.unknown()).optional(),
    rank: field.integer().default(0),
    at: field.datetime().optional(),
    slug: field.text().unique().optional(),
    author: field.belongsTo("users"),
    comments: field.hasMany("comments", { on: "post" }),
    commentCount: field.count("comments"),
  },
  access: {
    list: ({ user }) => readable(user),
    get: ({ user }) => readable(user),
    create: ({ user }) => user !== null,
  },
});
const comments = collection("comments", {
  fields: { body: field.text(), post: field.belongsTo("posts") },
  access: { list: () => true, get: () => true },
});
const echo = action({
  input: z.looseObject({}),
  access: () => true,
  handler: ({ input }) => ({ keys: Object.keys(input), inherited: (input as Record<string, unknown>)["polluted"] ?? null }),
});

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: { users, posts, comments },
    actions: { echo },
    auth: { password: { hasher: fastHasher, requireEmailVerification: false } },
    limits: { maxLimit: 10, rowsPerRequest: 200, queryLength: 4000, whereDepth: 8, whereConditions: 20, jsonDepth: 16 },
  });
}

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));

function problem(status: number, code: string, extra: Record<string, unknown> = {}) {
  return {
    status,
    type: "application/problem+json",
    body: expect.objectContaining({ status, code, requestId: expect.stringMatching(REQUEST_ID), ...extra }),
  };
}

describeEachServer("hostile input", makeBackend, (served) => {
  let ada: Row;
  let first: Row;
  let key: string;

  beforeAll(async () => {
    const { data } = served.backend.system;
    ada = await data.users.create({ name: "Ada", email: `ada-${served.way}@example.com` });
    const written = await data.posts.createMany(
      Array.from({ length: 12 }, (_, i) => ({ title: `post ${String(i).padStart(2, "0")}`, author: ada.id })),
    );
    first = written[0]!;
    await data.comments.createMany(Array.from({ length: 15 }, (_, i) => ({ body: `comment ${i}`, post: first.id })));
    ({ key } = await served.backend.auth.apiKeys.create({ name: "posts only", collections: ["posts"] }));
  });

  const get = async (path: string, headers: Record<string, string> = {}) => read(await served.request(path, { headers }));
  const list = (query: string) => get(`/collections/posts/records?${query}`);

  test("a reading that works, as the yardstick of the refusals below", async () => {
    const page = await list("include=author&limit=2");
    expect(page.status).toBe(200);
    expect((page.body as { items: Row[] }).items[0]!["author"]).toMatchObject({ id: ada.id, name: "Ada" });
  });

  test.each([
    ["include=__proto__.x", "include", "__proto__"],
    ["include=constructor.prototype.x", "include", "constructor"],
    ["include=author.__proto__", "include", "__proto__"],
    ["orderBy=__proto__", "orderBy", "__proto__"],
    ["orderBy=-constructor", "orderBy", "constructor"],
    ["select=title,__proto__", "select", "__proto__"],
  ])("%s is refused with INVALID_QUERY naming the key, and changes nothing for later requests", async (query, parameter, name) => {
    expect(await list(query)).toMatchObject(problem(400, "INVALID_QUERY", { path: parameter, detail: expect.stringContaining(`"${name}" is refused`) }));
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect((await list("limit=1")).status).toBe(200);
    expect(await served.backend.system.data.posts.list({ limit: 1 })).toMatchObject({ items: [expect.any(Object)] });
  });

  test.each([
    ["include", '{"__proto__":{"include":{"x":true}}}'],
    ["include", '{"author":{"include":{"constructor":{"prototype":{"x":true}}}}}'],
    ["where", '{"__proto__":{"published":true}}'],
    ["where", '{"and":[{"title":{"constructor":{"prototype":{"polluted":1}}}}]}'],
  ])("JSON in %s with a key that reaches a prototype (%s) is refused, saying so", async (parameter, text) => {
    expect(await list(`${parameter}=${encodeURIComponent(text)}`)).toMatchObject(
      problem(400, "INVALID_QUERY", { path: parameter, detail: expect.stringContaining('"__proto__" key, or a "constructor" key holding "prototype"') }),
    );
  });

  test("a body with a __proto__ key, at any depth, is refused with INVALID_JSON; nothing is written", async () => {
    const before = await served.backend.system.data.posts.count();
    const { token } = await served.backend.auth.createSession(
      (await served.backend.auth.createUser({ email: `hostile-${served.way}-${Date.now()}@example.com`, password: "correct horse battery" })).id,
    );
    for (const body of ['{"title":"x","author":"a","__proto__":{"published":false}}', '{"title":"x","meta":{"a":[{"__proto__":{"x":1}}]}}']) {
      const response = await served.request("/collections/posts/records", {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body,
      });
      expect(await read(response)).toMatchObject(problem(400, "INVALID_JSON", { detail: expect.stringContaining('"__proto__" key') }));
    }
    expect(await served.backend.system.data.posts.count()).toBe(before);
  });

  test("an action's input cannot bring a prototype: from the body, nor from repeated query parameters", async () => {
    const fromBody = await served.request("/actions/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1,"__proto__":{"polluted":true}}',
    });
    expect(await read(fromBody)).toMatchObject(problem(400, "INVALID_JSON"));
    const fromQuery = await served.request("/actions/echo?__proto__=a&__proto__=b", { method: "POST" });
    expect(await read(fromQuery)).toMatchObject(problem(400, "INVALID_QUERY", { path: "__proto__" }));
    const fine = await served.json("POST", "/actions/echo?b=2", { a: 1 });
    expect(await read(fine)).toMatchObject({ status: 200, body: { keys: ["b", "a"], inherited: null } });
  });

  test("in-process, an include or where parsed from JSON with __proto__ is refused and reaches no prototype", async () => {
    const include = JSON.parse('{"__proto__":{"include":{"x":true}}}') as Record<string, unknown>;
    const where = JSON.parse('{"__proto__":{"published":true}}') as Record<string, unknown>;
    for (const scope of [served.backend.system, served.backend.as(null)]) {
      await expect(scope.data.posts.list({ include } as never)).rejects.toMatchObject({ code: "INVALID_QUERY" });
      await expect(scope.data.posts.list({ where } as never)).rejects.toMatchObject({ code: "INVALID_QUERY" });
    }
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  test("an include chain past includeDepth (3) is refused before anything is read, naming the limit", async () => {
    const chain = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? "author" : "posts")).join(".");
    expect(await list(`include=${chain}`)).toMatchObject(
      problem(400, "LIMIT_EXCEEDED", { limit: "includeDepth", max: 3, detail: expect.stringContaining("limits.includeDepth is 3") }),
    );
    expect(await list("include=author.posts.author.posts&limit=1")).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "includeDepth" }));
    const three = await list("include=author.posts.author&limit=1");
    expect(three.status).toBe(200);
  });

  test("a to-many include returns at most maxLimit related records, and a larger limit is refused", async () => {
    const one = await get(`/collections/posts/records/${first.id}?include=comments`);
    expect(one.status).toBe(200);
    expect((one.body as { comments: unknown[] }).comments).toHaveLength(10);
    const inProcess = await served.backend.as(null).data.posts.get(first.id, { include: { comments: true } });
    expect(inProcess!.comments).toHaveLength(10);
    const all = await served.backend.system.data.posts.get(first.id, { include: { comments: true } });
    expect(all!.comments).toHaveLength(15);
    expect(await list(`include=${q({ comments: { limit: 1e15 } })}`)).toMatchObject(
      problem(400, "INVALID_QUERY", { path: "include.comments.limit", detail: "include.comments.limit: at most 10" }),
    );
    expect(await list(`include=${q({ comments: { limit: 11 } })}`)).toMatchObject(problem(400, "INVALID_QUERY"));
    expect(await list("limit=11")).toMatchObject(problem(400, "INVALID_QUERY", { path: "limit" }));
  });

  test("records are counted where they are written out: a shared author counts at every post", async () => {
    // 10 posts × (the post, its author, the author's 10 posts) = 120 records, from 21 rows read.
    expect((await list("limit=10&include=author.posts")).status).toBe(200);
    // 10 × (1 + 1 + 10 × (1 + 1)) = 220: over the 200 the backend allows.
    expect(await list("limit=10&include=author.posts.author")).toMatchObject(
      problem(400, "LIMIT_EXCEEDED", { limit: "rowsPerRequest", max: 200 }),
    );
    await expect(
      served.backend.as(null).data.posts.list({ limit: 10, include: { author: { include: { posts: { include: { author: true } } } } } }),
    ).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    // The system scope is not bounded.
    const system = await served.backend.system.data.posts.list({
      limit: 12,
      include: { author: { include: { posts: { include: { author: { include: { posts: true } } } } } } },
    });
    expect(system.items).toHaveLength(12);
  });

  test("a where nested past whereDepth, or with more than whereConditions tests, is refused; in-process too", async () => {
    const nest = (levels: number) => {
      let where: unknown = { title: "x" };
      for (let i = 0; i < levels; i++) where = i % 2 === 0 ? { not: where } : { and: [where] };
      return where;
    };
    expect(await list(`where=${q(nest(8))}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "whereDepth", max: 8 }));
    expect((await list(`where=${q(nest(7))}`)).status).toBe(200);
    const deep = nest(3000);
    await expect(served.backend.as(null).data.posts.list({ where: deep as never })).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
      details: { limit: "whereDepth", max: 8 },
    });
    const wide = { or: Array.from({ length: 21 }, (_, i) => ({ title: `t${i}` })) };
    expect(await list(`where=${q(wide)}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "whereConditions", max: 20 }));
    const nested = { comments: { some: { or: Array.from({ length: 21 }, (_, i) => ({ body: `b${i}` })) } } };
    await expect(served.backend.as(null).data.posts.count({ where: nested as never })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
    const inInclude = { comments: { where: wide.or.reduce<unknown>((inner) => ({ not: inner }), { body: "x" }) } };
    expect(await list(`include=${q(inInclude)}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "whereDepth" }));
    expect((await list(`where=${q({ or: wide.or.slice(0, 20) })}`)).status).toBe(200);
    // Filters that test nothing are terms of the SQL all the same: a list of them counts them.
    const empty = { or: Array.from({ length: 21 }, () => ({})) };
    expect(await list(`where=${q(empty)}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "whereConditions", max: 20 }));
    const emptyLists = { and: Array.from({ length: 21 }, () => ({ or: [] })) };
    expect(await list(`where=${q(emptyLists)}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "whereConditions", max: 20 }));
    await expect(served.backend.as(null).data.posts.list({ where: { and: Array.from({ length: 21 }, () => undefined) } as never })).rejects.toMatchObject({
      code: "LIMIT_EXCEEDED",
    });
    expect((await list(`where=${q({ or: empty.or.slice(0, 20) })}`)).status).toBe(200);
  });

  test("a query string past queryLength, and a body nested past jsonDepth, are refused", async () => {
    expect(await list(`where=${q({ title: "x".repeat(4000) })}`)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "queryLength", max: 4000 }));
    const body = `{"a":${"[".repeat(17)}${"]".repeat(17)}}`;
    const response = await served.request("/actions/echo", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(await read(response)).toMatchObject(problem(400, "LIMIT_EXCEEDED", { limit: "jsonDepth", max: 16 }));
  });

  test("NUL in a filter value is INVALID_QUERY, in a cursor INVALID_CURSOR, in an id INVALID_QUERY", async () => {
    for (const where of [{ title: "a\u0000b" }, { title: { contains: "\u0000" } }, { title: { in: ["ok", "n\u0000"] } }]) {
      expect(await list(`where=${q(where)}`)).toMatchObject(
        problem(400, "INVALID_QUERY", { detail: expect.stringContaining("NUL character (U+0000)") }),
      );
    }
    const cursor = Buffer.from(JSON.stringify(["id+", ["\u0000"]])).toString("base64url");
    expect(await list(`cursor=${cursor}`)).toMatchObject(problem(400, "INVALID_CURSOR"));
    expect(await get("/collections/posts/records/a%00b")).toMatchObject(problem(400, "INVALID_QUERY", { path: "id" }));
  });

  test("a non-whole number for an integer field, or a date-time past year 9999, is refused in filters and cursors", async () => {
    for (const where of [{ rank: { gt: 0.5 } }, { rank: { in: [1e20] } }, { rank: 1.5 }, { at: { lt: "+200000-01-01T00:00:00Z" } }, { at: { gt: "0000-06-01T00:00:00Z" } }]) {
      expect(await list(`where=${q(where)}`)).toMatchObject(problem(400, "INVALID_QUERY", { path: expect.stringMatching(/^where\.(rank|at)/) }));
    }
    await expect(served.backend.as(null).data.posts.list({ where: { at: { gt: new Date(-8.64e15) } } })).rejects.toMatchObject({ code: "INVALID_QUERY" });
    const forged = (order: string, values: unknown[]) => Buffer.from(JSON.stringify([order, values])).toString("base64url");
    expect(await list(`orderBy=rank&cursor=${forged("rank+,id+", [0.5, "x"])}`)).toMatchObject(problem(400, "INVALID_CURSOR"));
    expect(await list(`orderBy=at&cursor=${forged("at+,id+", ["-200000-01-01T00:00:00Z", "x"])}`)).toMatchObject(problem(400, "INVALID_CURSOR"));
    expect((await list(`where=${q({ rank: { gte: 0 }, at: { isNull: true } })}`)).status).toBe(200);
  });

  test("upsert's value is checked as a filter's: NUL, a wrong type or a non-whole number is INVALID_QUERY", async () => {
    const { data } = served.backend.system;
    const args = (value: unknown) => ({ where: { slug: value }, create: { title: "u", author: ada.id }, update: {} }) as never;
    for (const value of ["a\u0000b", 12, true]) {
      await expect(data.posts.upsert(args(value))).rejects.toMatchObject({ code: "INVALID_QUERY", details: { path: "where.slug" } });
    }
    await expect(data.posts.upsert({ where: { id: "x\u0000" }, create: { title: "u", author: ada.id }, update: {} })).rejects.toMatchObject({
      code: "INVALID_QUERY",
    });
  });

  test("a text too long for an index is a 422 naming the field on PostgreSQL, and stored on SQLite: never a 500", async () => {
    const { token } = await served.backend.auth.createSession(
      (await served.backend.auth.createUser({ email: `long-${served.way}-${Date.now()}@example.com`, password: "correct horse battery" })).id,
    );
    const slug = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 7919) % 251)).toString("base64");
    const response = await served.json("POST", "/collections/posts/records", { title: "long", author: ada.id, slug }, bearer(token));
    if (served.dialect === "postgres") {
      expect(await read(response)).toMatchObject(
        problem(422, "VALIDATION_FAILED", { issues: [expect.objectContaining({ path: ["slug"], code: "too_big" })] }),
      );
    } else {
      expect(response.status).toBe(201);
    }
  });

  test("NUL in a written text or JSON value is a 422 naming the field, on every database; nothing is written", async () => {
    const { token } = await served.backend.auth.createSession(
      (await served.backend.auth.createUser({ email: `nul-${served.way}-${Date.now()}@example.com`, password: "correct horse battery" })).id,
    );
    const before = await served.backend.system.data.posts.count();
    const cases: [Record<string, unknown>, string][] = [
      [{ title: "a\u0000b", author: ada.id }, "title"],
      [{ title: "ok", author: ada.id, meta: { tags: ["x\u0000"] } }, "meta"],
      [{ title: "ok", author: "a\u0000" }, "author"],
    ];
    for (const [body, name] of cases) {
      const response = await served.json("POST", "/collections/posts/records", body, bearer(token));
      expect(await read(response)).toMatchObject(
        problem(422, "VALIDATION_FAILED", { issues: [expect.objectContaining({ path: [name], message: expect.stringContaining("NUL") })] }),
      );
    }
    await expect(served.backend.system.data.posts.create({ title: "a\u0000", author: ada.id })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    await expect(served.backend.system.data.posts.create({ title: "deep", author: ada.id, meta: deep })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      issues: [expect.objectContaining({ path: ["meta"], message: "JSON may nest at most 256 levels deep" })],
    });
    expect(await served.backend.system.data.posts.count()).toBe(before);
  });

  test("an API key's name with NUL, or a lifetime past 100 years, is a 422 naming the field; no key is made", async () => {
    const owner = await served.backend.auth.createUser({ email: `keys-${served.way}-${Date.now()}@example.com`, password: "correct horse battery" });
    const { token } = await served.backend.auth.createSession(owner.id);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "a\u0000b" }, "name"],
      [{ name: "far", expiresIn: 5.4e222 }, "expiresIn"],
      [{ name: "far", expiresIn: "101y" }, "expiresIn"],
    ];
    for (const [body, name] of cases) {
      const response = await served.json("POST", "/auth/api-keys", body, bearer(token));
      expect(await read(response)).toMatchObject(problem(422, "VALIDATION_FAILED", { issues: [expect.objectContaining({ path: [name] })] }));
    }
    expect(await served.backend.auth.apiKeys.list(owner.id)).toEqual([]);
    const lasting = await served.json("POST", "/auth/api-keys", { name: "long", expiresIn: "99y" }, bearer(token));
    expect(lasting.status).toBe(201);
  });

  test("an API key limited to posts cannot read a computed field counted in comments, unless it selects around it", async () => {
    const denied = await get("/collections/posts/records?limit=1", bearer(key));
    expect(denied).toMatchObject(problem(403, "FORBIDDEN", { detail: 'This API key may not use the collection "comments".' }));
    expect((await get(`/collections/posts/records/${first.id}`, bearer(key))).status).toBe(403);
    const selected = await get("/collections/posts/records?limit=1&select=title", bearer(key));
    expect(selected.status).toBe(200);
    expect(Object.keys((selected.body as { items: Row[] }).items[0]!).sort()).toEqual(["id", "title"]);
  });
});

test("limits are whole numbers from 1, and only the known ones", () => {
  const notes = collection("notes", { fields: { body: field.text() } });
  expect(() => createBackend({ collections: { notes }, limits: { includeDepth: 0 } })).toThrow(
    "limits.includeDepth must be a whole number from 1, not 0.",
  );
  expect(() => createBackend({ collections: { notes }, limits: { depth: 2 } as never })).toThrow(/limits.depth is not a limit/);
  expect(new ApiError(400, "LIMIT_EXCEEDED", "x").status).toBe(400);
});
