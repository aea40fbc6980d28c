import type { Migration } from "kysely";
import { expect, it } from "vitest";
import { migrate, MigrationError } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, openDatabase, tableNames } from "./support.js";

const users = collection("users", { fields: { name: field.text() } });
const v1 = buildModel({ users, posts: collection("posts", { fields: { title: field.text() } }) });
const v2 = buildModel({
  users,
  posts: collection("posts", {
    fields: { title: field.text().unique(), subtitle: field.text().optional(), author: field.belongsTo("users").optional() },
  }),
});

describeEachDatabase("migrate: dry run", (db) => {
  it("plans the tables of an empty database and creates none", async () => {
    const runtime = await openDatabase(db);
    const planned = await migrate(runtime, v1, { dryRun: true });
    expect(planned.changes.map((change) => change.description)).toEqual(["create table users", "create table posts"]);
    expect(await tableNames(runtime)).toEqual([]);
    expect(await migrate(runtime, v1)).toEqual(planned);
  });

  it("plans additive changes on a table with rows and applies none", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, v1);
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "T" }).execute();
    const before = await describeTable(runtime, "posts");
    const planned = await migrate(runtime, v2, { dryRun: true });
    expect(planned).toEqual({
      migrations: [],
      changes: [
        { kind: "addColumn", table: "posts", name: "subtitle", description: "add column posts.subtitle" },
        { kind: "addColumn", table: "posts", name: "author", description: "add column posts.author" },
        { kind: "createIndex", table: "posts", name: "posts_title_key", description: "create unique index posts_title_key on posts (title)" },
        { kind: "createIndex", table: "posts", name: "posts_author_idx", description: "create index posts_author_idx on posts (author)" },
      ],
    });
    expect(await describeTable(runtime, "posts")).toEqual(before);
    expect(await migrate(runtime, v2)).toEqual(planned);
  });

  it("lists pending versioned migrations without running or recording them", async () => {
    const runtime = await openDatabase(db);
    const calls: string[] = [];
    const migrations: Record<string, Migration> = {
      "002_second": { up: async () => void calls.push("002_second") },
      "001_first": { up: async () => void calls.push("001_first") },
    };
    expect((await migrate(runtime, v1, { migrations, dryRun: true })).migrations).toEqual(["001_first", "002_second"]);
    expect(calls).toEqual([]);
    expect(await tableNames(runtime)).toEqual([]);
    await migrate(runtime, v1, { migrations: { "001_first": migrations["001_first"]! } });
    expect((await migrate(runtime, v1, { migrations, dryRun: true })).migrations).toEqual(["002_second"]);
    expect(calls).toEqual(["001_first"]);
  });

  it("throws the MigrationError a real run would throw", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, v2);
    const error = await migrate(runtime, v1, { dryRun: true }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).refused.map((change) => change.kind)).toEqual(["dropColumn", "dropColumn"]);
  });
});
