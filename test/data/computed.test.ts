import { afterAll, beforeAll, expect, expectTypeOf, test, vi } from "vitest";
import { CompiledQueryCache } from "../../src/data/compiled-query-cache.js";
import { collection, createBackend, field, SchemaError, type Backend } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBackend } from "../setup/backend.js";

const users = collection("users", {
  fields: {
    name: field.text(),
    followers: field.hasMany("follows", { on: "followee" }),
    followerCount: field.count("followers"),
    following: field.exists("followers", { where: ({ user }) => (user ? { follower: user.id } : false) }),
  },
  access: { list: () => true, get: () => true },
});

const articles = collection("articles", {
  fields: {
    title: field.text(),
    published: field.boolean().default(true),
    author: field.belongsTo("users").readOnly(),
    favorites: field.hasMany("favorites", { on: "article" }),
    favoritesCount: field.count("favorites"),
    favorited: field.exists("favorites", { where: ({ user }) => (user ? { user: user.id } : false) }),
    // A fixed filter through a relation of the related records.
    favoritedByAda: field.exists("favorites", { where: { user: { name: "Ada" } } }),
  },
  access: { list: () => true, get: () => true, create: ({ user }) => user !== null, update: () => true, delete: () => true },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: data.author ?? user?.id }) },
});

const favorites = collection("favorites", {
  fields: {
    article: field.belongsTo("articles", { onDelete: "cascade" }),
    user: field.belongsTo("users"),
    hidden: field.boolean().default(false),
  },
  // Callers only see favorites that are not hidden: hidden ones count for nobody but the system.
  access: { list: () => ({ hidden: false }), get: () => true },
});

const follows = collection("follows", {
  fields: { follower: field.belongsTo("users"), followee: field.belongsTo("users") },
  access: { list: () => true },
});

const collections = { users, articles, favorites, follows };

