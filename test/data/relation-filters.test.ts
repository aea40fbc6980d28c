/**
 * Nested relation filters cost the sum of their tables, not the product of their fan-outs: on
 * SQLite, which runs a correlated subquery again for every row, every relation filter is an
 * uncorrelated `IN (subquery)`, evaluated once (a 430-character `where` of five nested `every`
 * took minutes before, and blocked the process). The answers stay those of the filters.
 */
import { CompiledQuery } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";

const users = collection("users", {
  fields: { name: field.text(), posts: field.hasMany("posts", { on: "author" }) },
  access: { list: () => true, get: () => true },
});
const posts = collection("posts", {
  fields: { title: field.text(), author: field.belongsTo("users"), editor: field.belongsTo("users").optional() },
  access: { list: () => true, get: () => true },
});

/** `{ posts: { every: { author: { posts: { every: ... { title: { ne: "zzz" } } } } } } }`, `cycles` deep. */
function nested(cycles: number, inner: Record<string, unknown>, quantifier: "every" | "some" | "none"): Record<string, unknown> {
  let where = inner;
  for (let i = 0; i < cycles; i++) where = { author: { posts: { [quantifier]: where } } };
  return { posts: { [quantifier]: where } };
}

describeEachDatabase("relation filters, nested", (db) => {
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  const statements: CompiledQuery[] = [];
  const make = (database: Parameters<typeof createBackend>[0]["database"]) => createBackend({ database, collections: { users, posts } });

  beforeAll(async () => {
    const fresh = await db.fresh({
      log: (event) => {
        if (event.level === "query") statements.push(event.query);
      },
    });
    drop = fresh.drop;
    backend = make(fresh.database);
    await backend.migrate();
    const [ada, bob] = await backend.system.data.users.createMany([{ name: "Ada" }, { name: "Bob" }]);
    await backend.system.data.posts.createMany(Array.from({ length: 30 }, (_, i) => ({ title: `p${i}`, author: ada!.id })));
    await backend.system.data.posts.create({ title: "zzz", author: bob!.id, editor: ada!.id });
  });
  afterAll(async () => {
    await backend?.close();
    await drop?.();
  });

  test("five nested every, some and none answer as the filters say", async () => {
    const names = async (where: Record<string, unknown>) =>
      (await backend.as(null).data.users.list({ where: where as never, orderBy: { name: "asc" } })).items.map((user) => user.name);
    expect(await names(nested(5, { title: { ne: "zzz" } }, "every"))).toEqual(["Ada"]);
    expect(await names(nested(5, { title: "p7" }, "some"))).toEqual(["Ada"]);
    // Negations alternate: no post whose author has no post whose author ... has no "zzz" post.
    expect(await names(nested(5, { title: "zzz" }, "none"))).toEqual(["Bob"]);
    expect(await names({ posts: { none: { author: { posts: { some: { title: "zzz" } } } } } })).toEqual(["Ada"]);
    // A belongsTo that is null matches no filter on it, and its absence in `none` counts as none.
    const edited = await backend.as(null).data.posts.list({ where: { editor: { name: "Ada" } } });
    expect(edited.items.map((post) => post.title)).toEqual(["zzz"]);
    const notByAda = await backend.as(null).data.posts.list({ where: { not: { editor: { name: "Ada" } } }, limit: 100 });
    expect(notByAda.items).toHaveLength(30);
  });

  test("on SQLite, no relation filter is a correlated subquery", async () => {
    if (db.dialect !== "sqlite") return;
    statements.length = 0;
    await backend.as(null).data.users.list({ where: nested(5, { title: { ne: "zzz" } }, "every") as never });
    await backend.as(null).data.posts.list({ where: { editor: { posts: { none: { title: "x" } } } } });
    const reads = statements.filter((query) => /^select/i.test(query.sql));
    expect(reads).toHaveLength(2);
    for (const query of reads) {
      const plan = await backend.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
      const details = plan.rows.map((row) => row.detail);
      expect(details.some((detail) => /LIST SUBQUERY/.test(detail))).toBe(true);
      expect(details.filter((detail) => /CORRELATED/.test(detail))).toEqual([]);
    }
  });
});
