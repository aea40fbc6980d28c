import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { tmpdir } from "node:os";
import { promises as fs } from "node:fs";
import { FileMigrationProvider, sql, type Kysely, type Migration } from "kysely";
import { expect, it, onTestFinished } from "vitest";
import { migrate, MigrationError } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { openDatabase, readRows, tableNames } from "./support.js";

const v1 = buildModel({ posts: collection("posts", { fields: { name: field.text() } }) });
const v2 = buildModel({ posts: collection("posts", { fields: { title: field.text() } }) });

function renameNameToTitle(calls: string[]): Migration {
  return {
    async up(db: Kysely<any>) {
      calls.push("up");
      await db.schema.alterTable("posts").renameColumn("name", "title").execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable("posts").renameColumn("title", "name").execute();
    },
  };
}

function recording(calls: string[], name: string): Migration {
  return {
    async up() {
      calls.push(name);
    },
  };
}

describeEachDatabase("migrate: versioned migrations", (db) => {
  async function seeded() {
    const runtime = await openDatabase(db);
    await migrate(runtime, v1);
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", name: "Hello" },
      { id: "p2", name: "World" },
    ]).execute();
    return runtime;
  }

  it("runs a migration before the schema sync, once: a rename the sync refuses goes through", async () => {
    const runtime = await seeded();
    const refused = await migrate(runtime, v2).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as MigrationError).refused.map((change) => `${change.kind} ${change.table}.${change.column}`)).toEqual([
      "addRequiredColumn posts.title",
      "dropColumn posts.name",
    ]);

    const calls: string[] = [];
    const migrations = { "2024_06_01_rename_posts_name": renameNameToTitle(calls) };
    expect(await migrate(runtime, v2, { migrations })).toEqual({ migrations: ["2024_06_01_rename_posts_name"], changes: [] });
    expect((await readRows(runtime, v2, "posts")).map((row) => [row["id"], row["title"]])).toEqual([
      ["p1", "Hello"],
      ["p2", "World"],
    ]);
    expect(await migrate(runtime, v2, { migrations })).toEqual({ migrations: [], changes: [] });
    expect(calls).toEqual(["up"]);
  });

  it("runs the migrations the docs show: a backfilled required column and a dropped field", async () => {
    const runtime = await openDatabase(db);
    const before = buildModel({ posts: collection("posts", { fields: { title: field.text(), subtitle: field.text().optional() } }) });
    await migrate(runtime, before);
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", title: "A rather long title", subtitle: "s" },
      { id: "p2", title: "Short" },
    ]).execute();
    const after = buildModel({ posts: collection("posts", { fields: { title: field.text(), summary: field.text() } }) });
    const migrations: Record<string, Migration> = {
      "2024_06_02_posts_summary": {
        async up(db: Kysely<any>) {
          await db.schema.alterTable("posts").addColumn("summary", "text", (col) => col.notNull().defaultTo("")).execute();
          await db.updateTable("posts").set({ summary: sql`substr(title, 1, 6)` }).execute();
        },
      },
      "2024_06_03_drop_posts_subtitle": {
        async up(db: Kysely<any>) {
          await db.schema.alterTable("posts").dropColumn("subtitle").execute();
        },
      },
    };
    expect(await migrate(runtime, after, { migrations })).toEqual({
      migrations: ["2024_06_02_posts_summary", "2024_06_03_drop_posts_subtitle"],
      changes: [],
    });
    expect((await readRows(runtime, after, "posts")).map((row) => [row["id"], row["title"], row["summary"], row["subtitle"]])).toEqual([
      ["p1", "A rather long title", "A rath", undefined],
      ["p2", "Short", "Short", undefined],
    ]);
  });

  it("runs pending migrations in name order and records them in cimiento_migration", async () => {
    const runtime = await openDatabase(db);
    const calls: string[] = [];
    const first = { "002_b": recording(calls, "002_b"), "001_a": recording(calls, "001_a") };
    expect((await migrate(runtime, v1, { migrations: first })).migrations).toEqual(["001_a", "002_b"]);
    const later = { ...first, "003_c": recording(calls, "003_c") };
    expect((await migrate(runtime, v1, { migrations: later })).migrations).toEqual(["003_c"]);
    expect(calls).toEqual(["001_a", "002_b", "003_c"]);
    const recorded = await runtime.kysely.selectFrom("cimiento_migration").select("name").orderBy("name").execute();
    expect(recorded.map((row: { name: string }) => row.name)).toEqual(["001_a", "002_b", "003_c"]);
    expect(await tableNames(runtime)).toEqual(["cimiento_migration", "cimiento_migration_lock", "posts"]);
  });

  it("throws an error naming a failed migration, with its cause, and applies none of the run", async () => {
    const runtime = await openDatabase(db);
    const boom = new Error("boom");
    const migrations: Record<string, Migration> = {
      "001_audit": {
        async up(db: Kysely<any>) {
          await db.schema.createTable("audit").addColumn("line", "text").execute();
        },
      },
      "002_broken": {
        async up(db: Kysely<any>) {
          await db.schema.createTable("audit_2").addColumn("line", "text").execute();
          throw boom;
        },
      },
    };
    const error = await migrate(runtime, v1, { migrations }).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toBe('Versioned migration "002_broken" failed, so none of the pending migrations was applied: boom');
    expect(error!.cause).toBe(boom);
    const tables = await tableNames(runtime);
    expect(tables.filter((name) => !name.startsWith("cimiento_"))).toEqual([]);

    migrations["002_broken"] = { async up() {} };
    expect(await migrate(runtime, v1, { migrations })).toMatchObject({ migrations: ["001_audit", "002_broken"] });
    expect(await tableNames(runtime)).toEqual(["audit", "cimiento_migration", "cimiento_migration_lock", "posts"]);
  });

  it("takes a Kysely MigrationProvider such as FileMigrationProvider", async () => {
    const runtime = await seeded();
    const folder = await mkdtemp(path.join(tmpdir(), "cimiento-migrations-"));
    onTestFinished(() => rm(folder, { recursive: true, force: true }));
    await writeFile(
      path.join(folder, "2024_06_01_rename_posts_name.mjs"),
      `export async function up(db) { await db.schema.alterTable("posts").renameColumn("name", "title").execute(); }
export async function down(db) { await db.schema.alterTable("posts").renameColumn("title", "name").execute(); }
`,
    );
    const migrations = new FileMigrationProvider({ fs, path, migrationFolder: folder });
    expect(await migrate(runtime, v2, { migrations })).toEqual({ migrations: ["2024_06_01_rename_posts_name"], changes: [] });
    expect(await migrate(runtime, v2, { migrations })).toEqual({ migrations: [], changes: [] });
  });
});
