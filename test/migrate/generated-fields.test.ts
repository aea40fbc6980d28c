/**
 * Migrating generated fields: a slug or sequence field is added to an empty table like any
 * column, and refused, with a message that says what to do, when the table holds rows.
 */
import { expect, it } from "vitest";
import { migrate, MigrationError } from "../../src/migrate/migrate.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, openDatabase } from "./support.js";

const v1 = buildModel({ posts: collection("posts", { fields: { title: field.text() } }) });
const v2 = buildModel({
  posts: collection("posts", { fields: { title: field.text(), slug: field.slug("title"), number: field.sequence() } }),
});

describeEachDatabase("migrate: generated fields", (db) => {
  it("adds them to an empty table, unique", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, v1);
    await migrate(runtime, v2);
    const table = await describeTable(runtime, "posts");
    expect(table.columns["slug"]?.notNull).toBe(true);
    expect(table.columns["number"]?.notNull).toBe(true);
    expect(table.indexes).toEqual(
      expect.arrayContaining([
        { name: "posts_slug_key", columns: ["slug"], unique: true },
        { name: "posts_number_key", columns: ["number"], unique: true },
      ]),
    );
  });

  it("refuses to add them to a table that holds rows, saying how to do it", async () => {
    const runtime = await openDatabase(db);
    await migrate(runtime, v1);
    await runtime.kysely.insertInto("posts").values({ id: "p1", title: "One" }).execute();
    const error = await migrate(runtime, v2).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).refused).toEqual([
      {
        kind: "addRequiredColumn",
        table: "posts",
        column: "slug",
        description:
          "add generated column posts.slug: posts holds rows, and a slug is only made when a record is created (add the column and fill it for those rows in a versioned migration)",
      },
      {
        kind: "addRequiredColumn",
        table: "posts",
        column: "number",
        description:
          "add generated column posts.number: posts holds rows, and a sequence is only made when a record is created (add the column and fill it for those rows in a versioned migration; generated values then go on after the largest one)",
      },
    ]);
  });
});
