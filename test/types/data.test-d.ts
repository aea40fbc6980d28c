import { describe, expectTypeOf, test } from "vitest";
import type { Kysely } from "kysely";
import { z } from "zod";
import { collection, createBackend, field, type CreateInput, type DB, type Infer, type UpdateInput, type Where } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { postgres } from "cimiento/postgres";

const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1)),
    email: field.text().unique(),
    role: field.enum(["admin", "member"]).default("member"),
    bio: field.text().optional(),
  },
});
const posts = collection("posts", {
  fields: {
    title: field.text(),
    published: field.boolean().default(false),
    views: field.integer().default(0).readOnly(),
    tags: field.json(z.array(z.string())).default([]),
    author: field.belongsTo("users"),
    editor: field.belongsTo("users").optional(),
    publishedAt: field.datetime().optional(),
    comments: field.hasMany("comments", { on: "post" }),
  },
});
const comments = collection("comments", {
  fields: {
    body: field.text(),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users"),
  },
});
const collections = { users, posts, comments };
type S = typeof collections;

const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections });

describe("Infer", () => {
  test("gives every field its type, optional ones nullable, with id and timestamps", () => {
    expectTypeOf<Infer<typeof posts>>().toEqualTypeOf<{
      id: string;
      title: string;
      published: boolean;
      views: number;
      tags: string[];
      author: string;
      editor: string | null;
      publishedAt: Date | null;
      createdAt: Date;
      updatedAt: Date;
    }>();
    expectTypeOf<Infer<typeof users>["role"]>().toEqualTypeOf<"admin" | "member">();
  });

  test("create requires fields without default and not optional; update takes any subset", () => {
    expectTypeOf<CreateInput<typeof posts>>().toEqualTypeOf<{
      title: string;
      author: string;
      id?: string;
      published?: boolean;
      views?: number;
      tags?: string[];
      editor?: string | null;
      publishedAt?: Date | string | null;
      createdAt?: Date | string;
      updatedAt?: Date | string;
    }>();
    expectTypeOf<UpdateInput<typeof users>>().toEqualTypeOf<{
      name?: string;
      email?: string;
      role?: "admin" | "member";
      bio?: string | null;
    }>();
  });

  test("the system scope may give createdAt and updatedAt on create (an import); callers and updates may not", () => {
    const imported = { title: "Old", author: "u1", createdAt: new Date("2019-05-01T00:00:00Z"), updatedAt: "2019-06-01T00:00:00Z" };
    void backend.system.data.posts.create(imported);
    void backend.system.data.posts.createMany([imported]);
    void backend.system.data.posts.upsert({ where: { id: "p1" }, create: imported, update: {} });
    const caller = backend.as({ id: "u1", role: "member" });
    void caller.data.posts.create({ title: "New", author: "u1" });
    // @ts-expect-error: callers do not set timestamps
    void caller.data.posts.create({ title: "Old", author: "u1", createdAt: new Date("2019-05-01T00:00:00Z") });
    // @ts-expect-error: a number is not a date-time
    void backend.system.data.posts.create({ title: "Old", author: "u1", createdAt: 1556668800000 });
    // @ts-expect-error: not on update
    void backend.system.data.posts.update("p1", { createdAt: new Date() });
    expectTypeOf<CreateInput<typeof posts, "caller">>().not.toHaveProperty("createdAt");
  });
});

