/**
 * Plans kept per shape of the caller's rules (src/data/kept-plan.ts), of a get, of an update by
 * id and of a list (with the shape of its `where` and its listing): a rule of a shape seen before
 * only binds its values, and answers exactly what planning it again would (the suite runs in the
 * verifying mode, where every kept plan is also planned again and compared). Shapes that differ
 * only in a boolean, a null, an operator, a key's order or an array's length are other shapes; a
 * value that would be refused is refused as before; nothing of one caller is reused for another.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ApiError, collection, field, type Backend, type Principal } from "cimiento";
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

/** The get and update rules of each caller of `cards`, by id: the tests change them. */
const cardRules = new Map<string, { get: (user: Principal) => Rule; update: (user: Principal) => Rule }>();

const cards = collection("cards", {
  fields: {
    owner: field.text(),
    shared: field.boolean(),
    level: field.integer(),
    likes: field.integer().default(0),
    label: field.text().optional(),
  },
  access: {
    list: () => true,
    get: ({ user }) => (user === null ? false : ((cardRules.get(user.id)?.get(user) ?? false) as never)),
    update: ({ user }) => (user === null ? false : ((cardRules.get(user.id)?.update(user) ?? false) as never)),
  },
});
const cardCollections = { cards };

describeEachDatabase("kept plans of update", (db) => {
  let backend: Backend<typeof cardCollections, "sqlite" | "postgres">;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, cardCollections));
    const { data } = backend.system;
    await data.cards.create({ id: "c1", owner: "alice", shared: true, level: 1 });
    await data.cards.create({ id: "c2", owner: "bob", shared: false, level: 5 });
    await data.cards.create({ id: "c3", owner: "alice", shared: false, level: 9 });
  });
  afterAll(async () => {
    await close?.();
  });

  /**
   * What the caller's updates of each card come to, each made twice (the second from the kept
   * plan): the card's id, or the error's code. A change of `likes` alone is checked to be the
   * one made.
   */
  async function outcomes(user: Principal, change: (likes: number) => Record<string, unknown> = (likes) => ({ likes })): Promise<string[]> {
    const found: string[] = [];
    for (const id of ["c1", "c2", "c3", "nope"]) {
      const answers: string[] = [];
      for (let round = 0; round < 2; round++) {
        const before = Number((await backend.system.data.cards.get(id))?.likes ?? 0);
        try {
          const updated = await backend.as(user).data.cards.update(id, change(before + 1) as never);
          if (Object.hasOwn(change(0), "likes")) expect(updated.likes).toBe(before + 1);
          answers.push(updated.id);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          answers.push(error.code);
        }
      }
      expect(answers[1]).toBe(answers[0]);
      found.push(answers[0]!);
    }
    return found;
  }

  test("callers whose rules have one shape and other values each update what their own values allow", async () => {
    for (const id of ["alice", "bob", "carol"]) {
      cardRules.set(id, { get: (user) => ({ or: [{ shared: true }, { owner: user.id }] }), update: (user) => ({ or: [{ shared: true }, { owner: user.id }] }) });
    }
    expect(await outcomes(caller("alice"))).toEqual(["c1", "NOT_FOUND", "c3", "NOT_FOUND"]);
    expect(await outcomes(caller("bob"))).toEqual(["c1", "c2", "NOT_FOUND", "NOT_FOUND"]);
    expect(await outcomes(caller("carol"))).toEqual(["c1", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
  });

  test("get and update rules of other shapes, and other fields set, are planned each their own way", async () => {
    const cases: [Rule, Rule, string[]][] = [
      [true, true, ["c1", "c2", "c3", "NOT_FOUND"]],
      [true, { owner: "alice" }, ["c1", "FORBIDDEN", "c3", "NOT_FOUND"]],
      [{ owner: "alice" }, true, ["c1", "NOT_FOUND", "c3", "NOT_FOUND"]],
      [{ owner: "alice" }, { owner: "alice" }, ["c1", "NOT_FOUND", "c3", "NOT_FOUND"]],
      [{ owner: "alice" }, { owner: "bob" }, ["FORBIDDEN", "NOT_FOUND", "FORBIDDEN", "NOT_FOUND"]],
      [{ shared: true }, { shared: true }, ["c1", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]],
      [{ shared: false }, { shared: false }, ["NOT_FOUND", "c2", "c3", "NOT_FOUND"]],
      [true, { level: { gt: 3 } }, ["FORBIDDEN", "c2", "c3", "NOT_FOUND"]],
      [true, { level: { gt: 6 } }, ["FORBIDDEN", "FORBIDDEN", "c3", "NOT_FOUND"]],
      [{ level: { lt: 6 } }, { level: { gt: 3 } }, ["FORBIDDEN", "c2", "NOT_FOUND", "NOT_FOUND"]],
      [{ level: { in: [1, 9] } }, { label: null }, ["c1", "NOT_FOUND", "c3", "NOT_FOUND"]],
      [{ or: [{ shared: true }, { owner: "bob" }] }, { owner: "bob" }, ["FORBIDDEN", "c2", "NOT_FOUND", "NOT_FOUND"]],
      [true, false, ["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND"]],
      [false, true, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]],
    ];
    const changes: ((likes: number) => Record<string, unknown>)[] = [(likes) => ({ likes }), (likes) => ({ likes, label: null })];
    for (const change of changes) {
      for (const [get, update, expected] of [...cases, ...cases.toReversed()]) {
        cardRules.set("dave", { get: () => get, update: () => update });
        expect({ get, update, found: await outcomes(caller("dave"), change) }).toEqual({ get, update, found: expected });
      }
    }
  });

  test("an update rule that reads a field the update sets holds after the change too, kept plan or not", async () => {
    cardRules.set("erin", { get: () => true, update: (user) => ({ owner: user.id }) });
    await backend.system.data.cards.update("c3", { owner: "erin" });
    for (let round = 0; round < 2; round++) {
      await expect(backend.as(caller("erin")).data.cards.update("c3", { owner: "frank" })).rejects.toMatchObject({ code: "FORBIDDEN" });
      expect((await backend.as(caller("erin")).data.cards.update("c3", { owner: "erin", likes: round })).likes).toBe(round);
    }
    expect((await backend.system.data.cards.get("c3"))?.owner).toBe("erin");
    await backend.system.data.cards.update("c3", { owner: "alice" });
  });

  test("a value that would be refused is refused as before, after a plan of its shape was kept", async () => {
    cardRules.set("gil", { get: () => true, update: () => ({ level: { gt: 3 } }) });
    expect(await outcomes(caller("gil"))).toEqual(["FORBIDDEN", "c2", "c3", "NOT_FOUND"]);
    cardRules.set("gil", { get: () => true, update: () => ({ level: { gt: 3.5 } }) });
    await expect(backend.as(caller("gil")).data.cards.update("c2", { likes: 1 })).rejects.toThrow(/The access rule cards.update returned an invalid filter/);
    cardRules.set("gil", { get: () => true, update: () => ({ level: { gt: 8 } }) });
    expect(await outcomes(caller("gil"))).toEqual(["FORBIDDEN", "FORBIDDEN", "c3", "NOT_FOUND"]);
  });

  test("no value of a caller's rule outlives its request in a kept plan", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const lists: WeakRef<number[]>[] = [];
    for (const id of ["hal", "ida"]) {
      cardRules.set(id, {
        get: () => true,
        update: () => {
          const list = [5, 9];
          lists.push(new WeakRef(list));
          return { level: { in: list } };
        },
      });
      expect(await outcomes(caller(id))).toEqual(["FORBIDDEN", "c2", "c3", "NOT_FOUND"]);
    }
    cardRules.delete("hal");
    cardRules.delete("ida");
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.filter((list) => list.deref() !== undefined)).toEqual([]);
  });

  test("the system scope updates as before", async () => {
    expect((await backend.system.data.cards.update("c2", { likes: 7 })).likes).toBe(7);
    expect((await backend.system.data.cards.update("c2", { likes: 8 })).likes).toBe(8);
    await expect(backend.system.data.cards.update("nope", { likes: 1 })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

/** The list rule of each caller of `entries`, by id: the tests change it. */
const listRules = new Map<string, (user: Principal) => Rule>();

const entries = collection("entries", {
  fields: {
    owner: field.text(),
    published: field.boolean(),
    views: field.integer(),
    note: field.text().optional(),
    at: field.datetime(),
    writer: field.belongsTo("authors").optional(),
    // Only its owner reads it: filtering or sorting on it is refused to the others.
    code: field.text().access({ read: ({ user }) => user?.id === "alice" }),
  },
  access: {
    list: ({ user }) => (user === null ? { published: true } : ((listRules.get(user.id)?.(user) ?? false) as never)),
    get: () => true,
  },
});
const entryCollections = { authors, entries };

describeEachDatabase("kept plans of list", (db) => {
  let backend: Backend<typeof entryCollections, "sqlite" | "postgres">;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, entryCollections));
    const { data } = backend.system;
    await data.authors.create({ id: "w1", name: "Ann", banned: false });
    await data.authors.create({ id: "w2", name: "Bo", banned: true });
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    await data.entries.create({ id: "e1", owner: "alice", published: true, views: 5, note: null, at: at(1), writer: "w1", code: "c" });
    await data.entries.create({ id: "e2", owner: "bob", published: false, views: 50, note: "n", at: at(2), writer: "w2", code: "b" });
    await data.entries.create({ id: "e3", owner: "alice", published: false, views: 500, note: null, at: at(3), writer: null, code: "a" });
    await data.entries.create({ id: "e4", owner: "bob", published: true, views: 50, note: "m", at: at(4), writer: "w1", code: "d" });
  });
  afterAll(async () => {
    await close?.();
  });

  /**
   * The ids a caller lists with `options`, listed twice (the second from the kept plan), with the
   * total and whether there is a next page when asked.
   */
  async function listed(user: Principal | null, options: Record<string, unknown> = {}): Promise<unknown> {
    const list = (): Promise<{ items: { id: string }[]; total?: number; nextCursor: string | null }> =>
      backend.as(user).data.entries.list(options as {});
    const first = await list();
    const second = await list();
    expect(second).toEqual(first);
    const ids = first.items.map((item) => item.id);
    if (options["count"] === true || options["limit"] !== undefined) return { ids, total: first.total, more: first.nextCursor !== null };
    return ids;
  }

  test("callers whose rules have one shape and other values each list what their own values allow", async () => {
    for (const id of ["alice", "bob", "carol"]) listRules.set(id, (user) => ({ or: [{ published: true }, { owner: user.id }] }));
    expect(await listed(caller("alice"))).toEqual(["e1", "e3", "e4"]);
    expect(await listed(caller("bob"))).toEqual(["e1", "e2", "e4"]);
    expect(await listed(caller("carol"))).toEqual(["e1", "e4"]);
    expect(await listed(null)).toEqual(["e1", "e4"]);
  });

  test("a where of one shape with other values lists what its own values select", async () => {
    listRules.set("dave", () => true);
    const dave = caller("dave");
    expect(await listed(dave, { where: { views: { gt: 10 } } })).toEqual(["e2", "e3", "e4"]);
    expect(await listed(dave, { where: { views: { gt: 100 } } })).toEqual(["e3"]);
    expect(await listed(dave, { where: { owner: "bob" }, orderBy: { views: "desc" } })).toEqual(["e4", "e2"]);
    expect(await listed(dave, { where: { owner: "alice" }, orderBy: { views: "desc" } })).toEqual(["e3", "e1"]);
    expect(await listed(dave, { where: { views: { in: [5, 500] } } })).toEqual(["e1", "e3"]);
    expect(await listed(dave, { where: { views: { in: [50] } } })).toEqual(["e2", "e4"]);
    expect(await listed(dave, { where: { at: { gte: "2026-01-03T00:00:00.000Z" } } })).toEqual(["e3", "e4"]);
    expect(await listed(dave, { where: { at: { gte: new Date(Date.UTC(2026, 0, 2)) } } })).toEqual(["e2", "e3", "e4"]);
  });

  test("the rule is asked for every list, the kept plan or not", async () => {
    let asked = 0;
    listRules.set("erin", () => (asked++, { published: true }));
    await listed(caller("erin"));
    expect(asked).toBe(2);
    await backend.as(caller("erin")).data.entries.list();
    expect(asked).toBe(3);
  });

  test("wheres, rules and listings that differ in a boolean, a null, an operator, an order, a length or paging are planned each their own way", async () => {
    const cases: [Rule, Record<string, unknown>, unknown][] = [
      [true, {}, ["e1", "e2", "e3", "e4"]],
      [true, { where: { published: true } }, ["e1", "e4"]],
      [true, { where: { published: false } }, ["e2", "e3"]],
      [{ published: true }, { where: { published: false } }, []],
      [{ published: false }, { where: { published: false } }, ["e2", "e3"]],
      [true, { where: { note: null } }, ["e1", "e3"]],
      [true, { where: { note: { ne: null } } }, ["e2", "e4"]],
      [true, { where: { note: { isNull: false } } }, ["e2", "e4"]],
      [true, { where: { views: { gte: 50 } } }, ["e2", "e3", "e4"]],
      [true, { where: { views: { lt: 50 } } }, ["e1"]],
      [true, { where: { views: { gt: 1, lt: 100 } } }, ["e1", "e2", "e4"]],
      [true, { where: { views: { lt: 100, gt: 1 } } }, ["e1", "e2", "e4"]],
      [true, { where: { views: { notIn: [50] } } }, ["e1", "e3"]],
      [true, { where: { note: { contains: "n" } } }, ["e2"]],
      [true, { where: { or: [{ published: true }, { owner: "alice" }] } }, ["e1", "e3", "e4"]],
      [true, { where: { or: [{ published: true }, { owner: "alice" }, { views: 50 }] } }, ["e1", "e2", "e3", "e4"]],
      [true, { where: { or: [] } }, []],
      [true, { where: { not: { published: true } } }, ["e2", "e3"]],
      [true, { where: { writer: { banned: false } } }, ["e1", "e4"]],
      [true, { where: { writer: { banned: true } } }, ["e2"]],
      [{ writer: { banned: false } }, { where: { owner: "bob" } }, ["e4"]],
      [true, { where: { owner: "bob", published: true } }, ["e4"]],
      [true, { where: { owner: "bob", note: undefined } }, ["e2", "e4"]],
      [true, { orderBy: { views: "desc" } }, ["e3", "e4", "e2", "e1"]],
      [true, { orderBy: { views: "asc" } }, ["e1", "e2", "e4", "e3"]],
      [true, { orderBy: [{ views: "asc" }, { owner: "desc" }] }, ["e1", "e4", "e2", "e3"]],
      [true, { orderBy: [{ owner: "asc" }, { views: "desc" }] }, ["e3", "e1", "e4", "e2"]],
      [true, { orderBy: { at: "desc" }, limit: 2 }, { ids: ["e4", "e3"], total: undefined, more: true }],
      [true, { orderBy: { at: "desc" }, limit: 2, offset: 1 }, { ids: ["e3", "e2"], total: undefined, more: true }],
      [true, { orderBy: { at: "desc" }, limit: 2, offset: 3 }, { ids: ["e1"], total: undefined, more: false }],
      [true, { where: { published: true }, limit: 1, count: true }, { ids: ["e1"], total: 2, more: true }],
      [true, { where: { published: false }, limit: 1, count: true }, { ids: ["e2"], total: 2, more: true }],
      [true, { where: { published: false }, limit: 5, count: false }, { ids: ["e2", "e3"], total: undefined, more: false }],
      [{ owner: "bob" }, { where: { views: 50 }, limit: 5, count: true }, { ids: ["e2", "e4"], total: 2, more: false }],
      [false, {}, "FORBIDDEN"],
    ];
    for (const [rule, options, expected] of [...cases, ...cases.toReversed()]) {
      listRules.set("dave", () => rule);
      let found: unknown;
      try {
        found = await listed(caller("dave"), options);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        found = error.code;
      }
      expect({ rule, options, found }).toEqual({ rule, options, found: expected });
    }
  });

  test("a value that would be refused is refused as before, after a plan of its shape was kept", async () => {
    listRules.set("fay", () => true);
    const fay = backend.as(caller("fay")).data.entries;
    expect(await listed(caller("fay"), { where: { views: { gt: 1 } }, orderBy: { views: "desc" } })).toEqual(["e3", "e4", "e2", "e1"]);
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ where: { views: { gt: 1.5 } }, orderBy: { views: "desc" } }, /where\.views\.gt: expected a whole number/],
      [{ where: { views: { gt: "many" } }, orderBy: { views: "desc" } }, /where\.views\.gt: expected a whole number/],
      [{ where: { views: { gt: 1 } }, orderBy: { views: "up" } }, /orderBy\.views: expected "asc" or "desc"/],
      [{ where: { views: { gt: 1 } }, orderBy: { nope: "desc" } }, /orderBy\.nope: "nope" is not a field/],
      [{ where: { views: { gt: 1 } }, orderBy: { "views-,id": "desc" } }, /is not a field/],
    ];
    for (const [options, message] of refused) {
      await expect(fay.list(options as {})).rejects.toThrow(message);
    }
    listRules.set("fay", () => ({ views: { gt: 1 } }));
    expect(await listed(caller("fay"), { where: { note: { contains: "m" } } })).toEqual(["e4"]);
    await expect(fay.list({ where: { note: { contains: "a\u0000b" } } })).rejects.toThrow(/where\.note\.contains/);
    listRules.set("fay", () => ({ views: { gt: 1.5 } }));
    await expect(fay.list({ where: { note: { contains: "m" } } })).rejects.toThrow(/The access rule entries.list returned an invalid filter/);
  });

  test("a field one caller may filter and sort on stays refused to a caller who may not read it", async () => {
    for (const id of ["alice", "bob"]) listRules.set(id, () => true);
    const options = { where: { code: { gte: "b" } }, orderBy: { code: "asc" } };
    expect(await listed(caller("alice"), options)).toEqual(["e2", "e1", "e4"]);
    await expect(backend.as(caller("bob")).data.entries.list(options as never)).rejects.toMatchObject({ code: "INVALID_QUERY" });
    await expect(backend.as(caller("bob")).data.entries.list({ orderBy: { code: "asc" } } as never)).rejects.toMatchObject({ code: "INVALID_QUERY" });
    const [first] = (await backend.as(caller("bob")).data.entries.list()).items;
    expect(first).not.toHaveProperty("code");
    expect((await backend.as(caller("alice")).data.entries.list()).items[0]).toHaveProperty("code", "c");
  });

  test("nothing of a caller (its where, its rule's values, itself) outlives its request in a kept plan", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const kept: WeakRef<object>[] = [];
    // The caller and its where are made in a function of its own, so that no register of this one holds them.
    const listedAs = (id: string) => {
      const user = caller(id);
      const where = [50, 500];
      kept.push(new WeakRef(user), new WeakRef(where));
      return listed(user, { where: { views: { in: where } } });
    };
    for (const id of ["hal", "ida"]) {
      listRules.set(id, () => {
        const list = [5, 500];
        kept.push(new WeakRef(list));
        return { views: { in: list } };
      });
      expect(await listedAs(id)).toEqual(["e3"]);
    }
    listRules.delete("hal");
    listRules.delete("ida");
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(kept.length).toBe(8);
    expect(kept.filter((value) => value.deref() !== undefined)).toEqual([]);
  });

  test("more shapes than are kept, with one shape between each of them: every list answers as planned", async () => {
    listRules.set("gus", () => true);
    const gus = caller("gus");
    for (let round = 0; round < 2; round++) {
      for (let n = 0; n < 40; n++) {
        // n filters in an `and` list: a shape of its own for each n.
        const where = { and: Array.from({ length: n }, (_, i) => ({ views: { gte: i } })) };
        const expected = ["e1", "e2", "e3", "e4"].filter((_, i) => [5, 50, 500, 50][i]! >= n - 1);
        expect({ n, ids: await listed(gus, { where }) }).toEqual({ n, ids: expected });
        // A shape seen between the others is kept through them.
        expect(await listed(gus, { where: { owner: "bob" } })).toEqual(["e2", "e4"]);
      }
    }
  });

  test("a filter on a relation, even one that tests nothing, is planned every time: its fields' rules are the related collection's", async () => {
    for (const id of ["alice", "bob"]) listRules.set(id, () => true);
    // `entries.code` is alice's alone to read: bob may not filter authors by it, before or after alice did.
    const where = { entries: { some: { code: "c" } } };
    await expect(backend.as(caller("bob")).data.authors.list({ where } as {})).rejects.toMatchObject({ code: "INVALID_QUERY" });
    expect((await backend.as(caller("alice")).data.authors.list({ where } as {})).items.map((item) => item.id)).toEqual(["w1"]);
    expect((await backend.as(caller("alice")).data.authors.list({ where } as {})).items.map((item) => item.id)).toEqual(["w1"]);
    await expect(backend.as(caller("bob")).data.authors.list({ where } as {})).rejects.toMatchObject({ code: "INVALID_QUERY" });
  });

  test("a hole in an and list tests nothing, as an undefined filter does", async () => {
    listRules.set("hal", () => true);
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [, { owner: "bob" }];
    expect(await listed(caller("hal"), { where: { and: sparse } })).toEqual(["e2", "e4"]);
    expect(await listed(caller("hal"), { where: { and: [undefined, { owner: "bob" }] } })).toEqual(["e2", "e4"]);
    expect(await listed(caller("hal"), { where: { and: [{ owner: "alice" }, undefined] } })).toEqual(["e1", "e3"]);
  });

  test("a sort object's field is its own key, never one its prototype holds", async () => {
    listRules.set("hal", () => true);
    expect(await listed(caller("hal"), { orderBy: { views: "desc" } })).toEqual(["e3", "e4", "e2", "e1"]);
    const inherited = Object.assign(Object.create({ views: "desc" }) as Record<string, unknown>, { nope: "desc" });
    await expect(backend.as(caller("hal")).data.entries.list({ orderBy: inherited } as {})).rejects.toThrow(/orderBy\.nope: "nope" is not a field/);
  });

  test("the system scope, and options that are planned each time, list as before", async () => {
    expect((await backend.system.data.entries.list({ where: { owner: "bob" } })).items.map((item) => item.id)).toEqual(["e2", "e4"]);
    expect((await backend.system.data.entries.list({ where: { owner: "alice" } })).items.map((item) => item.id)).toEqual(["e1", "e3"]);
    listRules.set("alice", () => true);
    const alice = backend.as(caller("alice")).data.entries;
    expect((await alice.list({ select: ["views"], orderBy: { views: "desc" } })).items[0]).toEqual({ id: "e3", views: 500 });
    expect((await alice.list({ include: { writer: true }, where: { owner: "bob" } })).items.map((item) => item.writer?.id)).toEqual(["w2", "w1"]);
    const page = await alice.list({ orderBy: { views: "asc" }, limit: 2 });
    const next = await alice.list({ orderBy: { views: "asc" }, limit: 2, cursor: page.nextCursor! });
    expect([...page.items, ...next.items].map((item) => item.id)).toEqual(["e1", "e2", "e4", "e3"]);
  });
});