describeEachDatabase("computed fields", (db) => {
  let backend: Backend<typeof collections, "sqlite" | "postgres">;
  let close: () => Promise<void>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, collections));
    const { data } = backend.system;
    const [ada, bob, cy] = await data.users.createMany([{ name: "Ada" }, { name: "Bob" }, { name: "Cy" }]);
    Object.assign(ids, { ada: ada!.id, bob: bob!.id, cy: cy!.id });
    const [first, second] = await data.articles.createMany([
      { title: "first", author: ada!.id },
      { title: "second", author: bob!.id },
    ]);
    Object.assign(ids, { first: first!.id, second: second!.id });
    await data.favorites.createMany([
      { article: first!.id, user: ada!.id },
      { article: first!.id, user: bob!.id },
      { article: first!.id, user: cy!.id, hidden: true },
      { article: second!.id, user: bob!.id },
    ]);
    await data.follows.createMany([
      { follower: bob!.id, followee: ada!.id },
      { follower: cy!.id, followee: ada!.id },
    ]);
  });
  afterAll(async () => {
    await close();
  });

  test("a count and a per-caller flag come with every read, computed for the caller", async () => {
    const asBob = backend.as({ id: ids.bob!, role: "member" });
    const first = await asBob.data.articles.get(ids.first!);
    expect(first).toMatchObject({ title: "first", favoritesCount: 2, favorited: true, favoritedByAda: true });
    const asAda = backend.as({ id: ids.ada!, role: "member" });
    const page = await asAda.data.articles.list({ orderBy: { title: "asc" } });
    expect(page.items.map((a) => [a.title, a.favoritesCount, a.favorited, a.favoritedByAda])).toEqual([
      ["first", 2, true, true],
      ["second", 1, false, false],
    ]);
  });

  test("anonymous callers get false where the filter is false; the system scope counts what rules hide", async () => {
    const anonymous = await backend.as(null).data.articles.get(ids.first!);
    expect(anonymous).toMatchObject({ favoritesCount: 2, favorited: false });
    const system = await backend.system.data.articles.get(ids.first!);
    expect(system).toMatchObject({ favoritesCount: 3, favorited: false });
  });

  test("included records get their computed fields, for the same caller", async () => {
    const asBob = backend.as({ id: ids.bob!, role: "member" });
    const page = await asBob.data.articles.list({ include: { author: true }, orderBy: { title: "asc" } });
    expect(page.items.map((a) => [a.author?.name, a.author?.followerCount, a.author?.following])).toEqual([
      ["Ada", 2, true],
      ["Bob", 0, false],
    ]);
    const ada = await backend.as({ id: ids.ada!, role: "member" }).data.users.get(ids.ada!, {
      include: { followers: { include: { follower: true } } },
    });
    expect(ada?.followerCount).toBe(2);
    expect(ada?.followers.map((f) => f.follower?.following).sort()).toEqual([false, false]);
  });

  test("select takes computed fields, and leaves them out when not named", async () => {
    const asBob = backend.as({ id: ids.bob!, role: "member" });
    const picked = await asBob.data.articles.get(ids.first!, { select: ["favorited"] });
    expect(picked).toEqual({ id: ids.first, favorited: true });
    const plain = await asBob.data.articles.get(ids.first!, { select: ["title"] });
    expect(plain).toEqual({ id: ids.first, title: "first" });
  });

  test("writes return records with their computed fields", async () => {
    const asCy = backend.as({ id: ids.cy!, role: "member" });
    const created = await asCy.data.articles.create({ title: "third" });
    expect(created).toMatchObject({ title: "third", favoritesCount: 0, favorited: false });
    await backend.system.data.favorites.create({ article: created.id, user: ids.cy! });
    const updated = await asCy.data.articles.update(created.id, { title: "third!" });
    expect(updated).toMatchObject({ title: "third!", favoritesCount: 1, favorited: true });
    // A deleted record has nothing left to count: its computed fields are null.
    const deleted = await asCy.data.articles.delete(created.id);
    expect(deleted).toMatchObject({ title: "third!", favoritesCount: null, favorited: null });
  });

  test("computed fields cannot be written, filtered or sorted on", async () => {
    const asAda = backend.as({ id: ids.ada!, role: "member" });
    await expect(
      // @ts-expect-error: not writable
      asAda.data.articles.create({ title: "x", favoritesCount: 3 }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(
      // @ts-expect-error: not filterable
      asAda.data.articles.list({ where: { favoritesCount: 2 } }),
    ).rejects.toMatchObject({ code: "INVALID_QUERY", details: { path: "where.favoritesCount" } });
    await expect(
      // @ts-expect-error: not sortable
      asAda.data.articles.list({ orderBy: { favoritesCount: "desc" } }),
    ).rejects.toMatchObject({ code: "INVALID_QUERY" });
  });

  test("a seen shape reuses its SQL: the caller's id is a bound value", async () => {
    const get = vi.spyOn(CompiledQueryCache.prototype, "get");
    try {
      await backend.as({ id: ids.ada!, role: "member" }).data.articles.get(ids.first!);
      const cache = get.mock.contexts.at(-1) as CompiledQueryCache;
      const size = cache.size;
      const favorited: unknown[] = [];
      for (const id of [ids.bob!, ids.cy!]) {
        favorited.push((await backend.as({ id, role: "member" }).data.articles.get(ids.first!))?.favorited);
      }
      expect(favorited).toEqual([true, false]);
      expect(cache.size).toBe(size);
    } finally {
      get.mockRestore();
    }
  });

  test("types: a count is a number and exists a boolean, on every read", () => {
    type Article = Awaited<ReturnType<typeof backend.system.data.articles.get>>;
    expectTypeOf<NonNullable<Article>["favoritesCount"]>().toEqualTypeOf<number>();
    expectTypeOf<NonNullable<Article>["favorited"]>().toEqualTypeOf<boolean>();
  });
});

test("a computed field must name a to-many relation of its collection", () => {
  const broken = collection("broken", { fields: { n: field.count("nothing") } });
  expect(() => createBackend({ collections: { broken } })).toThrow(SchemaError);
  expect(() => createBackend({ collections: { broken } })).toThrow(/"broken.n" is computed from "nothing"/);
});
