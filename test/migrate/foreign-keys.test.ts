import { sql } from "kysely";
import { expect, it } from "vitest";
import { migrate, MigrationError } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, openDatabase, readRows } from "./support.js";

async function refusal(promise: Promise<unknown>): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationError);
  return error as MigrationError;
}

const users = collection("users", { fields: { name: field.text() } });

describeEachDatabase("migrate: foreign keys", (db) => {
  const sqlite = db.dialect === "sqlite";

  it("creates a self-referencing belongsTo", async () => {
    const runtime = await openDatabase(db);
    const categories = collection("categories", {
      fields: { name: field.text(), parent: field.belongsTo("categories", { onDelete: "cascade" }).optional() },
    });
    const model = buildModel({ categories });
    await migrate(runtime, model);
    expect((await describeTable(runtime, "categories")).foreignKeys).toEqual([
      { column: "parent", table: "categories", onDelete: "cascade" },
    ]);
    const k = runtime.kysely;
    await k.insertInto("categories").values({ id: "c1", name: "root" }).execute();
    await k.insertInto("categories").values({ id: "c2", name: "child", parent: "c1" }).execute();
    await expect(k.insertInto("categories").values({ id: "c3", name: "orphan", parent: "none" }).execute()).rejects.toThrow();
    await k.deleteFrom("categories").where("id", "=", "c1").execute();
    expect(await readRows(runtime, model, "categories")).toEqual([]);
    expect(await migrate(runtime, model)).toEqual({ migrations: [], changes: [] });
  });

  it("creates two collections that reference each other", async () => {
    const runtime = await openDatabase(db);
    const teams = collection("teams", { fields: { name: field.text(), captain: field.belongsTo("players", { onDelete: "setNull" }).optional() } });
    const players = collection("players", { fields: { name: field.text(), team: field.belongsTo("teams") } });
    const model = buildModel({ teams, players });
    const { changes } = await migrate(runtime, model);
    expect(changes.map((change) => change.description)).toEqual([
      "create table teams",
      "create table players",
      "create index teams_captain_idx on teams (captain)",
      "create index players_team_idx on players (team)",
    ]);
    expect((await describeTable(runtime, "teams")).foreignKeys).toEqual([{ column: "captain", table: "players", onDelete: "setNull" }]);
    expect((await describeTable(runtime, "players")).foreignKeys).toEqual([{ column: "team", table: "teams", onDelete: "restrict" }]);
    const k = runtime.kysely;
    await k.insertInto("teams").values({ id: "t1", name: "Reds" }).execute();
    await k.insertInto("players").values({ id: "p1", name: "Ann", team: "t1" }).execute();
    await k.updateTable("teams").set({ captain: "p1" }).execute();
    await expect(k.insertInto("players").values({ id: "p2", name: "Bob", team: "t9" }).execute()).rejects.toThrow();
    await expect(k.deleteFrom("teams").execute()).rejects.toThrow();
    await k.deleteFrom("players").execute();
    expect(await readRows(runtime, model, "teams")).toMatchObject([{ id: "t1", captain: null }]);
    expect(await migrate(runtime, model)).toEqual({ migrations: [], changes: [] });
  });

  it("adds the foreign key of a column that became a belongsTo on PostgreSQL, and refuses it on SQLite", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { author: field.text() } }) }));
    await runtime.kysely.insertInto("users").values({ id: "u1", name: "Ann" }).execute();
    await runtime.kysely.insertInto("posts").values({ id: "p1", author: "u1" }).execute();
    const model = buildModel({ users, posts: collection("posts", { fields: { author: field.belongsTo("users") } }) });
    if (sqlite) {
      const error = await refusal(migrate(runtime, model));
      expect(error.refused).toEqual([
        {
          kind: "addForeignKey",
          table: "posts",
          column: "author",
          description:
            "add a foreign key to posts.author (references users): SQLite cannot add one to an existing column; rebuild the table in a versioned migration",
        },
      ]);
      expect((await describeTable(runtime, "posts")).foreignKeys).toEqual([]);
      return;
    }
    const { changes } = await migrate(runtime, model);
    expect(changes).toEqual([
      { kind: "createIndex", table: "posts", name: "posts_author_idx", description: "create index posts_author_idx on posts (author)" },
      {
        kind: "addForeignKey",
        table: "posts",
        name: "posts_author_fkey",
        description: "add foreign key posts.author references users (on delete restrict)",
      },
    ]);
    expect((await describeTable(runtime, "posts")).foreignKeys).toEqual([{ column: "author", table: "users", onDelete: "restrict" }]);
    await expect(runtime.kysely.deleteFrom("users").execute()).rejects.toThrow();
    expect(await migrate(runtime, model)).toEqual({ migrations: [], changes: [] });
  });

  it.runIf(!sqlite)("refuses a foreign key over rows that hold ids the target does not have", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { author: field.text().optional() } }) }));
    await runtime.kysely.insertInto("users").values({ id: "u1", name: "Ann" }).execute();
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", author: "u1" },
      { id: "p2", author: "ghost" },
      { id: "p3", author: null },
    ]).execute();
    const model = buildModel({ users, posts: collection("posts", { fields: { author: field.belongsTo("users").optional() } }) });
    const error = await refusal(migrate(runtime, model));
    expect(error.refused).toEqual([
      {
        kind: "danglingReferences",
        table: "posts",
        column: "author",
        description: "add a foreign key to posts.author (references users): 1 row(s) of posts hold an id that users does not have",
      },
    ]);
    expect((await describeTable(runtime, "posts")).indexes).toEqual([]);
  });

  it("refuses a new belongsTo to a table whose id is not text with one error, not a failed query", async () => {
    const runtime = await openDatabase(db);
    const integerId = db.dialect === "sqlite" ? "integer primary key" : "bigint primary key";
    const timestamp = db.dialect === "sqlite" ? "text not null default ''" : "timestamptz not null default now()";
    await sql`create table "users" ("id" ${sql.raw(integerId)}, "name" text not null,
      "createdAt" ${sql.raw(timestamp)}, "updatedAt" ${sql.raw(timestamp)})`.execute(runtime.kysely);
    await migrate(runtime, buildModel({ posts: collection("posts", { fields: { author: field.text() } }) }));
    await runtime.kysely.insertInto("posts").values({ id: "p1", author: "1" }).execute();
    const model = buildModel({ users, posts: collection("posts", { fields: { author: field.belongsTo("users") } }) });
    const error = await refusal(migrate(runtime, model));
    expect(error.refused.map((change) => `${change.kind} ${change.table}.${change.column}`)).toEqual(
      sqlite ? ["changeType users.id", "addForeignKey posts.author"] : ["changeType users.id"],
    );
  });

  it("refuses to change the onDelete of an existing foreign key", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { author: field.belongsTo("users", { onDelete: "cascade" }) } }) }));
    const model = buildModel({ users, posts: collection("posts", { fields: { author: field.belongsTo("users") } }) });
    const error = await refusal(migrate(runtime, model));
    expect(error.refused).toEqual([
      {
        kind: "changeForeignKey",
        table: "posts",
        column: "author",
        description: "change the foreign key of posts.author from users (on delete cascade) to users (on delete restrict)",
      },
    ]);
  });

  it("adds an optional belongsTo to a table with rows; refuses one with a default on SQLite", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { title: field.text() } }) }));
    await runtime.kysely.insertInto("users").values({ id: "u1", name: "Ann" }).execute();
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "T" }).execute();
    const withDefault = buildModel({
      users,
      posts: collection("posts", { fields: { title: field.text(), owner: field.belongsTo("users").default("u1") } }),
    });
    if (sqlite) {
      const error = await refusal(migrate(runtime, withDefault));
      expect(error.refused).toEqual([
        {
          kind: "addForeignKey",
          table: "posts",
          column: "owner",
          description:
            'add column posts.owner: SQLite cannot add a column that references "users" with a non-NULL default to a table that holds rows',
        },
      ]);
    } else {
      expect((await migrate(runtime, withDefault)).changes.map((change) => change.description)).toEqual([
        "add column posts.owner",
        "create index posts_owner_idx on posts (owner)",
      ]);
      expect(await readRows(runtime, withDefault, "posts")).toMatchObject([{ id: "p1", owner: "u1" }]);
      return;
    }
    const optional = buildModel({
      users,
      posts: collection("posts", { fields: { title: field.text(), owner: field.belongsTo("users").optional() } }),
    });
    expect((await migrate(runtime, optional)).changes.map((change) => change.description)).toEqual([
      "add column posts.owner",
      "create index posts_owner_idx on posts (owner)",
    ]);
    expect((await describeTable(runtime, "posts")).foreignKeys).toEqual([{ column: "owner", table: "users", onDelete: "restrict" }]);
  });

  it.runIf(!sqlite)("refuses a new belongsTo whose default is not an id of the target, on PostgreSQL", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, buildModel({ users, posts: collection("posts", { fields: { title: field.text() } }) }));
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "T" }).execute();
    const model = buildModel({
      users,
      posts: collection("posts", { fields: { title: field.text(), owner: field.belongsTo("users").default("nobody") } }),
    });
    const error = await refusal(migrate(runtime, model));
    expect(error.refused).toEqual([
      {
        kind: "danglingReferences",
        table: "posts",
        column: "owner",
        description: "add column posts.owner: its default is not an id of users",
      },
    ]);
    expect(error.cause).toBeInstanceOf(Error);
    expect((await describeTable(runtime, "posts")).columns["owner"]).toBeUndefined();
  });
});
