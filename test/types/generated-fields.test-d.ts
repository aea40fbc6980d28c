/**
 * The types of generated fields: `string` / `number` in records, left out of callers' inputs,
 * optional in the system scope's create input.
 */
import { describe, expectTypeOf, test } from "vitest";
import type { Generated } from "kysely";
import { collection, createBackend, field, type Backend, type CreateInput, type DB, type Infer, type UpdateInput } from "cimiento";
import { sqlite } from "cimiento/sqlite";

const notes = collection("notes", {
  fields: { title: field.text(), slug: field.slug("title"), number: field.sequence() },
});
const pages = collection("pages", { fields: { title: field.text(), slug: field.slug("title", { update: true }) } });
const collections = { notes, pages };
const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections });

describe("generated fields: types", () => {
  test("records hold them; callers' inputs do not; the system's create input may", () => {
    expectTypeOf<Infer<typeof notes>>().toEqualTypeOf<{
      id: string;
      title: string;
      slug: string;
      number: number;
      createdAt: Date;
      updatedAt: Date;
    }>();
    expectTypeOf<CreateInput<typeof notes, "caller">>().toEqualTypeOf<{ title: string }>();
    expectTypeOf<UpdateInput<typeof notes, "caller">>().toEqualTypeOf<{ title?: string }>();
    expectTypeOf<CreateInput<typeof notes>>().toEqualTypeOf<{
      title: string;
      slug?: string;
      number?: number;
      id?: string;
      createdAt?: Date | string;
      updatedAt?: Date | string;
    }>();
    expectTypeOf<UpdateInput<typeof notes>>().toEqualTypeOf<{ title?: string; slug?: string; number?: number }>();
    type Row = DB<typeof collections, "sqlite">["notes"];
    expectTypeOf<Row["slug"]>().toEqualTypeOf<Generated<string>>();
    expectTypeOf<Row["number"]>().toEqualTypeOf<Generated<number>>();
  });

  test("they filter and sort as text and integers", () => {
    type Backend2 = Backend<typeof collections, "sqlite">;
    type ListArgs = Parameters<Backend2["system"]["data"]["notes"]["list"]>[0];
    expectTypeOf<{ where: { number: { gte: 3 } }; orderBy: { number: "desc" } }>().toExtend<NonNullable<ListArgs>>();
    type ArticleArgs = Parameters<Backend2["system"]["data"]["pages"]["list"]>[0];
    expectTypeOf<{ where: { slug: { startsWith: "a" } }; orderBy: { slug: "asc" } }>().toExtend<NonNullable<ArticleArgs>>();
  });

  test("callers may not send them; the system scope may; writes return them", () => {
    // @ts-expect-error a slug is read-only for callers
    void backend.as(null).data.notes.create({ title: "x", slug: "y" });
    // @ts-expect-error a sequence too
    void backend.as(null).data.notes.update("id", { number: 3 });
    void backend.system.data.notes.create({ title: "x", slug: "y", number: 3 });
    expectTypeOf(backend.as(null).data.notes.create({ title: "x" })).resolves.toHaveProperty("slug").toEqualTypeOf<string>();
    expectTypeOf(backend.system.data.notes.create({ title: "x" })).resolves.toHaveProperty("number").toEqualTypeOf<number>();
  });
});
