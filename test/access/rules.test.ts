/**
 * Collection access rules, by example: a missing rule denies; a relation whose target the caller
 * may not list has no records for it (`some` matches nothing, `none` everything, `every` holds);
 * the caller's own `or` cannot widen what a rule lets through.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ApiError, collection, field, type Backend, type Principal } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBackend } from "../setup/backend.js";

type RuleValue = boolean | Record<string, unknown>;

/** No rules at all: every caller but the system scope is denied everything. */
const vault = collection("vault", { fields: { name: field.text() } });

/** Only `list` and `get`: callers may read, but not create, update or delete. */
const notes = collection("notes", {
  fields: { name: field.text() },
  access: { list: () => true, get: () => true },
});

/** Each caller reaches only its own posts. */
const own = ({ user }: { user: Principal | null }) => (user ? { owner: user.id } : false);
const posts = collection("posts", {
  fields: { title: field.text(), owner: field.text(), published: field.boolean() },
  access: { list: own, get: own, update: own, delete: own },
});

/** Rules of the relation targets, changed by the tests. */
const targetRules: { replies: RuleValue; boards: RuleValue } = { replies: true, boards: true };

const boards = collection("boards", {
  fields: { name: field.text(), shared: field.boolean() },
  access: { list: () => targetRules.boards as never, get: () => true },
});
const threads = collection("threads", {
  fields: { name: field.text(), board: field.belongsTo("boards").optional() },
  access: { list: () => true, get: () => true },
});
const replies = collection("replies", {
  fields: { thread: field.belongsTo("threads", { onDelete: "cascade" }), approved: field.boolean() },
  access: { list: () => targetRules.replies as never },
});

const collections = { vault, notes, posts, boards, threads, replies };

const alice: Principal = { id: "alice", role: "member" };
const bob: Principal = { id: "bob", role: "member" };

async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  const { code, status } = error as ApiError;
  return { code, status };
}

const UNAUTHORIZED = { code: "UNAUTHORIZED", status: 401 };
const FORBIDDEN = { code: "FORBIDDEN", status: 403 };
const NOT_FOUND = { code: "NOT_FOUND", status: 404 };

