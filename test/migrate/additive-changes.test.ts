import { sql } from "kysely";
import { z } from "zod";
import { expect, it } from "vitest";
import { migrate } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, liveTable, openDatabase, readRows, tableNames } from "./support.js";

const users = collection("users", { fields: { name: field.text() } });

const postsV1 = collection("posts", {
  fields: {
    title: field.text(),
    author: field.belongsTo("users"),
  },
});

const postsV2 = collection("posts", {
  fields: {
    title: field.text().index(),
    author: field.belongsTo("users"),
    subtitle: field.text().optional(),
    status: field.enum(["draft", "published"]).default("draft"),
    views: field.integer().default(7),
    tags: field.json(z.array(z.string())).default(["new"]),
    flagged: field.boolean().optional().default(true),
    editor: field.belongsTo("users", { onDelete: "setNull" }).optional(),
    code: field.text().optional().unique(),
  },
});

const comments = collection("comments", {
  fields: {
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    text: field.text(),
  },
});

describeEachDatabase("migrate: additive changes", (db) => {
  it("extends a table that holds rows: every row keeps its values, new columns hold their default", async () => {
    const runtime = await openDatabase(db);
    const v1 = buildModel({ users, posts: postsV1 });
    await migrate(runtime, v1);
    await runtime.kysely.insertInto("users").values([
      { id: "u1", name: "Ann" },
      { id: "u2", name: "Bob" },
    ]).execute();
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", title: "First", author: "u1" },
      { id: "p2", title: "Second", author: "u2" },
    ]).execute();
    const before = await readRows(runtime, v1, "posts");

    const v2 = buildModel({ users, posts: postsV2, comments });
    const result = await migrate(runtime, v2);
    expect(result.changes.map((change) => change.description)).toEqual([
      "create table comments",
      "add column posts.subtitle",
      "add column posts.status",
      "add column posts.views",
      "add column posts.tags",
      "add column posts.flagged",
      "add column posts.editor",
      "add column posts.code",
      "create index posts_title_idx on posts (title)",
      "create index posts_editor_idx on posts (editor)",
      "create unique index posts_code_key on posts (code)",
      "create index comments_post_idx on comments (post)",
    ]);
    expect(result.changes[1]).toEqual({ kind: "addColumn", table: "posts", name: "subtitle", description: "add column posts.subtitle" });

    expect(await readRows(runtime, v2, "posts")).toEqual(
      before.map((row) => ({
        ...row,
        subtitle: null,
        status: "draft",
        views: 7,
        tags: ["new"],
        flagged: true,
        editor: null,
        code: null,
      })),
    );
    expect(await readRows(runtime, v2, "users")).toEqual([
      expect.objectContaining({ id: "u1", name: "Ann" }),
      expect.objectContaining({ id: "u2", name: "Bob" }),
    ]);
    expect(await tableNames(runtime)).toEqual(["comments", "posts", "users"]);
    expect((await describeTable(runtime, "posts")).foreignKeys).toEqual([
      { column: "author", table: "users", onDelete: "restrict" },
      { column: "editor", table: "users", onDelete: "setNull" },
    ]);
    // The new reference is enforced, and so is the new table's.
    await expect(runtime.kysely.updateTable("posts").set({ editor: "nobody" }).where("id", "=", "p1").execute()).rejects.toThrow();
    await expect(runtime.kysely.insertInto("comments").values({ id: "c1", post: "nope", text: "x" }).execute()).rejects.toThrow();

    expect(await migrate(runtime, v2)).toEqual({ migrations: [], changes: [] });
  });

  it("adds a required column without default, even a reference, to an empty table", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { title: field.text() } }) }));
    const posts = collection("posts", {
      fields: { title: field.text(), summary: field.text(), owner: field.belongsTo("users") },
    });
    const model = buildModel({ users, posts });
    const result = await migrate(runtime, model);
    expect(result.changes.map((change) => change.description)).toEqual([
      "add column posts.summary",
      "add column posts.owner",
      "create index posts_owner_idx on posts (owner)",
    ]);
    const table = await describeTable(runtime, "posts");
    expect(table.columns["summary"]!.notNull).toBe(true);
    expect(table.columns["owner"]!.notNull).toBe(true);
    expect(table.foreignKeys).toEqual([{ column: "owner", table: "users", onDelete: "restrict" }]);
    await runtime.kysely.insertInto("users").values({ id: "u1", name: "Ann" }).execute();
    await expect(runtime.kysely.insertInto("posts").values({ id: "p1", title: "T", owner: "u1" }).execute()).rejects.toThrow();
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "T", owner: "u1", summary: "S" }).execute();
    expect(await migrate(runtime, model)).toEqual({ migrations: [], changes: [] });
  });

  it("drops the index of a removed .unique() and creates the new one, leaving the host's indexes alone", async () => {
    const runtime = await openDatabase(db);
    const v1 = buildModel({ posts: collection("posts", { fields: { slug: field.text().unique(), title: field.text() } }) });
    await migrate(runtime, v1);
    await runtime.kysely.insertInto("posts").values({ id: "p1", slug: "a", title: "T" }).execute();
    // The host's own: one named like cimiento's indexes but over other columns, one not.
    await sql`create index "posts_custom_idx" on "posts" ("title")`.execute(runtime.kysely);
    await sql`create index "host_posts_title" on "posts" ("title", "slug")`.execute(runtime.kysely);

    const v2 = buildModel({ posts: collection("posts", { fields: { slug: field.text().index(), title: field.text() } }) });
    const result = await migrate(runtime, v2);
    expect(result.changes).toEqual([
      {
        kind: "dropIndex",
        table: "posts",
        name: "posts_slug_key",
        description: "drop unique index posts_slug_key on posts (slug): the schema no longer has it",
      },
      { kind: "createIndex", table: "posts", name: "posts_slug_idx", description: "create index posts_slug_idx on posts (slug)" },
    ]);
    expect((await describeTable(runtime, "posts")).indexes).toEqual([
      { name: "host_posts_title", columns: ["title", "slug"], unique: false },
      { name: "posts_custom_idx", columns: ["title"], unique: false },
      { name: "posts_slug_idx", columns: ["slug"], unique: false },
    ]);
    await runtime.kysely.insertInto("posts").values({ id: "p2", slug: "a", title: "T" }).execute();
    expect(await readRows(runtime, v2, "posts")).toHaveLength(2);
    expect(await migrate(runtime, v2)).toEqual({ migrations: [], changes: [] });
  });

  it("never drops a primary key or the index of a constraint, even one named like cimiento's", async () => {
    const runtime = await openDatabase(db);
    const timestamp = db.dialect === "sqlite" ? "text not null default ''" : "timestamptz not null default now()";
    // On PostgreSQL the constraint's index is called tags_name_key, the name of a .unique() index.
    await sql`create table "tags" (
      "id" text primary key, "name" text not null, "createdAt" ${sql.raw(timestamp)}, "updatedAt" ${sql.raw(timestamp)},
      constraint "tags_name_key" unique ("name"))`.execute(runtime.kysely);
    const before = (await liveTable(runtime, "tags"))!.indexes;
    expect(before).toHaveLength(2);
    const tags = collection("tags", { fields: { name: field.text() } });
    expect((await migrate(runtime, buildModel({ tags }))).changes).toEqual([]);
    expect((await liveTable(runtime, "tags"))!.indexes).toEqual(before);
  });
});
