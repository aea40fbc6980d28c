/**
 * Generated fields: `field.slug(from)` (unique, suffixed `-2`, `-3`, ... when taken, kept or
 * made again on updates) and `field.sequence()` (1, 2, 3, ... from a counter that deletes do not
 * move back, taken in the create's transaction). Both are read-only for callers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { sql } from "kysely";
import { z } from "zod";
import {
  type ApiError,
  collection,
  createBackend,
  field,
  SchemaError,
  type Backend,
} from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };

/** What the hooks of `notes` saw. */
const seen: [string, Record<string, unknown>][] = [];

const articles = collection("articles", {
  fields: {
    title: field.text(z.string().min(1)),
    slug: field.slug("title"),
    body: field.text().optional(),
  },
  access: open,
});

const pages = collection("pages", {
  fields: {
    title: field.text(),
    slug: field.slug("title", { update: true }),
  },
  access: open,
});

const comments = collection("comments", {
  fields: {
    number: field.sequence(),
    body: field.text(),
  },
  access: open,
});

const notes = collection("notes", {
  fields: {
    title: field.text(),
    slug: field.slug("title"),
    number: field.sequence(),
  },
  access: open,
  hooks: {
    beforeCreate: ({ data }) => {
      seen.push(["beforeCreate", { ...data }]);
      if (data.title === "custom") return { ...data, slug: "chosen-by-hook" };
      return undefined;
    },
    afterCreate: ({ record }) => {
      seen.push(["afterCreate", { slug: record.slug, number: record.number }]);
    },
  },
});

const collections = { articles, pages, comments, notes };

const issuesOf = (error: ApiError) => error.issues.map((issue) => [issue.path.join("."), issue.code]);

