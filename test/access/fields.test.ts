/**
 * Field rules for non-system callers: `hidden()` fields never leave the backend and cannot be
 * filtered, sorted, selected or included through; `access.read` masks a field per caller;
 * `readOnly()` and `access.write` refuse writes. The system scope is exempt from all of them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type ApiError, type Principal, type RuleContext } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };
const isAdmin = ({ user }: RuleContext) => user?.role === "admin";
const isHr = ({ user }: RuleContext) => user?.role === "hr";

const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1)),
    handle: field.text().unique(),
    email: field.text().optional().access({ read: isAdmin }),
    passwordHash: field.text().optional().hidden(),
    apiKey: field.text().optional().unique().hidden(),
    salary: field.number().optional().access({ read: isHr, write: isHr }),
    karma: field.integer().default(0).readOnly(),
    badge: field.text().optional().access({ write: isAdmin }),
    authored: field.hasMany("posts", { on: "author" }),
  },
  access: open,
});

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    draftNotes: field.text().optional().hidden(),
    views: field.integer().default(0).readOnly(),
    author: field.belongsTo("users"),
    // A hidden relation: the id is hidden, so the relation cannot be followed either.
    ghost: field.belongsTo("users", { onDelete: "setNull" }).optional().hidden(),
  },
  access: open,
});

const comments = collection("comments", {
  fields: {
    body: field.text(),
    flag: field.text().optional().hidden(),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users"),
  },
  access: open,
});

// posts.marks is derived from marks.post, whose column is hidden: the relation cannot be followed.
const marks = collection("marks", {
  fields: { note: field.text(), post: field.belongsTo("posts", { onDelete: "cascade" }).hidden() },
  access: open,
});

// A readOnly field a hook fills in.
const tickets = collection("tickets", {
  fields: { subject: field.text(), number: field.integer().readOnly(), status: field.text().default("open").readOnly() },
  access: open,
  hooks: {
    beforeCreate: async ({ data, system }) => ({ ...data, number: (await system.data.tickets.count()) + 1 }),
    beforeUpdate: ({ data }) => (data.subject === undefined ? data : { ...data, status: "edited" }),
  },
});

const collections = { users, posts, comments, marks, tickets };

function keys(record: object | null | undefined): string[] {
  return Object.keys(record ?? {}).sort();
}

function issuesOf(error: ApiError): [string, string][] {
  return error.issues.map((issue) => [issue.path.join("."), issue.code]);
}

const USER_KEYS_FOR_MEMBER = ["badge", "createdAt", "handle", "id", "karma", "name", "updatedAt"];
const POST_KEYS_FOR_CALLER = ["author", "createdAt", "id", "title", "updatedAt", "views"];
const COMMENT_KEYS_FOR_CALLER = ["author", "body", "createdAt", "id", "post", "updatedAt"];

describeEachDatabase("field rules", (db) => {
  let backend: ReturnType<typeof createBackend<typeof collections, "sqlite" | "postgres">>;
  let close: () => Promise<void>;
  let alice: string;
  let bob: string;
  let post: string;
  let member: Principal;

  beforeAll(async () => {
    const fresh = await db.fresh();
    backend = createBackend({ database: fresh.database, collections, limits: { includeDepth: 4 } });
    await backend.migrate();
    close = async () => {
      await backend.close();
      await fresh.drop();
    };
  });
  afterAll(() => close());

  beforeEach(async () => {
    const { data } = backend.system;
    await data.tickets.deleteMany({ where: {} });
    await data.marks.deleteMany({ where: {} });
    await data.comments.deleteMany({ where: {} });
    await data.posts.deleteMany({ where: {} });
    await data.users.deleteMany({ where: {} });
    alice = (
      await data.users.create({
        name: "Alice",
        handle: "alice",
        email: "alice@example.com",
        passwordHash: "hash-a",
        apiKey: "key-a",
        salary: 100,
      })
    ).id;
    bob = (await data.users.create({ name: "Bob", handle: "bob", passwordHash: "hash-b", salary: 90 })).id;
    post = (await data.posts.create({ title: "Hello", draftNotes: "secret", author: alice, ghost: bob })).id;
    await data.comments.create({ body: "Hi", flag: "spam?", post, author: bob });
    await data.marks.create({ note: "starred", post });
    member = { id: alice, role: "member" };
  });

  describe("hidden fields", () => {
    test("never appear in what a non-system caller reads or writes: list, get, create, createMany, update, upsert, delete", async () => {
      for (const principal of [{ id: alice, role: "member" }, { id: alice, role: "admin" }, null]) {
        const { data } = backend.as(principal);
        const page = await data.users.list({ orderBy: { handle: "asc" } });
        expect(page.items.map((user) => user.handle)).toEqual(["alice", "bob"]);
        for (const user of page.items) expect(keys(user)).not.toContain("passwordHash");
        expect(keys(await data.users.get(alice))).not.toContain("apiKey");
        expect(keys(await data.posts.get(post))).toEqual(POST_KEYS_FOR_CALLER);
        expect(keys((await data.comments.list()).items[0])).toEqual(COMMENT_KEYS_FOR_CALLER);
      }
      const { data } = backend.as(member);
      expect(keys(await data.users.create({ name: "Cy", handle: "cy" }))).toEqual(USER_KEYS_FOR_MEMBER);
      const many = await data.users.createMany([{ name: "Di", handle: "di" }]);
      expect(keys(many[0])).toEqual(USER_KEYS_FOR_MEMBER);
      expect(keys(await data.users.update(alice, { name: "Alice A." }))).toEqual(USER_KEYS_FOR_MEMBER);
      expect(
        keys(await data.users.upsert({ where: { handle: "alice" }, create: { name: "x", handle: "alice" }, update: { name: "A" } })),
      ).toEqual(USER_KEYS_FOR_MEMBER);
      expect(
        keys(await data.users.upsert({ where: { handle: "ed" }, create: { name: "Ed", handle: "ed" }, update: {} })),
      ).toEqual(USER_KEYS_FOR_MEMBER);
      expect(keys(await data.posts.create({ title: "New", author: alice }))).toEqual(POST_KEYS_FOR_CALLER);
      expect(keys(await data.comments.delete((await data.comments.list()).items[0]!.id))).toEqual(COMMENT_KEYS_FOR_CALLER);
      const temp = await data.users.create({ name: "Tmp", handle: "tmp" });
      expect(keys(await data.users.delete(temp.id))).toEqual(USER_KEYS_FOR_MEMBER);
    });

    test("never appear in included records, to-one and to-many, at any depth", async () => {
      const { data } = backend.as(member);
      await backend.system.data.comments.create({ body: "Me too", flag: "x", post, author: alice });
      const page = await data.posts.list({
        include: {
          author: { include: { authored: { include: { comments: { include: { author: true } } } } } },
          comments: { include: { author: true, post: { include: { author: true } } } },
        },
      });
      const [first] = page.items;
      const author = first!.author!;
      expect(keys(author)).toEqual([...USER_KEYS_FOR_MEMBER, "authored"].sort());
      expect(keys(author.authored[0])).toEqual([...POST_KEYS_FOR_CALLER, "comments"].sort());
      expect(author.authored[0]!.comments).toHaveLength(2);
      for (const comment of author.authored[0]!.comments) {
        expect(keys(comment)).toEqual(COMMENT_KEYS_FOR_CALLER);
        expect(keys(comment.author)).toEqual(USER_KEYS_FOR_MEMBER);
      }
      for (const comment of first!.comments) {
        expect(keys(comment)).toEqual(COMMENT_KEYS_FOR_CALLER);
        expect(keys(comment.post)).toEqual(POST_KEYS_FOR_CALLER);
        expect(keys(comment.post!.author)).toEqual(USER_KEYS_FOR_MEMBER);
      }
      const written = await data.comments.create({ body: "x", post, author: alice }, { include: { author: true, post: true } });
      expect(keys(written.author)).toEqual(USER_KEYS_FOR_MEMBER);
      expect(keys(written.post)).toEqual(POST_KEYS_FOR_CALLER);
      const got = await data.users.get(bob, { include: { comments: { include: { post: true } } } });
      expect(keys(got!.comments[0])).toEqual(COMMENT_KEYS_FOR_CALLER);
      expect(keys(got!.comments[0]!.post)).toEqual(POST_KEYS_FOR_CALLER);
    });

    // Each case runs once with the hidden name and once with a name that is no field at all:
    // the two errors must be the same but for the name, so an error tells nothing about hidden
    // fields. The hidden name's exact error is given.
    type Caller = ReturnType<typeof backend.as>;
    const cases: [string, (caller: Caller, name: string) => Promise<unknown>, string, string][] = [
      ["where", (c, n) => c.data.users.list({ where: { [n]: "hash-a" } }), "passwordHash", 'where.passwordHash: "passwordHash" is not a field of "users"'],
      ["where with operators", (c, n) => c.data.users.list({ where: { [n]: { isNull: false } } }), "passwordHash", 'where.passwordHash: "passwordHash" is not a field of "users"'],
      ["where in or", (c, n) => c.data.users.list({ where: { or: [{ name: "x" }, { [n]: "h" }] } }), "passwordHash", 'where.or[1].passwordHash: "passwordHash" is not a field of "users"'],
      ["where in not", (c, n) => c.data.users.list({ where: { not: { [n]: null } } }), "passwordHash", 'where.not.passwordHash: "passwordHash" is not a field of "users"'],
      ["count", (c, n) => c.data.users.count({ where: { [n]: "hash-a" } }), "passwordHash", 'where.passwordHash: "passwordHash" is not a field of "users"'],
      ["to-one relation filter", (c, n) => c.data.posts.list({ where: { author: { [n]: "hash-a" } } }), "passwordHash", 'where.author.passwordHash: "passwordHash" is not a field of "users"'],
      ["nested to-one relation filter", (c, n) => c.data.comments.list({ where: { post: { author: { [n]: { startsWith: "hash" } } } } }), "passwordHash", 'where.post.author.passwordHash: "passwordHash" is not a field of "users"'],
      ["some", (c, n) => c.data.users.list({ where: { authored: { some: { [n]: "secret" } } } }), "draftNotes", 'where.authored.some.draftNotes: "draftNotes" is not a field of "posts"'],
      ["none", (c, n) => c.data.users.list({ where: { authored: { none: { [n]: "secret" } } } }), "draftNotes", 'where.authored.none.draftNotes: "draftNotes" is not a field of "posts"'],
      ["every", (c, n) => c.data.users.list({ where: { authored: { every: { [n]: "secret" } } } }), "draftNotes", 'where.authored.every.draftNotes: "draftNotes" is not a field of "posts"'],
      ["some, then to-one", (c, n) => c.data.users.list({ where: { comments: { some: { post: { [n]: "secret" } } } } }), "draftNotes", 'where.comments.some.post.draftNotes: "draftNotes" is not a field of "posts"'],
      ["orderBy", (c, n) => c.data.users.list({ orderBy: { [n]: "asc" } }), "passwordHash", 'orderBy.passwordHash: "passwordHash" is not a field of "users"'],
      ["orderBy list", (c, n) => c.data.users.list({ orderBy: [{ name: "asc" }, { [n]: "desc" }] }), "passwordHash", 'orderBy[1].passwordHash: "passwordHash" is not a field of "users"'],
      ["select", (c, n) => c.data.users.list({ select: ["name", n] as never }), "passwordHash", 'select: "passwordHash" is not a field of "users"'],
      ["select of get", (c, n) => c.data.users.get(alice, { select: [n] as never }), "passwordHash", 'select: "passwordHash" is not a field of "users"'],
      ["select of a write", (c, n) => c.data.users.update(alice, { name: "A" }, { select: [n] as never }), "passwordHash", 'select: "passwordHash" is not a field of "users"'],
      ["select of a to-one include", (c, n) => c.data.posts.list({ include: { author: { select: [n] as never } } }), "passwordHash", 'include.author.select: "passwordHash" is not a field of "users"'],
      ["where of a to-many include", (c, n) => c.data.users.list({ include: { authored: { where: { [n]: "secret" } } } }), "draftNotes", 'include.authored.where.draftNotes: "draftNotes" is not a field of "posts"'],
      ["orderBy of a to-many include", (c, n) => c.data.users.list({ include: { authored: { orderBy: { [n]: "asc" } } } }), "draftNotes", 'include.authored.orderBy.draftNotes: "draftNotes" is not a field of "posts"'],
      ["updateMany", (c, n) => c.data.users.updateMany({ where: { [n]: "hash-a" }, data: { name: "Hacked" } }), "passwordHash", 'where.passwordHash: "passwordHash" is not a field of "users"'],
      ["deleteMany", (c, n) => c.data.comments.deleteMany({ where: { [n]: "spam?" } }), "flag", 'where.flag: "flag" is not a field of "comments"'],
      ["include through a hidden belongsTo", (c, n) => c.data.posts.list({ include: { [n]: true } }), "ghost", 'include.ghost: "ghost" is not a relation of "posts"'],
      ["include through a hidden join column", (c, n) => c.data.posts.list({ include: { [n]: true } }), "marks", 'include.marks: "marks" is not a relation of "posts"'],
      ["filter through a hidden belongsTo", (c, n) => c.data.posts.list({ where: { [n]: { name: "Bob" } } }), "ghost", 'where.ghost: "ghost" is not a field of "posts"'],
      ["filter on a hidden belongsTo id", (c, n) => c.data.posts.list({ where: { [n]: bob } }), "ghost", 'where.ghost: "ghost" is not a field of "posts"'],
      ["filter through a hidden join column", (c, n) => c.data.posts.list({ where: { [n]: { some: {} } } }), "marks", 'where.marks: "marks" is not a field of "posts"'],
    ];

    test.each(cases)("using one in %s is INVALID_QUERY, worded as for an unknown field", async (_, run, name, message) => {
      for (const principal of [member, { id: alice, role: "admin" }, null]) {
        const caller = backend.as(principal);
        const hidden = await failure(run(caller, name));
        expect(hidden).toMatchObject({ status: 400, code: "INVALID_QUERY", message });
        const unknown = await failure(run(caller, "nosuchname"));
        expect(unknown.code).toBe("INVALID_QUERY");
        expect(hidden.message).toBe(unknown.message.replaceAll("nosuchname", name));
        expect(hidden.details).toEqual(JSON.parse(JSON.stringify(unknown.details).replaceAll("nosuchname", name)));
      }
      // Nothing was changed by the refused many-writes.
      expect((await backend.system.data.users.get(alice))!.name).toBe("Alice");
      expect(await backend.system.data.comments.count()).toBe(1);
    });

    test("upsert cannot look a record up by a hidden unique field", async () => {
      const { data } = backend.as(member);
      const error = await failure(
        data.users.upsert({ where: { apiKey: "key-a" }, create: { name: "M", handle: "m" }, update: { name: "Matched" } }),
      );
      expect(error).toMatchObject({
        code: "INVALID_QUERY",
        message: 'where: upsert needs exactly one unique field (or id) and its value, e.g. { where: { slug: "hello" } }',
      });
      expect((await backend.system.data.users.get(alice))!.name).toBe("Alice");
      expect(await backend.system.data.users.count()).toBe(2);
    });

    test("upsert by a hidden unique field fails as upsert by an unknown field does", async () => {
      const { data } = backend.as(member);
      const run = (name: string) =>
        failure(data.users.upsert({ where: { [name]: "key-a" }, create: { name: "M", handle: "m" }, update: {} } as never));
      const hidden = await run("apiKey");
      const unknown = await run("nosuchname");
      expect(hidden.message).toBe(unknown.message.replaceAll("nosuchname", "apiKey"));
    });

    test("the system scope reads, filters, sorts, selects and includes through them", async () => {
      const { data } = backend.system;
      const found = await data.users.list({ where: { passwordHash: "hash-a" }, select: ["passwordHash", "apiKey"] });
      expect(found.items).toEqual([{ id: alice, passwordHash: "hash-a", apiKey: "key-a" }]);
      expect((await data.users.list({ orderBy: { passwordHash: "desc" } })).items.map((user) => user.handle)).toEqual(["bob", "alice"]);
      const [withGhost] = (
        await data.posts.list({
          where: { ghost: { passwordHash: "hash-b" }, marks: { some: { note: "starred" } } },
          include: { ghost: true, marks: true, author: true, comments: true },
        })
      ).items;
      expect(withGhost!.draftNotes).toBe("secret");
      expect(withGhost!.ghost).toMatchObject({ id: bob, passwordHash: "hash-b" });
      expect(withGhost!.author.passwordHash).toBe("hash-a");
      expect(withGhost!.marks).toEqual([expect.objectContaining({ note: "starred", post })]);
      expect(withGhost!.comments[0]!.flag).toBe("spam?");
      expect(await data.users.count({ where: { authored: { some: { draftNotes: "secret" } } } })).toBe(1);
      expect(await data.comments.updateMany({ where: { flag: "spam?" }, data: { flag: "ok" } })).toEqual({ count: 1 });
    });
  });

  describe("read rules", () => {
    test("mask the field from the callers the rule denies, everywhere they read", async () => {
      for (const principal of [member, { id: bob, role: "hr" }, null]) {
        const { data } = backend.as(principal);
        const user = await data.users.get(alice);
        expect(keys(user)).not.toContain("email");
        const page = await data.posts.list({ include: { author: true } });
        expect(keys(page.items[0]!.author)).not.toContain("email");
        expect(keys(await data.users.update(alice, { name: "Alice" }))).not.toContain("email");
      }
      expect(keys(await backend.as(member).data.users.get(alice))).toEqual(USER_KEYS_FOR_MEMBER);
    });

    test("show the field to the callers the rule allows", async () => {
      const admin = backend.as({ id: bob, role: "admin" });
      expect(await admin.data.users.get(alice, { select: ["email"] })).toEqual({ id: alice, email: "alice@example.com" });
      expect((await admin.data.users.list({ where: { email: "alice@example.com" } })).items.map((u) => u.id)).toEqual([alice]);
      expect((await admin.data.users.list({ orderBy: { email: "asc" } })).items.map((u) => u.email)).toEqual([null, "alice@example.com"]);
      expect(keys(await admin.data.users.get(alice))).toEqual([...USER_KEYS_FOR_MEMBER, "email"].sort());
      // salary is for hr only, not for admins.
      expect(keys(await admin.data.users.get(alice))).not.toContain("salary");
      const hr = backend.as({ id: bob, role: "hr" });
      expect((await hr.data.users.list({ where: { salary: { gte: 95 } }, select: ["salary"] })).items).toEqual([
        { id: alice, salary: 100 },
      ]);
      expect((await hr.data.posts.get(post, { include: { author: true } }))!.author!.salary).toBe(100);
    });

    test("make the field unfilterable, unsortable and unselectable for the callers they deny", async () => {
      const runs: [(c: ReturnType<typeof backend.as>, n: string) => Promise<unknown>, string][] = [
        [(c, n) => c.data.users.list({ where: { [n]: "alice@example.com" } }), 'where.email: "email" is not a field of "users"'],
        [(c, n) => c.data.posts.list({ where: { author: { [n]: { contains: "@" } } } }), 'where.author.email: "email" is not a field of "users"'],
        [(c, n) => c.data.users.list({ orderBy: { [n]: "asc" } }), 'orderBy.email: "email" is not a field of "users"'],
        [(c, n) => c.data.users.get(alice, { select: [n] as never }), 'select: "email" is not a field of "users"'],
        [(c, n) => c.data.posts.list({ include: { author: { select: [n] as never } } }), 'include.author.select: "email" is not a field of "users"'],
      ];
      for (const principal of [member, null]) {
        for (const [run, message] of runs) {
          const masked = await failure(run(backend.as(principal), "email"));
          expect(masked).toMatchObject({ code: "INVALID_QUERY", message });
          const unknown = await failure(run(backend.as(principal), "nosuchname"));
          expect(masked.message).toBe(unknown.message.replaceAll("nosuchname", "email"));
        }
      }
      const salary = await failure(backend.as({ id: bob, role: "admin" }).data.users.count({ where: { salary: 100 } }));
      expect(salary.message).toBe('where.salary: "salary" is not a field of "users"');
    });

    test("are given the caller", async () => {
      const seen: (Principal | null)[] = [];
      const watched = collection("watched", {
        fields: { secret: field.text().access({ read: ({ user }) => (seen.push(user), user?.id === "owner") }) },
        access: open,
      });
      const fresh = await db.fresh();
      const other = createBackend({ database: fresh.database, collections: { watched } });
      try {
        await other.migrate();
        await other.system.data.watched.create({ secret: "s" });
        expect((await other.as({ id: "owner", role: "member" }).data.watched.list()).items[0]!.secret).toBe("s");
        expect(keys((await other.as({ id: "else", role: "member" }).data.watched.list()).items[0])).not.toContain("secret");
        expect(seen).toEqual([{ id: "owner", role: "member" }, { id: "else", role: "member" }]);
      } finally {
        await other.close();
        await fresh.drop();
      }
    });
  });

  describe("write rules", () => {
    async function unchanged(run: () => Promise<unknown>) {
      const before = await backend.system.data.users.list({ orderBy: { handle: "asc" } });
      const error = await failure(run());
      expect(await backend.system.data.users.list({ orderBy: { handle: "asc" } })).toEqual(before);
      return error;
    }

    test("a hidden field cannot be written by a caller: sending it is an unknown field, whatever its value", async () => {
      const { data } = backend.as(member);
      for (const value of ["p", 5, null]) {
        const error = await unchanged(() => data.users.create({ name: "Cy", handle: "cy", passwordHash: value } as never));
        expect(issuesOf(error)).toEqual([["passwordHash", "unrecognized_keys"]]);
        expect(error.message).toBe('Invalid users input: passwordHash: Unknown field "passwordHash"');
      }
      const update = await unchanged(() => data.users.update(alice, { apiKey: "mine" } as never));
      expect(issuesOf(update)).toEqual([["apiKey", "unrecognized_keys"]]);
    });

    test("create refuses readOnly and write-denied fields, with the other issues, and writes nothing", async () => {
      const { data } = backend.as(member);
      const error = await unchanged(() =>
        data.users.create({ name: "", handle: "new", karma: 5, salary: 1, badge: "gold", colour: "red" } as never),
      );
      expect(error).toMatchObject({ status: 422, code: "VALIDATION_FAILED" });
      // salary: the member may not even read it, so it is as unknown as colour.
      expect(issuesOf(error)).toEqual([
        ["karma", "read_only"],
        ["salary", "unrecognized_keys"],
        ["badge", "write_denied"],
        ["name", "too_small"],
        ["colour", "unrecognized_keys"],
      ]);
      expect(error.issues.slice(0, 3).map((issue) => issue.message)).toEqual([
        "This field is read-only",
        'Unknown field "salary"',
        "You may not write this field",
      ]);
      expect(error.message).toContain('karma: This field is read-only; salary: Unknown field "salary"');
      const post = await failure(data.posts.create({ title: "T", author: alice, views: 1000 } as never));
      expect(issuesOf(post)).toEqual([["views", "read_only"]]);
      expect(await backend.system.data.posts.count()).toBe(1);
    });

    test("update refuses them and leaves the record as it was", async () => {
      const { data } = backend.as(member);
      const error = await unchanged(() => data.users.update(alice, { name: "Alice 2", karma: 99, salary: 1 } as never));
      expect(issuesOf(error)).toEqual([
        ["karma", "read_only"],
        ["salary", "unrecognized_keys"],
      ]);
      const many = await unchanged(() => data.users.updateMany({ where: {}, data: { karma: 1 } as never }));
      expect(issuesOf(many)).toEqual([["karma", "read_only"]]);
      const views = await failure(data.posts.update(post, { views: 5 } as never));
      expect(issuesOf(views)).toEqual([["views", "read_only"]]);
      expect((await backend.system.data.posts.get(post))!.views).toBe(0);
    });

    test("upsert refuses them on both its create and its update, and writes nothing", async () => {
      const { data } = backend.as(member);
      const creating = await unchanged(() =>
        data.users.upsert({ where: { handle: "zed" }, create: { name: "Zed", handle: "zed", karma: 3 }, update: {} } as never),
      );
      expect(issuesOf(creating)).toEqual([["karma", "read_only"]]);
      const updating = await unchanged(() =>
        data.users.upsert({ where: { handle: "alice" }, create: { name: "A", handle: "alice" }, update: { salary: 5 } } as never),
      );
      expect(issuesOf(updating)).toEqual([["salary", "unrecognized_keys"]]);
    });

    test("createMany refuses them, naming each record's field, and writes none", async () => {
      const error = await unchanged(() =>
        backend.as(member).data.users.createMany([
          { name: "Ok", handle: "ok" },
          { name: "Bad", handle: "bad", karma: 1 },
        ] as never),
      );
      expect(issuesOf(error)).toEqual([["1.karma", "read_only"]]);
    });

    test("a caller a write rule allows may write the field", async () => {
      const admin = backend.as({ id: bob, role: "admin" });
      expect((await admin.data.users.update(alice, { badge: "gold" })).badge).toBe("gold");
      const hr = backend.as({ id: bob, role: "hr" });
      expect((await hr.data.users.create({ name: "New", handle: "new", salary: 50 })).salary).toBe(50);
      expect(issuesOf(await failure(hr.data.users.update(alice, { badge: "x" })))).toEqual([["badge", "write_denied"]]);
    });

    test("the system scope writes readOnly and write-ruled fields", async () => {
      const { data } = backend.system;
      const user = await data.users.create({ name: "Sys", handle: "sys", karma: 7, salary: 1, badge: "b" });
      expect(user).toMatchObject({ karma: 7, salary: 1, badge: "b" });
      expect(await data.users.update(user.id, { karma: 8 })).toMatchObject({ karma: 8 });
      expect((await data.posts.update(post, { views: 3 })).views).toBe(3);
      expect(await data.users.updateMany({ where: { handle: "sys" }, data: { karma: 9 } })).toEqual({ count: 1 });
    });

    test("a beforeCreate or beforeUpdate hook may set a readOnly field the caller may not send", async () => {
      const { data } = backend.as(member);
      const first = await data.tickets.create({ subject: "Printer" });
      const second = await data.tickets.create({ subject: "Coffee" });
      expect([first.number, first.status, second.number]).toEqual([1, "open", 2]);
      expect(await data.tickets.update(first.id, { subject: "Printer, again" })).toMatchObject({ status: "edited" });
      const refused = await failure(data.tickets.create({ subject: "Mine", number: 42 } as never));
      expect(issuesOf(refused)).toEqual([["number", "read_only"]]);
      expect(await backend.system.data.tickets.count()).toBe(2);
    });
  });
});
