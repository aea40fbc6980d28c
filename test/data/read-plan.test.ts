/**
 * A get's plan kept per shape of its caller's rule (src/data/read-plan.ts): a rule of a shape
 * seen before only binds its values, and answers exactly what planning it again would (the suite
 * runs in the verifying mode, where every kept plan is also planned again and compared). Shapes
 * that differ only in a boolean, a null, an operator, a key's order or an array's length are
 * other shapes; a value that would be refused is refused as before; nothing of one caller is
 * reused for another.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { collection, field, type Backend, type Principal } from "cimiento";
import { openBackend } from "../setup/backend.js";
import { describeEachDatabase } from "../setup/dialects.js";

type Rule = boolean | Record<string, unknown>;

/** The get rule of each caller, by id: the tests change it. */
const rules = new Map<string, (user: Principal) => Rule>();
let calls = 0;

const authors = collection("authors", {
  fields: { name: field.text(), banned: field.boolean() },
  access: { list: () => true, get: () => true },
});
const posts = collection("posts", {
  fields: {
    title: field.text(),
    owner: field.text(),
    published: field.boolean(),
    views: field.integer(),
    note: field.text().optional(),
    at: field.datetime(),
    writer: field.belongsTo("authors").optional(),
    secret: field.text().hidden().optional(),
  },
  access: {
    list: () => true,
    get: ({ user }) => {
      calls++;
      if (user === null) return { published: true };
      return (rules.get(user.id)?.(user) ?? false) as never;
    },
  },
});
const collections = { authors, posts };

const caller = (id: string): Principal => ({ id, role: "member" });

