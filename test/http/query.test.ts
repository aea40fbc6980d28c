/**
 * The query parameters of the collection routes: `where` (JSON), `orderBy` (`-createdAt,title`),
 * `limit` (default 20, at most 100), `cursor`, `offset`, `include` (a comma list with dotted
 * nesting, or a JSON object), `select` and `count`; an unknown or repeated parameter is 400.
 * Each runs through fetch, Express and Hono, on every database.
 */
import { beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field } from "cimiento";
import { describeEachServer, read, REQUEST_ID } from "./support.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };

const users = collection("users", { fields: { name: field.text() }, access: open });
const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    rank: field.integer().default(0),
    published: field.boolean().default(false),
    author: field.belongsTo("users"),
  },
  access: open,
});
const comments = collection("comments", {
  fields: { body: field.text(), post: field.belongsTo("posts", { onDelete: "cascade" }), author: field.belongsTo("users") },
  access: open,
});

/** What a record looks like over HTTP: JSON (dates as ISO strings). */
type Json = Record<string, unknown> & { id: string; title: string; rank: number; published: boolean; createdAt: string };
const asJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));

function invalidQuery(detail: string, path?: string) {
  return {
    status: 400,
    type: "application/problem+json",
    body: {
      type: "about:blank",
      title: "Bad Request",
      status: 400,
      detail,
      code: "INVALID_QUERY",
      requestId: expect.stringMatching(REQUEST_ID),
      ...(path === undefined ? {} : { path }),
    },
  };
}

const byTitle = (a: Json, b: Json) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0);