describeEachDatabase("generated fields", (db) => {
  let backend: Backend<typeof collections, "sqlite" | "postgres">;
  let drop: () => Promise<void>;
  const caller = { id: "u1", role: "member" };

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = createBackend({ database: fresh.database, collections }) as typeof backend;
    await backend.migrate();
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });
  beforeEach(async () => {
    for (const name of ["articles", "pages", "comments", "notes"] as const) await backend.db.deleteFrom(name).execute();
    seen.length = 0;
  });

  describe("slug", () => {
    test("is made from the source: lower-case ASCII words joined by -", async () => {
      const { data } = backend.system;
      expect((await data.articles.create({ title: "Hello, World!" })).slug).toBe("hello-world");
      expect((await data.articles.create({ title: "  Déjà vu: Ærø & Straße  " })).slug).toBe("deja-vu-aero-and-strasse");
      expect((await data.articles.create({ title: "iPhone 15 Pro — review" })).slug).toBe("iphone-15-pro-review");
    });

    test("a taken slug gets the smallest free suffix -2, -3, ...", async () => {
      const { data } = backend.system;
      const made = [];
      for (let i = 0; i < 4; i++) made.push((await data.articles.create({ title: "Same title" })).slug);
      expect(made).toEqual(["same-title", "same-title-2", "same-title-3", "same-title-4"]);
      // A freed suffix is the smallest free one again.
      const second = await data.articles.list({ where: { slug: "same-title-2" } });
      await data.articles.delete(second.items[0]!.id);
      expect((await data.articles.create({ title: "Same title" })).slug).toBe("same-title-2");
      expect((await data.articles.create({ title: "Same title" })).slug).toBe("same-title-5");
    });

    test("only base-<number> counts as taken: a longer slug of the same start does not", async () => {
      const { data } = backend.system;
      await data.articles.create({ title: "Hello world" });
      await data.articles.create({ title: "Hello", slug: "hello-2x" });
      expect((await data.articles.create({ title: "Hello" })).slug).toBe("hello");
      expect((await data.articles.create({ title: "Hello" })).slug).toBe("hello-2");
      // A source whose slug itself ends in a number.
      expect((await data.articles.create({ title: "Hello 2" })).slug).toBe("hello-2-2");
    });

    test("the LIKE/GLOB metacharacters of a slug are literal in the collision query", async () => {
      const { data } = backend.system;
      // The system scope may set any slug: these would match "a-b-%" / "a-b-*" if not escaped.
      await data.articles.create({ title: "x", slug: "a_b" });
      await data.articles.create({ title: "x", slug: "a%b" });
      await data.articles.create({ title: "x", slug: "a*b" });
      await data.articles.create({ title: "x", slug: "a[b" });
      expect((await data.articles.create({ title: "a b" })).slug).toBe("a-b");
      expect((await data.articles.create({ title: "a b" })).slug).toBe("a-b-2");
    });

    test("a source without letters or digits gives a short random slug", async () => {
      const { data } = backend.system;
      const one = await data.articles.create({ title: "!!! ???" });
      const two = await data.articles.create({ title: "!!! ???" });
      const three = await data.articles.create({ title: "日本語" });
      for (const record of [one, two, three]) expect(record.slug).toMatch(/^[0-9a-f]{10}$/);
      expect(new Set([one.slug, two.slug, three.slug]).size).toBe(3);
    });

    test("is at most 100 characters before the suffix, without a trailing -", async () => {
      const { data } = backend.system;
      const title = `${"word ".repeat(19)}abcdefghij ${"x".repeat(200)}`;
      const first = await data.articles.create({ title });
      const second = await data.articles.create({ title });
      expect(first.slug.length).toBeLessThanOrEqual(100);
      expect(first.slug).not.toMatch(/-$/);
      expect(second.slug).toBe(`${first.slug}-2`);
    });

    test("is kept when an update changes the source (links stay valid)", async () => {
      const { data } = backend.system;
      const article = await data.articles.create({ title: "First title" });
      const updated = await data.articles.update(article.id, { title: "Second title" });
      expect(updated.slug).toBe("first-title");
      await data.articles.updateMany({ where: {}, data: { title: "Third title" } });
      expect((await data.articles.get(article.id))!.slug).toBe("first-title");
    });

    test("with { update: true }, is made again when an update changes the source", async () => {
      const { data } = backend.system;
      const page = await data.pages.create({ title: "About" });
      await data.pages.create({ title: "Contact" });
      expect((await data.pages.update(page.id, { title: "About us" })).slug).toBe("about-us");
      // Into a taken family: the smallest free suffix.
      expect((await data.pages.update(page.id, { title: "Contact" })).slug).toBe("contact-2");
      // A change that gives the same slug family keeps the slug.
      expect((await data.pages.update(page.id, { title: "contact!" })).slug).toBe("contact-2");
      // An update without the source, or with the same value, keeps it.
      const custom = await data.pages.update(page.id, { slug: "my-own" });
      expect(custom.slug).toBe("my-own");
      expect((await data.pages.update(page.id, { title: "contact!" })).slug).toBe("my-own");
      expect((await data.pages.update(page.id, { title: "Other" })).slug).toBe("other");
      // An update that sets both keeps the given slug.
      expect((await data.pages.update(page.id, { title: "Again", slug: "given" })).slug).toBe("given");
    });

    test("with { update: true }, updateMany makes each record's slug", async () => {
      const { data } = backend.system;
      await data.pages.createMany([{ title: "A" }, { title: "B" }, { title: "C" }]);
      expect(await data.pages.updateMany({ where: {}, data: { title: "Same" } })).toEqual({ count: 3 });
      const slugs = (await data.pages.list({ orderBy: { slug: "asc" } })).items.map((page) => page.slug);
      expect(slugs).toEqual(["same", "same-2", "same-3"]);
    });

    test("createMany gives distinct slugs within the batch and around given ones", async () => {
      const { data } = backend.system;
      await data.articles.create({ title: "Batch" });
      const made = await data.articles.createMany([
        { title: "Batch" },
        { title: "Batch", slug: "batch-3" },
        { title: "Batch" },
        { title: "Other" },
      ]);
      expect(made.map((article) => article.slug)).toEqual(["batch-2", "batch-3", "batch-4", "other"]);
    });

    test("can be filtered, sorted and selected like a text field", async () => {
      const { data } = backend.system;
      await data.articles.createMany([{ title: "Beta" }, { title: "Alpha" }, { title: "Gamma ray" }]);
      const page = await data.articles.list({
        where: { slug: { startsWith: "g" } },
        select: ["slug"],
      });
      expect(page.items.map((item) => item.slug)).toEqual(["gamma-ray"]);
      const sorted = await data.articles.list({ orderBy: { slug: "desc" } });
      expect(sorted.items.map((item) => item.slug)).toEqual(["gamma-ray", "beta", "alpha"]);
      expect(await data.articles.count({ where: { slug: { in: ["alpha", "beta"] } } })).toBe(2);
    });

    test("callers may not send it (read_only), on create and update", async () => {
      const scope = backend.as(caller);
      const creating = await failure(scope.data.articles.create({ title: "Mine", slug: "mine" } as never));
      expect(creating.code).toBe("VALIDATION_FAILED");
      expect(issuesOf(creating)).toEqual([["slug", "read_only"]]);
      const article = await scope.data.articles.create({ title: "Mine" });
      expect(article.slug).toBe("mine");
      const updating = await failure(scope.data.articles.update(article.id, { slug: "other" } as never));
      expect(issuesOf(updating)).toEqual([["slug", "read_only"]]);
      const many = await failure(scope.data.articles.createMany([{ title: "a" }, { title: "b", slug: "b" }] as never));
      expect(issuesOf(many)).toEqual([["1.slug", "read_only"]]);
    });

    test("the system scope may set it; a taken one is a UNIQUE_VIOLATION, not suffixed", async () => {
      const { data } = backend.system;
      expect((await data.articles.create({ title: "Anything", slug: "chosen" })).slug).toBe("chosen");
      const taken = await failure(data.articles.create({ title: "Else", slug: "chosen" }));
      expect(taken.code).toBe("UNIQUE_VIOLATION");
      expect(taken.details).toMatchObject({ fields: ["slug"] });
      const empty = await failure(data.articles.create({ title: "Else", slug: "" }));
      expect(empty.code).toBe("VALIDATION_FAILED");
    });

    test("concurrent creates of the same source all get distinct slugs", async () => {
      const { data } = backend.system;
      const made = await Promise.all(Array.from({ length: 12 }, () => data.articles.create({ title: "Race" })));
      const slugs = made.map((article) => article.slug).sort();
      expect(new Set(slugs).size).toBe(12);
      expect(slugs).toEqual(["race", ...Array.from({ length: 11 }, (_, i) => `race-${i + 2}`)].sort());
    });
  });

  describe("sequence", () => {
    test("numbers records 1, 2, 3, ... in creation order, and never gives a number again after deletes", async () => {
      const { data } = backend.system;
      const first = await data.comments.create({ body: "one" });
      const second = await data.comments.create({ body: "two" });
      const third = await data.comments.create({ body: "three" });
      const start = first.number;
      expect([second.number, third.number]).toEqual([start + 1, start + 2]);
      await data.comments.delete(third.id);
      await data.comments.delete(second.id);
      expect((await data.comments.create({ body: "four" })).number).toBe(start + 3);
      await data.comments.deleteMany({ where: {} });
      expect((await data.comments.create({ body: "five" })).number).toBe(start + 4);
    });

    test("starts at 1, with one counter per collection field", async () => {
      const fresh = await db.fresh();
      const other = createBackend({ database: fresh.database, collections });
      try {
        await other.migrate();
        expect((await other.system.data.comments.create({ body: "x" })).number).toBe(1);
        expect((await other.system.data.notes.create({ title: "x" })).number).toBe(1);
        expect((await other.system.data.comments.create({ body: "y" })).number).toBe(2);
        const counters = await sql<{ name: string; value: number }>`select "name", "value" from cimiento_sequences order by "name"`.execute(
          other.db,
        );
        expect(counters.rows.map((row) => [row.name, Number(row.value)])).toEqual([
          ["comments.number", 2],
          ["notes.number", 1],
        ]);
      } finally {
        await other.close();
        await fresh.drop();
      }
    });

    test("createMany takes consecutive values in the order given", async () => {
      const { data } = backend.system;
      const before = (await data.comments.create({ body: "before" })).number;
      const made = await data.comments.createMany([{ body: "a" }, { body: "b" }, { body: "c" }]);
      expect(made.map((comment) => comment.number)).toEqual([before + 1, before + 2, before + 3]);
      expect((await data.comments.create({ body: "after" })).number).toBe(before + 4);
    });

    test("a rolled-back create gives its value back (the counter is in the transaction)", async () => {
      const { data } = backend.system;
      const before = (await data.comments.create({ body: "before" })).number;
      await expect(
        backend.system.transaction(async (tx) => {
          await tx.data.comments.create({ body: "rolled back" });
          throw new Error("no");
        }),
      ).rejects.toThrow("no");
      expect((await data.comments.create({ body: "after" })).number).toBe(before + 1);
    });

    test("the system scope may set it: kept, and later values go on above it", async () => {
      const { data } = backend.system;
      const before = (await data.comments.create({ body: "before" })).number;
      const imported = await data.comments.create({ body: "imported", number: before + 100 });
      expect(imported.number).toBe(before + 100);
      expect((await data.comments.create({ body: "next" })).number).toBe(before + 101);
      // Below the counter: kept too (unique: a taken one is refused).
      expect((await data.comments.create({ body: "low", number: before + 50 })).number).toBe(before + 50);
      const taken = await failure(data.comments.create({ body: "dup", number: before + 50 }));
      expect(taken.code).toBe("UNIQUE_VIOLATION");
      // Given and generated in one createMany.
      const batch = await data.comments.createMany([{ body: "a" }, { body: "b", number: before + 200 }, { body: "c" }]);
      expect(batch.map((comment) => comment.number)).toEqual([before + 201, before + 200, before + 202]);
    });

    test("goes on after the largest value the table holds (rows a migration wrote)", async () => {
      const { data } = backend.system;
      const before = (await data.comments.create({ body: "before" })).number;
      const now = new Date().toISOString();
      await backend.db
        .insertInto("comments")
        .values({ id: "migrated", body: "migrated", number: before + 500, createdAt: now, updatedAt: now } as never)
        .execute();
      expect((await data.comments.create({ body: "after" })).number).toBe(before + 501);
    });

    test("callers may not send it (read_only)", async () => {
      const scope = backend.as(caller);
      const creating = await failure(scope.data.comments.create({ body: "x", number: 7 } as never));
      expect(issuesOf(creating)).toEqual([["number", "read_only"]]);
      const comment = await scope.data.comments.create({ body: "x" });
      expect(comment.number).toBeGreaterThan(0);
      const updating = await failure(scope.data.comments.update(comment.id, { number: 1 } as never));
      expect(issuesOf(updating)).toEqual([["number", "read_only"]]);
    });

    test("can be filtered, sorted and selected like an integer field", async () => {
      const { data } = backend.system;
      const made = await data.comments.createMany([{ body: "a" }, { body: "b" }, { body: "c" }]);
      const middle = made[1]!.number;
      const page = await data.comments.list({ where: { number: { gte: middle } }, orderBy: { number: "desc" }, select: ["number"] });
      expect(page.items).toEqual([
        { id: made[2]!.id, number: middle + 1 },
        { id: made[1]!.id, number: middle },
      ]);
    });

    test("concurrent creates get distinct values without gaps", async () => {
      const { data } = backend.system;
      const before = (await data.comments.create({ body: "before" })).number;
      const made = await Promise.all([
        ...Array.from({ length: 16 }, (_, i) => data.comments.create({ body: `one ${i}` })),
        ...Array.from({ length: 4 }, (_, i) => data.comments.createMany([{ body: `many ${i}a` }, { body: `many ${i}b` }])),
      ]);
      const numbers = made.flat().map((comment) => comment.number).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 24 }, (_, i) => before + 1 + i));
    });
  });

  describe("with hooks", () => {
    test("beforeCreate runs before they are made; afterCreate sees them", async () => {
      const scope = backend.as(caller);
      const note = await scope.data.notes.create({ title: "Hooked note" });
      expect(seen).toEqual([
        ["beforeCreate", { title: "Hooked note" }],
        ["afterCreate", { slug: "hooked-note", number: note.number }],
      ]);
      expect(note.slug).toBe("hooked-note");
    });

    test("beforeCreate may set the slug, for a caller too", async () => {
      const note = await backend.as(caller).data.notes.create({ title: "custom" });
      expect(note.slug).toBe("chosen-by-hook");
    });
  });

  test("upsert fills them when it creates", async () => {
    const { data } = backend.system;
    const made = await data.notes.upsert({ where: { slug: "upserted" }, create: { title: "Whatever" }, update: { title: "Changed" } });
    expect(made.slug).toBe("upserted");
    expect(made.number).toBeGreaterThan(0);
    const again = await data.notes.upsert({ where: { slug: "upserted" }, create: { title: "Whatever" }, update: { title: "Changed" } });
    expect(again).toMatchObject({ id: made.id, title: "Changed", slug: "upserted", number: made.number });
  });
});