describeEachDatabase("access rules", (db) => {
  let backend: Backend<typeof collections, "sqlite" | "postgres">;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ backend, close } = await openBackend(db, collections));
  });
  afterAll(async () => {
    await close?.();
  });

  describe("a missing rule denies", () => {
    beforeEach(async () => {
      const { data } = backend.system;
      await data.vault.deleteMany({ where: {} });
      await data.notes.deleteMany({ where: {} });
      await data.vault.create({ id: "v1", name: "gold" });
      await data.notes.create({ id: "n1", name: "memo" });
    });

    test("no list rule: list and count fail with UNAUTHORIZED when anonymous, FORBIDDEN when signed in", async () => {
      expect(await failure(backend.as(null).data.vault.list())).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(alice).data.vault.list())).toEqual(FORBIDDEN);
      expect(await failure(backend.as(null).data.vault.count())).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(alice).data.vault.count({ where: { name: "gold" } }))).toEqual(FORBIDDEN);
    });

    test("no get rule: get returns null for a record that exists", async () => {
      expect(await backend.system.data.vault.get("v1")).toMatchObject({ id: "v1", name: "gold" });
      expect(await backend.as(null).data.vault.get("v1")).toBeNull();
      expect(await backend.as(alice).data.vault.get("v1")).toBeNull();
    });

    test("no get rule: update and delete fail with NOT_FOUND, as for a record that does not exist, and change nothing", async () => {
      for (const user of [null, alice]) {
        expect(await failure(backend.as(user).data.vault.update("v1", { name: "lead" }))).toEqual(NOT_FOUND);
        expect(await failure(backend.as(user).data.vault.delete("v1"))).toEqual(NOT_FOUND);
        expect(await failure(backend.as(user).data.vault.update("nope", { name: "lead" }))).toEqual(NOT_FOUND);
        expect(await failure(backend.as(user).data.vault.delete("nope"))).toEqual(NOT_FOUND);
      }
      const stored = await backend.system.data.vault.list();
      expect(stored.items.map(({ id, name }) => ({ id, name }))).toEqual([{ id: "v1", name: "gold" }]);
    });

    test("no create rule: create fails with UNAUTHORIZED / FORBIDDEN and creates nothing", async () => {
      expect(await failure(backend.as(null).data.vault.create({ name: "silver" }))).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(alice).data.vault.create({ name: "silver" }))).toEqual(FORBIDDEN);
      expect(await failure(backend.as(alice).data.notes.create({ name: "draft" }))).toEqual(FORBIDDEN);
      expect(await backend.system.data.vault.count()).toBe(1);
      expect(await backend.system.data.notes.count()).toBe(1);
    });

    test("a get rule without update or delete rules: update and delete of a visible record fail with UNAUTHORIZED / FORBIDDEN", async () => {
      expect(await backend.as(alice).data.notes.get("n1")).toMatchObject({ id: "n1", name: "memo" });
      expect(await failure(backend.as(null).data.notes.update("n1", { name: "changed" }))).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(alice).data.notes.update("n1", { name: "changed" }))).toEqual(FORBIDDEN);
      expect(await failure(backend.as(null).data.notes.delete("n1"))).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(alice).data.notes.delete("n1"))).toEqual(FORBIDDEN);
      // The error names the record, as NOT_FOUND does.
      await expect(backend.as(alice).data.notes.delete("n1")).rejects.toMatchObject({ details: { collection: "notes", id: "n1" } });
      // A record that does not exist is still NOT_FOUND.
      expect(await failure(backend.as(alice).data.notes.update("nope", { name: "changed" }))).toEqual(NOT_FOUND);
      expect(await failure(backend.as(alice).data.notes.delete("nope"))).toEqual(NOT_FOUND);
      const stored = await backend.system.data.notes.list();
      expect(stored.items.map(({ id, name }) => ({ id, name }))).toEqual([{ id: "n1", name: "memo" }]);
    });
  });

  describe("relation filters see only the related records the caller may list", () => {
    beforeAll(async () => {
      const { data } = backend.system;
      await data.boards.create({ id: "b1", name: "main", shared: true });
      await data.threads.createMany([
        { id: "t1", name: "mixed", board: "b1" },
        { id: "t2", name: "approved", board: "b1" },
        { id: "t3", name: "empty" },
      ]);
      await data.replies.createMany([
        { id: "r1", thread: "t1", approved: true },
        { id: "r2", thread: "t1", approved: false },
        { id: "r3", thread: "t2", approved: true },
      ]);
    });
    beforeEach(() => {
      targetRules.replies = true;
      targetRules.boards = true;
    });

    async function names(user: Principal | null, where: Record<string, unknown>): Promise<string[]> {
      const page = await backend.as(user).data.threads.list({ where: where as never });
      const count = await backend.as(user).data.threads.count({ where: where as never });
      expect(count).toBe(page.items.length);
      return page.items.map((thread) => thread.name).sort();
    }

    test("with the rules allowing everything, the filters see every reply (the baseline)", async () => {
      expect(await names(alice, { replies: { some: {} } })).toEqual(["approved", "mixed"]);
      expect(await names(alice, { replies: { none: {} } })).toEqual(["empty"]);
      expect(await names(alice, { replies: { every: { approved: true } } })).toEqual(["approved", "empty"]);
      expect(await names(alice, { board: { shared: true } })).toEqual(["approved", "mixed"]);
    });

    test("a list rule false on the target: some matches nothing, none matches everything, every holds", async () => {
      targetRules.replies = false;
      for (const user of [null, alice]) {
        expect(await names(user, { replies: { some: {} } })).toEqual([]);
        expect(await names(user, { replies: { some: { approved: true } } })).toEqual([]);
        expect(await names(user, { replies: { some: { approved: false } } })).toEqual([]);
        expect(await names(user, { replies: { none: {} } })).toEqual(["approved", "empty", "mixed"]);
        expect(await names(user, { replies: { none: { approved: false } } })).toEqual(["approved", "empty", "mixed"]);
        expect(await names(user, { replies: { every: { approved: true } } })).toEqual(["approved", "empty", "mixed"]);
        expect(await names(user, { replies: { every: { approved: false } } })).toEqual(["approved", "empty", "mixed"]);
        expect(await names(user, { not: { replies: { some: {} } } })).toEqual(["approved", "empty", "mixed"]);
      }
      // The system scope still sees the replies.
      const system = await backend.system.data.threads.list({ where: { replies: { some: {} } } });
      expect(system.items.map((thread) => thread.name).sort()).toEqual(["approved", "mixed"]);
    });

    test("a list rule filter on the target: the quantifiers range over the replies it lets through", async () => {
      targetRules.replies = { approved: true };
      expect(await names(alice, { replies: { some: { approved: false } } })).toEqual([]);
      expect(await names(alice, { replies: { some: {} } })).toEqual(["approved", "mixed"]);
      expect(await names(alice, { replies: { every: { approved: true } } })).toEqual(["approved", "empty", "mixed"]);
      expect(await names(alice, { replies: { none: { approved: false } } })).toEqual(["approved", "empty", "mixed"]);
      expect(await names(alice, { replies: { none: {} } })).toEqual(["empty"]);
    });

    test("a list rule false on a to-one target: a filter on it matches nothing, its negation everything", async () => {
      targetRules.boards = false;
      expect(await names(alice, { board: { shared: true } })).toEqual([]);
      expect(await names(alice, { board: { name: "main" } })).toEqual([]);
      expect(await names(alice, { not: { board: { shared: true } } })).toEqual(["approved", "empty", "mixed"]);
      // The column itself (the board's id) is the thread's own, and is not hidden by the board's rule.
      expect(await names(alice, { board: "b1" })).toEqual(["approved", "mixed"]);
      expect(await names(alice, { board: null })).toEqual(["empty"]);
    });
  });

  describe("a rule's filter cannot be bypassed with the caller's own or", () => {
    beforeEach(async () => {
      const { data } = backend.system;
      await data.posts.deleteMany({ where: {} });
      await data.posts.createMany([
        { id: "p1", title: "alice draft", owner: "alice", published: false },
        { id: "p2", title: "alice post", owner: "alice", published: true },
        { id: "p3", title: "bob post", owner: "bob", published: true },
        { id: "p4", title: "bob draft", owner: "bob", published: false },
      ]);
    });

    async function ids(user: Principal | null, where: Record<string, unknown>): Promise<string[]> {
      const page = await backend.as(user).data.posts.list({ where: where as never });
      const count = await backend.as(user).data.posts.count({ where: where as never });
      expect(count).toBe(page.items.length);
      return page.items.map((post) => post.id).sort();
    }

    test("list and count: the caller's where is AND-ed with the rule, whatever its or", async () => {
      expect(await ids(alice, {})).toEqual(["p1", "p2"]);
      expect(await ids(alice, { or: [{ owner: "bob" }, { published: true }] })).toEqual(["p2"]);
      expect(await ids(alice, { or: [{ owner: "bob" }, {}] })).toEqual(["p1", "p2"]);
      expect(await ids(alice, { or: [{ owner: { ne: "alice" } }, { not: { owner: "alice" } }] })).toEqual([]);
      expect(await ids(alice, { not: { owner: "alice" } })).toEqual([]);
      expect(await ids(alice, { or: [{ and: [] }] })).toEqual(["p1", "p2"]);
      expect(await ids(bob, { or: [{ owner: "alice" }, { id: { in: ["p1", "p2", "p3"] } }] })).toEqual(["p3"]);
    });

    test("an anonymous caller whose rule is false is refused, whatever its where", async () => {
      expect(await failure(backend.as(null).data.posts.list({ where: { or: [{}] } }))).toEqual(UNAUTHORIZED);
      expect(await failure(backend.as(null).data.posts.count({ where: { or: [{ owner: "alice" }, {}] } }))).toEqual(
        UNAUTHORIZED,
      );
    });

    test("updateMany and deleteMany reach only the records the rules let through", async () => {
      const updated = await backend.as(alice).data.posts.updateMany({
        where: { or: [{ owner: "bob" }, { published: true }] },
        data: { title: "changed" },
      });
      expect(updated).toEqual({ count: 1 });
      const deleted = await backend.as(alice).data.posts.deleteMany({ where: { or: [{ owner: "bob" }, {}] } });
      expect(deleted).toEqual({ count: 2 });
      const stored = await backend.system.data.posts.list({ orderBy: { title: "asc" } });
      expect(stored.items.map(({ id, title }) => ({ id, title }))).toEqual([
        { id: "p4", title: "bob draft" },
        { id: "p3", title: "bob post" },
      ]);
    });

    test("get, update and delete of another caller's record: null and NOT_FOUND, nothing changed", async () => {
      expect(await backend.as(alice).data.posts.get("p3")).toBeNull();
      expect(await failure(backend.as(alice).data.posts.update("p3", { title: "mine" }))).toEqual(NOT_FOUND);
      expect(await failure(backend.as(alice).data.posts.delete("p3"))).toEqual(NOT_FOUND);
      expect(await backend.system.data.posts.get("p3")).toMatchObject({ id: "p3", title: "bob post", owner: "bob" });
    });

    test("an update that would move a record out of the rule fails with FORBIDDEN and changes nothing", async () => {
      expect(await failure(backend.as(alice).data.posts.update("p1", { owner: "bob" }))).toEqual(FORBIDDEN);
      expect(await backend.system.data.posts.get("p1")).toMatchObject({ id: "p1", owner: "alice" });
    });
  });
});