describeEachServer(
  "HTTP query parameters",
  (database) => createBackend({ database, collections: { users, posts, comments } }),
  (served) => {
    let ada: Record<string, unknown> & { id: string };
    let bob: Record<string, unknown> & { id: string };
    /** The 25 posts, in creation (id) order. */
    let all: Json[];
    let first: Json;
    let firstComments: Record<string, unknown>[];

    beforeAll(async () => {
      const { data } = served.backend.system;
      ada = asJson(await data.users.create({ name: "Ada" }));
      bob = asJson(await data.users.create({ name: "Bob" }));
      all = [];
      for (let i = 1; i <= 25; i++) {
        const post = await data.posts.create({
          title: `Post ${String(i).padStart(2, "0")}`,
          rank: i % 3,
          published: i % 2 === 0,
          author: i % 5 === 0 ? bob.id : ada.id,
        });
        all.push(asJson(post) as unknown as Json);
      }
      first = all[0]!;
      firstComments = [
        asJson(await data.comments.create({ body: "First", post: first.id, author: bob.id })),
        asJson(await data.comments.create({ body: "Second", post: first.id, author: ada.id })),
      ];
    });

    const list = async (query: string) => read(await served.request(`/collections/posts/records${query}`));

    test("without limit, a page has 20 records (the default), in id order, and a cursor", async () => {
      const { status, body } = await list("");
      expect(status).toBe(200);
      const page = body as { items: Json[]; nextCursor: string | null };
      expect(page.items).toEqual(all.slice(0, 20));
      expect(page.nextCursor).toEqual(expect.any(String));
    });

    test("limit is at most 100; 101 is 400 INVALID_QUERY", async () => {
      expect(await list("?limit=100")).toEqual({ status: 200, type: "application/json", body: { items: all, nextCursor: null } });
      expect(await list("?limit=101")).toEqual(invalidQuery("limit: at most 100", "limit"));
    });

    test("limit must be a whole number from 0", async () => {
      for (const bad of ["abc", "-1", "1.5", ""]) {
        expect(await list(`?limit=${bad}`)).toEqual(invalidQuery("limit: expected a whole number from 0", "limit"));
      }
      expect(await list("?limit=0")).toEqual({ status: 200, type: "application/json", body: { items: [], nextCursor: null } });
      expect(await list("?limit=3")).toMatchObject({ status: 200, body: { items: all.slice(0, 3) } });
    });

    test("where is a JSON filter", async () => {
      const published = await list(`?limit=100&where=${q({ published: true, rank: { gte: 1 } })}`);
      expect(published).toEqual({
        status: 200,
        type: "application/json",
        body: { items: all.filter((post) => post.published && post.rank >= 1), nextCursor: null },
      });
      const byBob = await list(`?where=${q({ author: { name: "Bob" } })}`);
      expect((byBob.body as { items: Json[] }).items.map((post) => post.title)).toEqual(["Post 05", "Post 10", "Post 15", "Post 20", "Post 25"]);
      const withComments = await list(`?where=${q({ comments: { some: { body: "Second" } } })}`);
      expect(withComments.body).toEqual({ items: [first], nextCursor: null });
    });

    test("where that is not JSON, or not an object, is 400 INVALID_QUERY", async () => {
      expect(await list("?where={published:true}")).toEqual(invalidQuery("where: is not valid JSON", "where"));
      expect(await list("?where=[1]")).toEqual(invalidQuery("where: expected an object, got an array", "where"));
    });

    test("orderBy takes fields in order of precedence, - for descending: -rank,title", async () => {
      const { body } = await list("?limit=100&orderBy=-rank,title");
      const expected = [...all].sort((a, b) => b.rank - a.rank || byTitle(a, b));
      expect((body as { items: Json[] }).items.map((post) => post.title)).toEqual(expected.map((post) => post.title));
    });

    test("orderBy=-createdAt,title", async () => {
      const { body } = await list("?limit=100&orderBy=-createdAt,title");
      const expected = [...all].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : byTitle(a, b)));
      expect((body as { items: Json[] }).items.map((post) => post.title)).toEqual(expected.map((post) => post.title));
    });

    test("docs/http.md's page: published posts by -rank,title, two of them, with the total", async () => {
      const { status, body } = await list(`?where=${q({ published: true })}&orderBy=-rank,title&limit=2&count=true`);
      expect(status).toBe(200);
      expect(body).toEqual({
        items: [all[1], all[7]], // Post 02 and Post 08: rank 2, the highest
        nextCursor: expect.any(String),
        total: 12,
      });
    });

    test("orderBy with no field is 400 INVALID_QUERY", async () => {
      expect(await list("?orderBy=")).toEqual(invalidQuery("orderBy: expected field names, e.g. -createdAt,title", "orderBy"));
    });

    test("cursor resumes after the page that gave it", async () => {
      const one = (await list("?orderBy=title&limit=10")).body as { items: Json[]; nextCursor: string };
      expect(one.items.map((post) => post.title)).toEqual(all.slice(0, 10).map((post) => post.title));
      const two = (await list(`?orderBy=title&limit=10&cursor=${encodeURIComponent(one.nextCursor)}`)).body as {
        items: Json[];
        nextCursor: string;
      };
      expect(two.items).toEqual(all.slice(10, 20));
      const three = await list(`?orderBy=title&limit=10&cursor=${encodeURIComponent(two.nextCursor)}`);
      expect(three).toEqual({ status: 200, type: "application/json", body: { items: all.slice(20), nextCursor: null } });
    });

    test("an empty cursor is the first page", async () => {
      expect((await list("?cursor=&limit=2")).body).toMatchObject({ items: all.slice(0, 2) });
    });

    test("offset skips records; with a cursor it is 400", async () => {
      expect((await list("?orderBy=title&offset=5&limit=3")).body).toMatchObject({ items: all.slice(5, 8) });
      const { nextCursor } = (await list("?limit=1")).body as { nextCursor: string };
      expect(await list(`?limit=1&offset=1&cursor=${encodeURIComponent(nextCursor)}`)).toEqual(
        invalidQuery("offset: use either cursor or offset, not both", "offset"),
      );
    });

    test("include takes a comma list of relations: author,comments", async () => {
      const { body } = await list(`?where=${q({ id: first.id })}&include=author,comments`);
      expect(body).toEqual({ items: [{ ...first, author: ada, comments: firstComments }], nextCursor: null });
    });

    test("include nests with dots: comments.author", async () => {
      const { body } = await list(`?where=${q({ id: first.id })}&include=comments.author`);
      expect(body).toEqual({
        items: [{ ...first, comments: [{ ...firstComments[0], author: bob }, { ...firstComments[1], author: ada }] }],
        nextCursor: null,
      });
    });

    test("include takes a JSON object, with the options of each relation", async () => {
      const include = { comments: { where: { body: "Second" }, select: ["body"], include: { author: { select: ["name"] } } } };
      const { body } = await list(`?where=${q({ id: first.id })}&include=${q(include)}`);
      expect(body).toEqual({
        items: [{ ...first, comments: [{ id: firstComments[1]!["id"], body: "Second", author: { id: ada.id, name: "Ada" } }] }],
        nextCursor: null,
      });
    });

    test("an unknown relation in include is 400 INVALID_QUERY", async () => {
      expect(await list("?include=editor")).toEqual(invalidQuery('include.editor: "editor" is not a relation of "posts"', "include.editor"));
      expect(await list("?include=comments.")).toEqual(invalidQuery('include: "comments." has an empty relation name', "include"));
    });

    test("select takes a comma list of fields; the id always comes", async () => {
      const { body } = await list("?select=title,rank&limit=2");
      expect((body as { items: unknown[] }).items).toEqual(all.slice(0, 2).map(({ id, title, rank }) => ({ id, title, rank })));
    });

    test("count=true adds the total of records matching where", async () => {
      expect((await list("?count=true&limit=5")).body).toMatchObject({ total: 25 });
      expect(await list(`?count=1&limit=0&where=${q({ published: true })}`)).toEqual({
        status: 200,
        type: "application/json",
        body: { items: [], nextCursor: null, total: 12 },
      });
      expect((await list("?count=false&limit=1")).body).not.toHaveProperty("total");
      expect(await list("?count=maybe")).toEqual(invalidQuery("count: expected true or false", "count"));
    });

    test("get, create and update take select and include", async () => {
      const got = await read(await served.request(`/collections/posts/records/${first.id}?select=title&include=author`));
      expect(got).toEqual({ status: 200, type: "application/json", body: { id: first.id, title: first.title, author: ada } });

      const created = await read(await served.json("POST", "/collections/posts/records?select=title,rank", { title: "Post 26", author: bob.id }));
      expect(created).toEqual({ status: 201, type: "application/json", body: { id: expect.any(String), title: "Post 26", rank: 0 } });

      const id = (created.body as { id: string }).id;
      const updated = await read(await served.json("PATCH", `/collections/posts/records/${id}?select=rank&include=author`, { rank: 2 }));
      expect(updated).toEqual({ status: 200, type: "application/json", body: { id, rank: 2, author: bob } });
      await served.backend.system.data.posts.delete(id);
    });

    test("an unknown query parameter is 400 INVALID_QUERY, on every route", async () => {
      const listed = "this route takes where, orderBy, limit, offset, cursor, count, select, include";
      expect(await list("?sort=title")).toEqual(invalidQuery(`sort: unknown query parameter (${listed})`, "sort"));
      expect(await list("?Limit=5")).toEqual(invalidQuery(`Limit: unknown query parameter (${listed})`, "Limit"));
      const one = await read(await served.request(`/collections/posts/records/${first.id}?where=${q({})}`));
      expect(one).toEqual(invalidQuery("where: unknown query parameter (this route takes select, include)", "where"));
      const created = await read(await served.json("POST", "/collections/posts/records?limit=1", { title: "x", author: ada.id }));
      expect(created).toEqual(invalidQuery("limit: unknown query parameter (this route takes select, include)", "limit"));
      const deleted = await read(await served.request(`/collections/posts/records/${first.id}?select=title`, { method: "DELETE" }));
      expect(deleted).toEqual(invalidQuery("DELETE takes no query parameters."));
      expect(await served.backend.system.data.posts.count()).toBe(25);
    });

    test("a repeated query parameter is 400 INVALID_QUERY", async () => {
      expect(await list("?limit=1&limit=2")).toEqual(invalidQuery("limit: given more than once", "limit"));
      expect(await list("?include=author&include=comments")).toEqual(invalidQuery("include: given more than once", "include"));
      const one = await read(await served.request(`/collections/posts/records/${first.id}?select=title&select=rank`));
      expect(one).toEqual(invalidQuery("select: given more than once", "select"));
    });
  },
);
