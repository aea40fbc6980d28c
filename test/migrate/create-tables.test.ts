import { z } from "zod";
import { expect, it } from "vitest";
import { migrate } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, openDatabase, readRows, tableNames } from "./support.js";

const users = collection("users", {
  fields: {
    email: field.text().unique(),
    name: field.text(),
    role: field.enum(["member", "admin"]).default("member"),
  },
});

const posts = collection("posts", {
  fields: {
    title: field.text(),
    slug: field.text().unique(),
    body: field.text().optional(),
    published: field.boolean().default(false),
    views: field.integer().default(0),
    rating: field.number().optional(),
    tags: field.json(z.array(z.string())).default([]),
    publishedAt: field.datetime().optional(),
    author: field.belongsTo("users", { onDelete: "cascade" }),
    editor: field.belongsTo("users", { onDelete: "setNull" }).optional(),
    reviewer: field.belongsTo("users").optional(),
  },
  indexes: [["published", "createdAt"]],
});

const model = buildModel({ users, posts });

describeEachDatabase("migrate: creating tables", (db) => {
  const sqlite = db.dialect === "sqlite";
  const T = sqlite
    ? { text: "TEXT", integer: "INTEGER", number: "REAL", boolean: "INTEGER", datetime: "TEXT", json: "TEXT" }
    : {
        text: "text",
        integer: "bigint",
        number: "double precision",
        boolean: "boolean",
        datetime: "timestamp with time zone",
        json: "jsonb",
      };
  const now = sqlite ? "strftime('%Y-%m-%dT%H:%M:%fZ','now')" : "now()";

  it("creates every table, then every index, and reports each change in that order", async () => {
    const runtime = await openDatabase(db);
    const result = await migrate(runtime, model);
    expect(result.migrations).toEqual([]);
    expect(result.changes).toEqual([
      { kind: "createTable", table: "users", name: "users", description: "create table users" },
      { kind: "createTable", table: "posts", name: "posts", description: "create table posts" },
      { kind: "createIndex", table: "users", name: "users_email_key", description: "create unique index users_email_key on users (email)" },
      { kind: "createIndex", table: "posts", name: "posts_slug_key", description: "create unique index posts_slug_key on posts (slug)" },
      { kind: "createIndex", table: "posts", name: "posts_author_idx", description: "create index posts_author_idx on posts (author)" },
      { kind: "createIndex", table: "posts", name: "posts_editor_idx", description: "create index posts_editor_idx on posts (editor)" },
      { kind: "createIndex", table: "posts", name: "posts_reviewer_idx", description: "create index posts_reviewer_idx on posts (reviewer)" },
      {
        kind: "createIndex",
        table: "posts",
        name: "posts_published_createdAt_idx",
        description: "create index posts_published_createdAt_idx on posts (published, createdAt)",
      },
    ]);
    expect(await tableNames(runtime)).toEqual(["posts", "users"]);
  });

  it("gives columns their SQL types, NOT NULL, defaults, primary key, foreign keys and indexes", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    expect(await describeTable(runtime, "posts")).toEqual({
      columns: {
        id: { type: T.text, notNull: true },
        title: { type: T.text, notNull: true },
        slug: { type: T.text, notNull: true },
        body: { type: T.text, notNull: false },
        published: { type: T.boolean, notNull: true },
        views: { type: T.integer, notNull: true },
        rating: { type: T.number, notNull: false },
        tags: { type: T.json, notNull: true },
        publishedAt: { type: T.datetime, notNull: false },
        author: { type: T.text, notNull: true },
        editor: { type: T.text, notNull: false },
        reviewer: { type: T.text, notNull: false },
        createdAt: { type: T.datetime, notNull: true },
        updatedAt: { type: T.datetime, notNull: true },
      },
      defaults: sqlite
        ? { published: "0", views: "0", tags: "'[]'", createdAt: now, updatedAt: now }
        : { published: "false", views: "0", tags: "'[]'::jsonb", createdAt: now, updatedAt: now },
      indexes: [
        { name: "posts_author_idx", columns: ["author"], unique: false },
        { name: "posts_editor_idx", columns: ["editor"], unique: false },
        { name: "posts_published_createdAt_idx", columns: ["published", "createdAt"], unique: false },
        { name: "posts_reviewer_idx", columns: ["reviewer"], unique: false },
        { name: "posts_slug_key", columns: ["slug"], unique: true },
      ],
      foreignKeys: [
        { column: "author", table: "users", onDelete: "cascade" },
        { column: "editor", table: "users", onDelete: "setNull" },
        { column: "reviewer", table: "users", onDelete: "restrict" },
      ],
    });
    expect((await describeTable(runtime, "users")).defaults).toEqual(
      sqlite ? { role: "'member'", createdAt: now, updatedAt: now } : { role: "'member'::text", createdAt: now, updatedAt: now },
    );
  });

  it.runIf(sqlite)("creates SQLite tables STRICT, so a value of the wrong type is refused", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    const { sql } = (await runtime.kysely
      .selectFrom("sqlite_master")
      .select("sql")
      .where("name", "=", "posts")
      .executeTakeFirstOrThrow()) as { sql: string };
    expect(sql.endsWith(" STRICT")).toBe(true);
    await runtime.kysely.insertInto("users").values({ id: "u1", email: "a@x", name: "A" }).execute();
    await expect(
      runtime.kysely.insertInto("posts").values({ id: "p1", title: "T", slug: "t", author: "u1", views: "many" }).execute(),
    ).rejects.toThrow(/cannot store TEXT value in INTEGER column posts.views/);
  });

  it("fills defaults and timestamps in SQL, with timestamps as precise as JavaScript's", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    const before = Date.now();
    await runtime.kysely.insertInto("users").values({ id: "u1", email: "a@x", name: "A" }).execute();
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "T", slug: "t", author: "u1" }).execute();
    const [post] = await readRows(runtime, model, "posts");
    expect(post).toMatchObject({
      id: "p1",
      body: null,
      published: false,
      views: 0,
      rating: null,
      tags: [],
      publishedAt: null,
      editor: null,
      reviewer: null,
    });
    expect((await readRows(runtime, model, "users"))[0]!["role"]).toBe("member");
    const createdAt = post!["createdAt"] as Date;
    expect(createdAt).toBeInstanceOf(Date);
    expect(createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    if (sqlite) {
      const raw = await runtime.kysely.selectFrom("posts").select("createdAt").executeTakeFirstOrThrow();
      expect(raw.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(new Date(raw.createdAt as string).toISOString()).toBe(raw.createdAt);
    }
  });

  it("enforces NOT NULL, unique indexes and foreign keys with their ON DELETE", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    const k = runtime.kysely;
    await k.insertInto("users").values([
      { id: "u1", email: "a@x", name: "A" },
      { id: "u2", email: "b@x", name: "B" },
    ]).execute();
    await expect(k.insertInto("users").values({ id: "u3", email: "a@x", name: "C" }).execute()).rejects.toThrow();
    await expect(k.insertInto("posts").values({ id: "p0", title: null, slug: "s0", author: "u1" }).execute()).rejects.toThrow();
    await expect(k.insertInto("posts").values({ id: "p0", title: "T", slug: "s0", author: "nobody" }).execute()).rejects.toThrow();
    await k.insertInto("posts").values([
      { id: "p1", title: "T", slug: "s1", author: "u1", editor: "u2" },
      { id: "p2", title: "T", slug: "s2", author: "u2", reviewer: "u1" },
    ]).execute();
    // reviewer: restrict
    await expect(k.deleteFrom("users").where("id", "=", "u1").execute()).rejects.toThrow();
    await k.updateTable("posts").set({ reviewer: null }).where("id", "=", "p2").execute();
    // author: cascade (p1 goes), editor: set null (p1 would keep, but it is gone)
    await k.deleteFrom("users").where("id", "=", "u1").execute();
    expect((await readRows(runtime, model, "posts")).map((post) => post["id"])).toEqual(["p2"]);
    await k.updateTable("posts").set({ editor: "u2" }).where("id", "=", "p2").execute();
    await k.insertInto("users").values({ id: "u3", email: "c@x", name: "C" }).execute();
    await k.updateTable("posts").set({ author: "u3" }).where("id", "=", "p2").execute();
    await k.deleteFrom("users").where("id", "=", "u2").execute();
    expect((await readRows(runtime, model, "posts"))[0]).toMatchObject({ id: "p2", author: "u3", editor: null });
  });

  it("changes nothing on a second run", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    const before = [await describeTable(runtime, "users"), await describeTable(runtime, "posts")];
    expect(await migrate(runtime, model)).toEqual({ migrations: [], changes: [] });
    expect([await describeTable(runtime, "users"), await describeTable(runtime, "posts")]).toEqual(before);
  });

  it("runs twice at once without either failing, applying the changes once", async () => {
    const runtime = await openDatabase(db);
    const results = await Promise.all([migrate(runtime, model), migrate(runtime, model)]);
    expect(results.map((result) => result.changes.length).sort()).toEqual([0, 8]);
  });

  it("quotes default literals, so no value can inject SQL", async () => {
    const runtime = await openDatabase(db);
    const nasty = `it's'); drop table "notes"; -- \\' \\\\ "quoted"`;
    const notes = collection("notes", {
      fields: {
        text: field.text().default(nasty),
        data: field.json(z.object({ s: z.string() })).default({ s: nasty }),
        at: field.datetime().default(new Date("2024-02-03T04:05:06.789Z")),
        ratio: field.number().default(-1.5),
        on: field.boolean().default(true),
      },
    });
    const notesModel = buildModel({ notes });
    await migrate(runtime, notesModel);
    await runtime.kysely.insertInto("notes").values({ id: "n1" }).execute();
    expect(await readRows(runtime, notesModel, "notes")).toMatchObject([
      { id: "n1", text: nasty, data: { s: nasty }, at: new Date("2024-02-03T04:05:06.789Z"), ratio: -1.5, on: true },
    ]);
    expect(await tableNames(runtime)).toEqual(["notes"]);
  });

  it("leaves tables the schema does not name alone", async () => {
    const runtime = await openDatabase(db);
    await runtime.kysely.schema.createTable("host_audit").addColumn("line", "text").execute();
    await runtime.kysely.insertInto("host_audit").values({ line: "kept" }).execute();
    await migrate(runtime, model);
    expect(await tableNames(runtime)).toEqual(["host_audit", "posts", "users"]);
    expect(await runtime.kysely.selectFrom("host_audit").selectAll().execute()).toEqual([{ line: "kept" }]);
  });
});
