import { afterAll, beforeAll, expect, test } from "vitest";
import { ApiError } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBlog, type Blog } from "./fixtures.js";

describeEachDatabase("pagination, orderBy, select and count", (db) => {
  let backend: Blog;
  let close: () => Promise<void>;
  let authorId: string;

  beforeAll(async () => {
    ({ backend, close } = await openBlog(db));
    const { data } = backend.system;
    // Ages repeat a lot and a third are null: sort keys with many ties and nulls.
    const users = await data.users.createMany(
      Array.from({ length: 30 }, (_, i) => ({
        name: `user ${String(i).padStart(2, "0")}`,
        email: `u${i}@example.com`,
        age: i % 3 === 0 ? null : i % 4,
        active: i % 2 === 0,
      })),
    );
    authorId = users[0]!.id;
    await data.posts.createMany(
      Array.from({ length: 23 }, (_, i) => ({ title: `post ${i}`, rank: i % 2, author: authorId, published: i < 10 })),
    );
  });
  afterAll(() => close());

  async function walk(options: Record<string, unknown>, limit: number) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await backend.system.data.users.list({
        ...options,
        limit,
        cursor,
      } as never);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor !== null);
    return seen;
  }

  const orders: [string, unknown][] = [
    ["the default order (id)", undefined],
    ["a key with ties, ascending", { active: "asc" }],
    ["a nullable key with ties, ascending", { age: "asc" }],
    ["a nullable key with ties, descending", { age: "desc" }],
    ["two keys in mixed directions", [{ age: "desc" }, { active: "asc" }]],
    ["three keys", [{ active: "desc" }, { age: "asc" }, { name: "desc" }]],
  ];

  for (const [name, orderBy] of orders) {
    for (const limit of [1, 4, 7]) {
      test(`cursor pages over ${name} return every record exactly once, in order (limit ${limit})`, async () => {
        const all = await backend.system.data.users.list({ orderBy: orderBy as never, limit: 1000 });
        const paged = await walk({ orderBy }, limit);
        expect(paged).toEqual(all.items.map((item) => item.id));
        expect(new Set(paged).size).toBe(30);
      });
    }
  }

  test("cursor pages respect where", async () => {
    const paged = await walk({ where: { active: true }, orderBy: { age: "desc" } }, 4);
    const expected = (await backend.system.data.users.list({ where: { active: true }, orderBy: { age: "desc" } })).items;
    expect(paged).toEqual(expected.map((item) => item.id));
    expect(paged).toHaveLength(15);
  });

  test("nulls sort first ascending and last descending, on every database", async () => {
    const ascending = (await backend.system.data.users.list({ orderBy: [{ age: "asc" }, { name: "asc" }] })).items;
    expect(ascending.slice(0, 10).every((user) => user.age === null)).toBe(true);
    expect(ascending.slice(10).map((user) => user.age)).toEqual([...ascending.slice(10).map((u) => u.age)].sort());
    const descending = (await backend.system.data.users.list({ orderBy: { age: "desc" } })).items;
    expect(descending.slice(20).every((user) => user.age === null)).toBe(true);
    expect(descending[0]!.age).toBe(3);
  });

  test("orderBy with several keys sorts by each in turn", async () => {
    const items = (await backend.system.data.posts.list({ orderBy: [{ rank: "desc" }, { title: "asc" }], limit: 5 })).items;
    expect(items.map((post) => [post.rank, post.title])).toEqual([
      [1, "post 1"],
      [1, "post 11"],
      [1, "post 13"],
      [1, "post 15"],
      [1, "post 17"],
    ]);
  });

  test("offset skips records", async () => {
    const all = (await backend.system.data.users.list({ orderBy: { name: "asc" } })).items.map((u) => u.name);
    const page = await backend.system.data.users.list({ orderBy: { name: "asc" }, offset: 25, limit: 10 });
    expect(page.items.map((u) => u.name)).toEqual(all.slice(25));
    expect(page.nextCursor).toBeNull();
  });

  test("limit defaults to 100 and a short last page has no cursor", async () => {
    await backend.system.data.tags.createMany(Array.from({ length: 101 }, (_, i) => ({ name: `tag ${i}` })));
    const first = await backend.system.data.tags.list();
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).not.toBeNull();
    const second = await backend.system.data.tags.list({ cursor: first.nextCursor });
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    await backend.system.data.tags.deleteMany({ where: {} });
  });

  test("count: true adds the total of matching records, and only then", async () => {
    const counted = await backend.system.data.posts.list({ where: { published: true }, limit: 3, count: true });
    expect(counted.items).toHaveLength(3);
    expect(counted.total).toBe(10);
    const plain = await backend.system.data.posts.list({ where: { published: true }, limit: 3 });
    expect(plain).not.toHaveProperty("total");
    expect(await backend.system.data.posts.count({ where: { published: false } })).toBe(13);
    expect(await backend.system.data.posts.count()).toBe(23);
  });

  test("select returns only the selected fields and the id", async () => {
    const page = await backend.system.data.users.list({ select: ["name", "age"], orderBy: { email: "asc" }, limit: 2 });
    for (const item of page.items) expect(Object.keys(item).sort()).toEqual(["age", "id", "name"]);
    // The cursor still works although the sort key was not selected.
    const next = await backend.system.data.users.list({
      select: ["name"],
      orderBy: { email: "asc" },
      limit: 2,
      cursor: page.nextCursor,
    });
    expect(next.items.map((item) => Object.keys(item).sort())).toEqual([
      ["id", "name"],
      ["id", "name"],
    ]);
    const emails = (await backend.system.data.users.list({ orderBy: { email: "asc" }, limit: 4 })).items.map((u) => u.id);
    expect(next.items.map((item) => item.id)).toEqual(emails.slice(2, 4));
  });

  test("get takes select too", async () => {
    const user = await backend.system.data.users.get(authorId, { select: ["email"] });
    expect(user).toEqual({ id: authorId, email: "u0@example.com" });
    expect(await backend.system.data.users.get("no-such-id")).toBeNull();
  });

  const invalid: [string, Record<string, unknown>, string, string][] = [
    ["a malformed cursor", { cursor: "not a cursor" }, "INVALID_CURSOR", "cursor: it is malformed"],
    ["a cursor and an offset", { cursor: "x", offset: 2 }, "INVALID_QUERY", "offset: use either cursor or offset"],
    ["a negative limit", { limit: -1 }, "INVALID_QUERY", "limit: expected a whole number from 0"],
    ["a fractional offset", { offset: 1.5 }, "INVALID_QUERY", "offset: expected a whole number from 0"],
    ["an unknown sort field", { orderBy: { nope: "asc" } }, "INVALID_QUERY", 'orderBy.nope: "nope" is not a field of "users"'],
    ["a bad direction", { orderBy: { name: "up" } }, "INVALID_QUERY", 'orderBy.name: expected "asc" or "desc"'],
    ["two keys in one sort object", { orderBy: { name: "asc", age: "desc" } }, "INVALID_QUERY", "each sort object names exactly one field"],
    ["a sort on JSON", { orderBy: { meta: "asc" } }, "INVALID_QUERY", "JSON fields cannot be sorted on"],
    ["an unknown select field", { select: ["name", "nope"] }, "INVALID_QUERY", 'select: "nope" is not a field of "users"'],
    ["an unknown option", { limt: 3 }, "INVALID_QUERY", "limt: unknown option of list"],
    ["a non-boolean count", { count: "yes" }, "INVALID_QUERY", "count: expected a boolean"],
  ];
  for (const [name, options, code, message] of invalid) {
    test(`refuses ${name}`, async () => {
      const error = await backend.system.data.users.list(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code, status: 400 });
      expect((error as ApiError).message).toContain(message);
    });
  }

  test("refuses a cursor made for another orderBy", async () => {
    const page = await backend.system.data.users.list({ orderBy: { name: "asc" }, limit: 2 });
    const error = await backend.system.data.users
      .list({ orderBy: { age: "asc" }, cursor: page.nextCursor })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_CURSOR", message: "cursor: it belongs to another orderBy" });
  });
});