describe("generated fields: definitions", () => {
  test("a slug's source must be a text or enum field of the same collection", () => {
    expect(() => collection("a", { fields: { slug: field.slug("title") } })).toThrow(SchemaError);
    expect(() => collection("a", { fields: { n: field.integer(), slug: field.slug("n") } })).toThrow(
      'Field "a.slug" is a slug of "n", which must be a text or enum field of "a" (not a generated one).',
    );
    expect(() => collection("a", { fields: { s: field.slug("t"), t: field.slug("s") } })).toThrow(SchemaError);
    expect(() => collection("a", { fields: { kind: field.enum(["x", "y"]), slug: field.slug("kind") } })).not.toThrow();
  });

  test("a generated field cannot be optional() nor have a default()", () => {
    expect(() => collection("a", { fields: { t: field.text(), slug: field.slug("t").optional() } })).toThrow(
      'Field "a.slug" is a generated slug: it is always filled at create, so it cannot be optional() nor have a default().',
    );
    expect(() => collection("a", { fields: { n: field.sequence().default(1) } })).toThrow(SchemaError);
  });

  test("the sequences table is migrated only when some collection has a sequence", async () => {
    const plain = createBackend({ database: (await import("cimiento/sqlite")).sqlite({ file: ":memory:" }), collections: { articles } });
    const withSequence = createBackend({ database: (await import("cimiento/sqlite")).sqlite({ file: ":memory:" }), collections: { comments } });
    const tables = async (b: { migrate(): Promise<{ changes: readonly { kind: string; table: string }[] }> }) =>
      (await b.migrate()).changes.filter((change) => change.kind === "createTable").map((change) => change.table);
    expect(await tables(plain)).toEqual(["articles"]);
    expect(await tables(withSequence)).toEqual(expect.arrayContaining(["comments", "cimiento_sequences"]));
    await plain.close();
    await withSequence.close();
  });
});
