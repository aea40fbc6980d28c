import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { ApiError } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBlog, type Blog } from "./fixtures.js";

describeEachDatabase("include", (db) => {
  let backend: Blog;
  let close: () => Promise<void>;
  let statements: string[] = [];

  beforeAll(async () => {
    ({ backend, close } = await openBlog(db, {
      log: (event) => {
        if (event.level === "query") statements.push(event.query.sql);
      },
    }));
    const { data } = backend.system;
    // 12 authors with 3 posts each, each post with 0..4 comments by rotating authors.
    const authors = await data.users.createMany(
      Array.from({ length: 12 }, (_, i) => ({ name: `author ${i}`, email: `a${i}@example.com` })),
    );
    const sql = await data.tags.create({ name: "sql" });
    const web = await data.tags.create({ name: "web" });
    let n = 0;
    for (const author of authors) {
      for (let p = 0; p < 3; p++) {
        const post = await data.posts.create({
          title: `${author.name} / post ${p}`,
          author: author.id,
          editor: p === 0 ? null : authors[(n + 1) % authors.length]!.id,
          rank: p,
        });
        const count = n % 5;
        n++;
        await data.comments.createMany(
          Array.from({ length: count }, (_, c) => ({
            body: `comment ${c}`,
            post: post.id,
            author: authors[(n + c) % authors.length]!.id,
          })),
        );
        await data.postTags.createMany(p === 2 ? [{ post: post.id, tag: sql.id }, { post: post.id, tag: web.id }] : []);
      }
    }
  });
  afterAll(() => close());
  beforeEach(() => {
    statements = [];
  });

  test("a to-one include puts the related record in place of the id", async () => {
    const page = await backend.system.data.posts.list({ include: { author: true }, orderBy: { title: "asc" }, limit: 2 });
    expect(page.items[0]!.author).toMatchObject({ name: "author 0", email: "a0@example.com" });
    expect(page.items[0]!.author.createdAt).toBeInstanceOf(Date);
  });

  test("an optional to-one include is null where the id is null", async () => {
    const page = await backend.system.data.posts.list({ where: { rank: 0 }, include: { editor: true } });
    expect(page.items).toHaveLength(12);
    expect(page.items.every((post) => post.editor === null)).toBe(true);
    const edited = await backend.system.data.posts.list({ where: { rank: 1 }, include: { editor: { select: ["name"] } } });
    expect(edited.items.every((post) => post.editor !== null && Object.keys(post.editor).sort().join() === "id,name")).toBe(true);
  });

  test("a to-many include lists the related records of each record, in the asked order", async () => {
    const page = await backend.system.data.posts.list({
      include: { comments: { orderBy: { body: "desc" } } },
      orderBy: { title: "asc" },
    });
    for (const post of page.items) {
      const expected = await backend.system.data.comments.list({ where: { post: post.id }, orderBy: { body: "desc" } });
      expect(post.comments.map((comment) => comment.id)).toEqual(expected.items.map((comment) => comment.id));
    }
    expect(page.items.some((post) => post.comments.length === 0)).toBe(true);
  });

  test("a to-many include with where and a limit per record", async () => {
    const page = await backend.system.data.posts.list({
      include: { comments: { where: { body: { ne: "comment 0" } }, orderBy: { body: "asc" }, limit: 2 } },
    });
    for (const post of page.items) {
      const all = await backend.system.data.comments.list({
        where: { post: post.id, body: { ne: "comment 0" } },
        orderBy: { body: "asc" },
      });
      expect(post.comments.map((comment) => comment.body)).toEqual(all.items.slice(0, 2).map((comment) => comment.body));
    }
  });

  test("includes nest, and each level costs one statement whatever the number of records", async () => {
    const page = await backend.system.data.users.list({
      include: {
        authored: {
          include: { comments: { include: { author: { select: ["name"] } } }, postTags: { include: { tag: true } } },
        },
      },
    });
    expect(page.items).toHaveLength(12);
    // users, posts, comments, comment authors, postTags, tags: 6 statements for 12 users.
    expect(statements).toHaveLength(6);
    const first = page.items.find((user) => user.name === "author 0")!;
    expect(first.authored).toHaveLength(3);
    const third = first.authored.find((post) => post.rank === 2)!;
    expect(third.postTags.map((link) => link.tag.name).sort()).toEqual(["sql", "web"]);
    for (const post of first.authored) {
      for (const comment of post.comments) expect(typeof comment.author.name).toBe("string");
    }

    statements = [];
    await backend.system.data.users.list({
      limit: 2,
      include: {
        authored: {
          include: { comments: { include: { author: { select: ["name"] } } }, postTags: { include: { tag: true } } },
        },
      },
    });
    expect(statements).toHaveLength(6);
  });

  test("many-to-many through a join collection is included from both sides", async () => {
    const tags = await backend.system.data.tags.list({
      include: { postTags: { include: { post: { select: ["title"] } } } },
      orderBy: { name: "asc" },
    });
    expect(tags.items.map((tag) => tag.postTags.length)).toEqual([12, 12]);
    expect(tags.items[0]!.postTags.every((link) => link.post.title.endsWith("post 2"))).toBe(true);
  });

  test("get, create and update take include too", async () => {
    const author = (await backend.system.data.users.list({ limit: 1 })).items[0]!;
    const created = await backend.system.data.posts.create(
      { title: "with include", author: author.id },
      { include: { author: { select: ["name"] } } },
    );
    expect(created.author).toEqual({ id: author.id, name: author.name });
    const updated = await backend.system.data.posts.update(created.id, { rank: 9 }, { include: { comments: true } });
    expect(updated.comments).toEqual([]);
    const got = await backend.system.data.posts.get(created.id, { include: { author: true }, select: ["title"] });
    expect(got).toEqual({ id: created.id, title: "with include", author: expect.objectContaining({ id: author.id }) });
    await backend.system.data.posts.delete(created.id);
  });

  test("refuses unknown relations and options", async () => {
    const unknown = await backend.system.data.posts.list({ include: { writer: true } as never }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ApiError);
    expect((unknown as ApiError).message).toBe('include.writer: "writer" is not a relation of "posts"');
    const option = await backend.system.data.posts
      .list({ include: { author: { limit: 3 } } as never })
      .catch((e: unknown) => e);
    expect((option as ApiError).message).toBe(
      'include.author.limit: unknown option "limit" (a to-one include takes select, include)',
    );
    const nested = await backend.system.data.posts
      .list({ include: { comments: { where: { nope: 1 } } } as never })
      .catch((e: unknown) => e);
    expect((nested as ApiError).message).toBe('include.comments.where.nope: "nope" is not a field of "comments"');
  });

  test("the SQL of a query shape does not depend on its values, so one prepared statement serves them all", async () => {
    await backend.system.data.posts.list({ where: { title: { startsWith: "author 1" } }, limit: 3 });
    await backend.system.data.posts.list({ where: { title: { startsWith: "author 2" } }, limit: 5 });
    expect(statements).toHaveLength(2);
    expect(statements[0]).toBe(statements[1]);
  });
});