describe("list", () => {
  test("returns full records and a cursor", async () => {
    const page = await backend.system.data.posts.list({ where: { published: true } });
    expectTypeOf(page.items).toEqualTypeOf<Infer<typeof posts>[]>();
    expectTypeOf(page.nextCursor).toEqualTypeOf<string | null>();
    expectTypeOf(page).not.toHaveProperty("total");
  });

  test("has total only with count: true", async () => {
    const page = await backend.system.data.posts.list({ count: true });
    expectTypeOf(page.total).toEqualTypeOf<number>();
  });

  test("select keeps the selected fields and the id", async () => {
    const page = await backend.system.data.posts.list({ select: ["title", "published"] });
    expectTypeOf(page.items[0]!).toEqualTypeOf<{ id: string; title: string; published: boolean }>();
  });

  test("include puts the related record in place of a belongsTo id, and adds to-many arrays", async () => {
    const page = await backend.system.data.posts.list({
      include: { author: true, editor: { select: ["name"] }, comments: { limit: 3 } },
    });
    const item = page.items[0]!;
    expectTypeOf(item.author).toEqualTypeOf<Infer<typeof users>>();
    expectTypeOf(item.editor).toEqualTypeOf<{ id: string; name: string } | null>();
    expectTypeOf(item.comments).toEqualTypeOf<Infer<typeof comments>[]>();
    expectTypeOf(item.title).toEqualTypeOf<string>();
  });

  test("include nests, and to-many relations are derived from a single belongsTo", async () => {
    const page = await backend.system.data.users.list({
      include: { comments: { include: { post: { include: { comments: { select: ["body"] } } } } } },
      select: ["name"],
    });
    const user = page.items[0]!;
    expectTypeOf(user.name).toEqualTypeOf<string>();
    expectTypeOf(user.comments[0]!.post.comments).toEqualTypeOf<{ id: string; body: string }[]>();
    expectTypeOf(user).not.toHaveProperty("email");
  });

  test("no to-many relation is derived when two belongsTo point to the same collection", () => {
    // posts.author and posts.editor both point to users: which one users.posts follows is ambiguous.
    // @ts-expect-error: users has no relation "posts"
    void backend.system.data.users.list({ include: { posts: true } });
  });

  test("where knows fields, operators and relations", () => {
    expectTypeOf<{ title: { contains: string } }>().toExtend<Where<S, "posts">>();
    expectTypeOf<{ author: { name: { startsWith: string } } }>().toExtend<Where<S, "posts">>();
    expectTypeOf<{ comments: { some: { body: string } } }>().toExtend<Where<S, "posts">>();
    expectTypeOf<{ comments: { none: { body: string } } }>().toExtend<Where<S, "users">>();
    expectTypeOf<{ posts: { none: {} } }>().not.toExtend<Where<S, "users">>();
    expectTypeOf<{ views: { contains: string } }>().not.toExtend<Where<S, "posts">>();
    expectTypeOf<{ nope: 1 }>().not.toExtend<Where<S, "posts">>();
  });

  test("unknown options are type errors", () => {
    // @ts-expect-error: "titel" is not a field
    void backend.system.data.posts.list({ select: ["titel"] });
    // @ts-expect-error: not a relation
    void backend.system.data.posts.list({ include: { nothing: true } });
    // @ts-expect-error: a required field is missing
    void backend.system.data.posts.create({ title: "x" });
  });
});

describe("get, create, update", () => {
  test("get may return null; writes return the record", async () => {
    expectTypeOf(await backend.system.data.users.get("id")).toEqualTypeOf<Infer<typeof users> | null>();
    const created = await backend.system.data.posts.create({ title: "t", author: "u" }, { include: { author: true } });
    expectTypeOf(created.author.name).toEqualTypeOf<string>();
    expectTypeOf(await backend.system.data.users.update("id", { bio: null })).toEqualTypeOf<Infer<typeof users>>();
    expectTypeOf(await backend.system.data.users.count()).toEqualTypeOf<number>();
  });
});

describe("backend.db", () => {
  test("is Kysely over the collections with the SQLite driver's column types", () => {
    expectTypeOf(backend.db).toEqualTypeOf<Kysely<DB<S, "sqlite">>>();
    type Posts = DB<S, "sqlite">["posts"];
    expectTypeOf<Posts["title"]>().toEqualTypeOf<string>();
    expectTypeOf<Posts["editor"]>().toEqualTypeOf<string | null>();
    expectTypeOf(backend.db.selectFrom("posts").select(["title", "author"]).execute()).resolves.toEqualTypeOf<
      { title: string; author: string }[]
    >();
  });

  test("has PostgreSQL's column types on PostgreSQL", () => {
    const pg = createBackend({ database: postgres({}), collections });
    expectTypeOf(pg.db.selectFrom("posts").select(["published", "createdAt"]).execute()).resolves.toEqualTypeOf<
      { published: boolean; createdAt: Date }[]
    >();
  });

  test("transactions give a typed db and data", async () => {
    await backend.system.transaction(async (tx) => {
      expectTypeOf(tx.db).toEqualTypeOf<Kysely<DB<S, "sqlite">>>();
      expectTypeOf(await tx.data.comments.get("x")).toEqualTypeOf<Infer<typeof comments> | null>();
    });
  });
});

describe("where values", () => {
  test("a filter value of the wrong type is a type error", () => {
    // @ts-expect-error: views is a number
    void backend.system.data.posts.list({ where: { views: "30" } });
    // @ts-expect-error: contains is for text
    void backend.system.data.posts.list({ where: { views: { contains: "3" } } });
    // @ts-expect-error: json fields only take isNull
    void backend.system.data.posts.list({ where: { tags: { eq: ["a"] } } });
  });
});
