import { expect, it } from "vitest";
import { applyPlan } from "../../src/migrate/apply-plan.js";
import { migrate, MigrationError } from "../../src/migrate/migrate.js";
import { PHASE } from "../../src/migrate/planned-change.js";
import { collection } from "../../src/define/collection.js";
import { field } from "../../src/define/field.js";
import { buildModel, type Model } from "../../src/model/model.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { describeTable, openDatabase, readRows, tableNames } from "./support.js";

async function refusal(promise: Promise<unknown>): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationError);
  return error as MigrationError;
}

const v1 = buildModel({
  posts: collection("posts", {
    fields: {
      title: field.text(),
      subtitle: field.text().optional(),
      views: field.integer().default(0),
      body: field.text().optional(),
    },
  }),
});

describeEachDatabase("migrate: refused changes", (db) => {
  const T = db.dialect === "sqlite" ? { integer: "INTEGER", text: "TEXT" } : { integer: "bigint", text: "text" };

  async function seeded(model: Model = v1) {
    const runtime = await openDatabase(db);
    await migrate(runtime, model);
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", title: "One", subtitle: "first", views: 3, body: "b1" },
      { id: "p2", title: "Two", subtitle: null, views: 5, body: "b2" },
    ]).execute();
    return { runtime, rows: await readRows(runtime, model, "posts"), table: await describeTable(runtime, "posts") };
  }

  it("refuses to drop the column of a removed field, naming it, and leaves table and data as they were", async () => {
    const { runtime, rows, table } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", { fields: { title: field.text(), views: field.integer().default(0), body: field.text().optional() } }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused).toEqual([
      {
        kind: "dropColumn",
        table: "posts",
        column: "subtitle",
        description:
          "drop column posts.subtitle: the database has it but the schema does not (removing or renaming a field would lose its data)",
      },
    ]);
    expect(error.message).toContain("posts.subtitle");
    expect(await describeTable(runtime, "posts")).toEqual(table);
    expect(await readRows(runtime, v1, "posts")).toEqual(rows);
  });

  it("refuses a type change", async () => {
    const { runtime, rows } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", {
        fields: { title: field.text(), subtitle: field.text().optional(), views: field.text().default("0"), body: field.text().optional() },
      }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused).toEqual([
      {
        kind: "changeType",
        table: "posts",
        column: "views",
        description: `change the type of posts.views from ${T.integer} to ${T.text}`,
      },
    ]);
    expect(await readRows(runtime, v1, "posts")).toEqual(rows);
  });

  it("refuses to make an optional field required, and a required one optional", async () => {
    const { runtime } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", {
        fields: { title: field.text().optional(), subtitle: field.text(), views: field.integer().default(0), body: field.text().optional() },
      }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused).toEqual([
      {
        kind: "changeNullability",
        table: "posts",
        column: "title",
        description: "make posts.title optional: the column is NOT NULL in the database",
      },
      {
        kind: "changeNullability",
        table: "posts",
        column: "subtitle",
        description: "make posts.subtitle required: the column allows NULL in the database",
      },
    ]);
  });

  it("refuses a required column without default on a table with rows, and applies none of the other changes", async () => {
    const { runtime, table } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", {
        fields: {
          title: field.text(),
          subtitle: field.text().optional(),
          views: field.integer().default(0),
          body: field.text().optional(),
          summary: field.text().unique(),
          note: field.text().optional(),
        },
      }),
      tags: collection("tags", { fields: { name: field.text() } }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused).toEqual([
      {
        kind: "addRequiredColumn",
        table: "posts",
        column: "summary",
        description:
          "add required column posts.summary: posts holds rows and the field has no default to fill them with (make it optional(), give it a default(), or fill it in a versioned migration)",
      },
    ]);
    expect(await tableNames(runtime)).toEqual(["posts"]);
    expect(await describeTable(runtime, "posts")).toEqual(table);
  });

  it("lists every refused change at once, one per line, and points to versioned migrations", async () => {
    const { runtime } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", {
        fields: { title: field.text().optional(), views: field.text().default("0"), body: field.text().optional(), summary: field.text() },
      }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused.map((change) => `${change.kind} ${change.table}.${change.column}`)).toEqual([
      "changeNullability posts.title",
      "changeType posts.views",
      "addRequiredColumn posts.summary",
      "dropColumn posts.subtitle",
    ]);
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(6);
    expect(lines.slice(1, 5)).toEqual(error.refused.map((change) => `  - ${change.description}`));
    expect(lines[5]).toContain("versioned migration (Kysely Migrator format");
    expect(lines[5]).toContain("`migrations`");
    expect(error.name).toBe("MigrationError");
  });

  it("refuses a unique index over duplicate values, naming the table and columns", async () => {
    const runtime = await openDatabase(db);
    const plain = collection("posts", { fields: { slug: field.text(), lang: field.text() } });
    await migrate(runtime, buildModel({ posts: plain }));
    await runtime.kysely.insertInto("posts").values([
      { id: "p1", slug: "a", lang: "en" },
      { id: "p2", slug: "a", lang: "en" },
      { id: "p3", slug: "b", lang: "en" },
      { id: "p4", slug: "b", lang: "es" },
    ]).execute();
    const unique = collection("posts", {
      fields: { slug: field.text().unique(), lang: field.text() },
      indexes: [{ fields: ["lang", "slug"], unique: true }],
    });
    const error = await refusal(migrate(runtime, buildModel({ posts: unique })));
    expect(error.refused).toEqual([
      {
        kind: "duplicateValues",
        table: "posts",
        column: "slug",
        description: "create unique index posts_slug_key on posts (slug): 2 value(s) are held by more than one row; make them unique first",
      },
      {
        kind: "duplicateValues",
        table: "posts",
        description:
          "create unique index posts_lang_slug_key on posts (lang, slug): 1 value(s) are held by more than one row; make them unique first",
      },
    ]);
    expect((await describeTable(runtime, "posts")).indexes).toEqual([]);
  });

  it("refuses a unique column added with a default to a table of several rows", async () => {
    const { runtime } = await seeded();
    const v2 = buildModel({
      posts: collection("posts", {
        fields: {
          title: field.text(),
          subtitle: field.text().optional(),
          views: field.integer().default(0),
          body: field.text().optional(),
          code: field.text().default("x").unique(),
          ref: field.text().optional().unique(),
        },
      }),
    });
    const error = await refusal(migrate(runtime, v2));
    expect(error.refused.map((change) => [change.kind, change.description.split(":")[0]])).toEqual([
      ["duplicateValues", "create unique index posts_code_key on posts (code)"],
    ]);
  });

  it("turns a unique violation while applying into a MigrationError with the driver's error as cause", async () => {
    const { runtime } = await seeded();
    await runtime.kysely.updateTable("posts").set({ title: "Same" }).execute();
    const refused = { kind: "duplicateValues", table: "posts", column: "title", description: "create unique index x on posts (title)" } as const;
    const plan = {
      refused: [],
      changes: [
        {
          change: { kind: "createIndex", table: "posts", name: "x", description: "create unique index x on posts (title)" } as const,
          statements: [{ phase: PHASE.createIndex, sql: `CREATE UNIQUE INDEX "x" ON "posts" ("title")`, refusedOnViolation: refused }],
        },
      ],
    };
    const error = await refusal(runtime.transaction((trx) => applyPlan(trx, runtime, plan)));
    expect(error.refused).toEqual([refused]);
    expect(error.cause).toBeInstanceOf(Error);
  });
});