describeEachDatabase("kept plans of get", (db) => {
  let backend: Backend<typeof collections, "sqlite" | "postgres">;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, collections));
    const { data } = backend.system;
    await data.authors.create({ id: "w1", name: "Ann", banned: false });
    await data.authors.create({ id: "w2", name: "Bo", banned: true });
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    await data.posts.create({ id: "p1", title: "one", owner: "alice", published: true, views: 5, note: null, at: at(1), writer: "w1", secret: "s" });
    await data.posts.create({ id: "p2", title: "two", owner: "bob", published: false, views: 50, note: "n", at: at(2), writer: "w2" });
    await data.posts.create({ id: "p3", title: "three", owner: "alice", published: false, views: 500, note: null, at: at(3), writer: null });
  });
  afterAll(async () => {
    await close?.();
  });

  /** Which of the posts the caller gets, each read twice (the second from the kept plan). */
  async function readable(user: Principal | null): Promise<string[]> {
    const found: string[] = [];
    for (const id of ["p1", "p2", "p3", "nope"]) {
      const first = await backend.as(user).data.posts.get(id);
      const second = await backend.as(user).data.posts.get(id);
      expect(second).toEqual(first);
      if (first !== null) {
        expect(first).not.toHaveProperty("secret");
        found.push(first.id);
      }
    }
    return found;
  }

  test("a rule of one shape with other values: each caller gets what its own values allow", async () => {
    rules.set("alice", (user) => ({ or: [{ published: true }, { owner: user.id }] }));
    rules.set("bob", (user) => ({ or: [{ published: true }, { owner: user.id }] }));
    rules.set("carol", (user) => ({ or: [{ published: true }, { owner: user.id }] }));
    expect(await readable(caller("alice"))).toEqual(["p1", "p3"]);
    expect(await readable(caller("bob"))).toEqual(["p1", "p2"]);
    expect(await readable(caller("carol"))).toEqual(["p1"]);
    expect(await readable(null)).toEqual(["p1"]);
  });

  test("the rule is asked for every get, the kept plan or not", async () => {
    rules.set("alice", (user) => ({ owner: user.id }));
    await readable(caller("alice"));
    const before = calls;
    await backend.as(caller("alice")).data.posts.get("p1");
    await backend.as(caller("alice")).data.posts.get("p1");
    expect(calls - before).toBe(2);
  });

  test("shapes that differ in a boolean, a null, an operator, an order or a length are planned each their own way", async () => {
    const cases: [Rule, string[]][] = [
      [{ published: true }, ["p1"]],
      [{ published: false }, ["p2", "p3"]],
      [{ note: null }, ["p1", "p3"]],
      [{ note: { eq: null } }, ["p1", "p3"]],
      [{ note: { ne: null } }, ["p2"]],
      [{ note: { isNull: true } }, ["p1", "p3"]],
      [{ note: { isNull: false } }, ["p2"]],
      [{ views: { gt: 10 } }, ["p2", "p3"]],
      [{ views: { gt: 100 } }, ["p3"]],
      [{ views: { lte: 50 } }, ["p1", "p2"]],
      [{ views: { gt: 1, lt: 100 } }, ["p1", "p2"]],
      [{ views: { lt: 100, gt: 1 } }, ["p1", "p2"]],
      [{ views: { in: [5, 500] } }, ["p1", "p3"]],
      [{ views: { in: [50] } }, ["p2"]],
      [{ views: { notIn: [50] } }, ["p1", "p3"]],
      [{ title: { contains: "o" } }, ["p1", "p2"]],
      [{ title: { startsWith: "t" } }, ["p2", "p3"]],
      [{ at: { gte: "2026-01-02T00:00:00.000Z" } }, ["p2", "p3"]],
      [{ at: { gte: new Date(Date.UTC(2026, 0, 3)) } }, ["p3"]],
      [{ or: [{ published: true }, { owner: "bob" }] }, ["p1", "p2"]],
      [{ or: [{ published: true }, { owner: "bob" }, { views: 500 }] }, ["p1", "p2", "p3"]],
      [{ or: [] }, []],
      [{ and: [] }, ["p1", "p2", "p3"]],
      [{ not: { published: true } }, ["p2", "p3"]],
      [{ writer: { banned: false } }, ["p1"]],
      [{ writer: { banned: true } }, ["p2"]],
      [{ writer: { eq: "w2" } }, ["p2"]],
      [{ owner: "alice", published: false }, ["p3"]],
      [{ published: false, owner: "alice" }, ["p3"]],
      [{ owner: "alice", note: undefined }, ["p1", "p3"]],
      [true, ["p1", "p2", "p3"]],
      [false, []],
    ];
    for (const [rule, expected] of cases) {
      rules.set("dave", () => rule);
      expect({ rule, found: await readable(caller("dave")) }).toEqual({ rule, found: expected });
    }
    // And back again: every shape kept answers as it did.
    for (const [rule, expected] of cases.reverse()) {
      rules.set("dave", () => rule);
      expect({ rule, found: await readable(caller("dave")) }).toEqual({ rule, found: expected });
    }
  });

  test("a value that would be refused is refused as before, after a plan of its shape was kept", async () => {
    rules.set("erin", () => ({ views: { gt: 1 } }));
    expect(await readable(caller("erin"))).toEqual(["p1", "p2", "p3"]);
    rules.set("erin", () => ({ views: { gt: 1.5 } }));
    await expect(backend.as(caller("erin")).data.posts.get("p1")).rejects.toThrow(/The access rule posts.get returned an invalid filter/);
    rules.set("erin", () => ({ views: { gt: "many" } }));
    await expect(backend.as(caller("erin")).data.posts.get("p1")).rejects.toThrow(/The access rule posts.get returned an invalid filter/);
    rules.set("erin", () => ({ title: { contains: "a\u0000b" } }));
    await expect(backend.as(caller("erin")).data.posts.get("p1")).rejects.toThrow(/invalid filter/);
    rules.set("erin", () => ({ views: { in: "5" } }));
    await expect(backend.as(caller("erin")).data.posts.get("p1")).rejects.toThrow(/invalid filter/);
    rules.set("erin", () => ({ views: { gt: 100 } }));
    expect(await readable(caller("erin"))).toEqual(["p3"]);
  });

  test("the system scope, and options, read as before", async () => {
    expect((await backend.system.data.posts.get("p2"))?.id).toBe("p2");
    expect(await backend.system.data.posts.get("p2")).toMatchObject({ id: "p2", secret: null });
    rules.set("alice", (user) => ({ owner: user.id }));
    expect(await backend.as(caller("alice")).data.posts.get("p1", { select: ["title"] })).toEqual({ id: "p1", title: "one" });
    expect(await backend.as(caller("alice")).data.posts.get("p1", { include: { writer: true } })).toMatchObject({ id: "p1", writer: { id: "w1" } });
    expect(await backend.as(caller("alice")).data.posts.get("p1", {})).toMatchObject({ id: "p1", title: "one" });
  });
});
