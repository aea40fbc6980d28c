/**
 * Collection rules for non-system callers: records a caller may not see never show through an
 * include or make a relation filter match, and a denied operation answers 401, 403 or 404 (null
 * for get) as documented. The rules depend on the principal.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiError, collection, createBackend, field, type Principal, type RuleContext } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

const users = collection("users", {
  fields: {
    name: field.text(),
    public: field.boolean().default(false),
    vip: field.boolean().default(false).hidden(),
  },
  access: {
    // Listing (and so filtering through users) shows public users and yourself; any signed-in
    // caller may get a user by id.
    list: ({ user }) => (user === null ? { public: true } : user.role === "admin" ? true : { or: [{ public: true }, { id: user.id }] }),
    get: ({ user }) => (user === null ? { public: true } : true),
  },
});

const visiblePosts = ({ user }: RuleContext) =>
  user === null ? { published: true } : user.role === "admin" ? true : { or: [{ published: true }, { author: user.id }] };

const posts = collection("posts", {
  fields: {
    title: field.text(),
    published: field.boolean().default(false),
    author: field.belongsTo("users"),
  },
  access: {
    list: visiblePosts,
    get: visiblePosts,
    create: ({ user }) => (user ? { author: user.id } : false),
    update: ({ user }) => (user ? { author: user.id } : false),
    delete: ({ user }) => user?.role === "admin",
  },
});

const visibleComments = ({ user }: RuleContext) =>
  user === null ? { approved: true } : user.role === "admin" ? true : { or: [{ approved: true }, { author: user.id }] };

const comments = collection("comments", {
  fields: {
    body: field.text(),
    approved: field.boolean().default(false),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users"),
  },
  access: { list: visibleComments, get: visibleComments },
});

// Rules are trusted code: this one filters through posts and users, and on a hidden field,
// whatever the caller may see of them.
const reactions = collection("reactions", {
  fields: { emoji: field.text(), post: field.belongsTo("posts", { onDelete: "cascade" }) },
  access: { list: () => ({ post: { author: { vip: true } } }), get: () => true },
});

// Only admins may read the audit log; no rule for the rest.
const audit = collection("audit", {
  fields: { event: field.text() },
  access: { list: ({ user }) => user?.role === "admin", get: ({ user }) => user?.role === "admin" },
});

// No rules at all: only the system scope reaches it.
const vault = collection("vault", { fields: { secret: field.text() } });

const collections = { users, posts, comments, reactions, audit, vault };

const titles = (items: readonly { title: string }[]) => items.map((item) => item.title).sort();
const bodies = (items: readonly { body: string }[]) => items.map((item) => item.body).sort();

describeEachDatabase("collection rules", (db) => {
  let backend: ReturnType<typeof createBackend<typeof collections, "sqlite" | "postgres">>;
  let close: () => Promise<void>;
  const ids: Record<string, string> = {};
  let ann: Principal;
  let bob: Principal;
  let carol: Principal;
  const admin: Principal = { id: "root", role: "admin" };
  const as = (principal: Principal | null) => backend.as(principal);

  beforeAll(async () => {
    const fresh = await db.fresh();
    backend = createBackend({ database: fresh.database, collections });
    await backend.migrate();
    close = async () => {
      await backend.close();
      await fresh.drop();
    };
    const { data } = backend.system;
    ids.ann = (await data.users.create({ name: "Ann", public: true })).id;
    ids.bob = (await data.users.create({ name: "Bob" })).id;
    ids.carol = (await data.users.create({ name: "Carol", vip: true })).id;
    ann = { id: ids.ann, role: "member" };
    bob = { id: ids.bob, role: "member" };
    carol = { id: ids.carol, role: "member" };
    const post = async (key: string, title: string, author: string, published: boolean) =>
      (ids[key] = (await data.posts.create({ title, author, published })).id);
    await post("annPublished", "Ann's post", ids.ann, true);
    await post("annDraft", "Ann's draft", ids.ann, false);
    await post("carolPublished", "Carol's post", ids.carol, true);
    await post("carolDraft", "Carol's draft", ids.carol, false);
    const comment = async (key: string, body: string, post: string, author: string, approved: boolean) =>
      (ids[key] = (await data.comments.create({ body, post: ids[post]!, author, approved })).id);
    await comment("great", "great", "annPublished", ids.bob, true);
    await comment("spam", "spam", "annPublished", ids.carol, false);
    await comment("feedback", "draft feedback", "carolDraft", ids.ann, true);
    await comment("pending", "bob's pending", "carolPublished", ids.bob, false);
    await data.reactions.createMany([
      { emoji: "+1", post: ids.annPublished! },
      { emoji: "heart", post: ids.carolDraft! },
    ]);
    await data.audit.create({ event: "signed in" });
    await data.vault.create({ secret: "s" });
  });
  afterAll(() => close());

  describe("includes", () => {
    test("a to-one include of a record the caller may not get is null", async () => {
      const anon = await as(null).data.comments.list({ include: { post: true }, orderBy: { body: "asc" } });
      expect(anon.items.map((c) => [c.body, c.post?.title ?? null])).toEqual([
        ["draft feedback", null],
        ["great", "Ann's post"],
      ]);
      const forBob = await as(bob).data.comments.list({ include: { post: true }, orderBy: { body: "asc" } });
      expect(forBob.items.map((c) => [c.body, c.post?.title ?? null])).toEqual([
        ["bob's pending", "Carol's post"],
        ["draft feedback", null],
        ["great", "Ann's post"],
      ]);
      const forCarol = await as(carol).data.comments.get(ids.feedback!, { include: { post: true } });
      expect(forCarol!.post!.title).toBe("Carol's draft");
      const forAnn = await as(ann).data.comments.get(ids.feedback!, { select: ["body"], include: { post: true } });
      expect(forAnn).toEqual({ id: ids.feedback, body: "draft feedback", post: null });
    });

    test("a to-one include follows the target's get rule, not its list rule", async () => {
      // Bob may get Carol (any signed-in caller may) but not list her (she is not public).
      const page = await as(bob).data.posts.list({ include: { author: { select: ["name"] } }, orderBy: { title: "asc" } });
      expect(page.items.map((p) => [p.title, p.author?.name ?? null])).toEqual([
        ["Ann's post", "Ann"],
        ["Carol's post", "Carol"],
      ]);
      expect((await as(bob).data.users.list()).items.map((u) => u.name).sort()).toEqual(["Ann", "Bob"]);
      // Anonymous callers may get public users only.
      const anon = await as(null).data.posts.list({ include: { author: true }, orderBy: { title: "asc" } });
      expect(anon.items.map((p) => [p.title, p.author?.name ?? null])).toEqual([
        ["Ann's post", "Ann"],
        ["Carol's post", null],
      ]);
    });

    test("a to-many include leaves out the related records the caller may not list", async () => {
      const include = { comments: { orderBy: { body: "asc" } } } as const;
      const post = ids.annPublished!;
      expect(bodies((await as(null).data.posts.get(post, { include }))!.comments)).toEqual(["great"]);
      expect(bodies((await as(bob).data.posts.get(post, { include }))!.comments)).toEqual(["great"]);
      expect(bodies((await as(carol).data.posts.get(post, { include }))!.comments)).toEqual(["great", "spam"]);
      expect(bodies((await as(admin).data.posts.get(post, { include }))!.comments)).toEqual(["great", "spam"]);
      const pending = await as(bob).data.posts.get(ids.carolPublished!, { include });
      expect(bodies(pending!.comments)).toEqual(["bob's pending"]);
      expect(bodies((await as(ann).data.posts.get(ids.carolPublished!, { include }))!.comments)).toEqual([]);
    });

    test("nested includes apply each target's rule at every level", async () => {
      const page = await as(bob).data.users.list({
        orderBy: { name: "asc" },
        include: { posts: { orderBy: { title: "asc" }, include: { comments: { include: { author: true } } } } },
      });
      expect(page.items.map((u) => [u.name, titles(u.posts)])).toEqual([
        ["Ann", ["Ann's post"]],
        ["Bob", []],
      ]);
      expect(page.items[0]!.posts[0]!.comments.map((c) => [c.body, c.author?.name])).toEqual([["great", "Bob"]]);
      // Bob may get Carol: her posts are those Bob may list; their comments those he may list.
      const carolForBob = await as(bob).data.users.get(ids.carol!, {
        include: { posts: { include: { comments: true } }, comments: { include: { post: true } } },
      });
      expect(titles(carolForBob!.posts)).toEqual(["Carol's post"]);
      expect(bodies(carolForBob!.posts[0]!.comments)).toEqual(["bob's pending"]);
      expect(carolForBob!.comments).toEqual([]); // the spam is hers but not approved
      const carolForAdmin = await as(admin).data.users.get(ids.carol!, { include: { comments: { include: { post: true } } } });
      expect(carolForAdmin!.comments.map((c) => [c.body, c.post?.title])).toEqual([["spam", "Ann's post"]]);
    });

    test("a to-many include may include the to-one relation back to its parent", async () => {
      const post = await backend.system.data.posts.get(ids.annPublished!, { include: { comments: { include: { post: true } } } });
      expect(bodies(post!.comments)).toEqual(["great", "spam"]);
      expect(post!.comments.map((c) => c.post.title)).toEqual(["Ann's post", "Ann's post"]);
      const forBob = await as(bob).data.posts.get(ids.annPublished!, { include: { comments: { include: { post: true } } } });
      expect(bodies(forBob!.comments)).toEqual(["great"]);
    });

    test("what a write returns is included under the same rules", async () => {
      const created = await as(ann).data.posts.create(
        { title: "Ann's new post", author: ids.ann! },
        { include: { author: true, comments: true } },
      );
      expect(created.author?.name).toBe("Ann");
      const updated = await as(bob).data.posts.create({ title: "Bob's post", author: ids.bob! }, { include: { author: true } });
      expect(updated.author?.name).toBe("Bob");
      const reply = await as(carol).data.posts.update(ids.carolPublished!, { title: "Carol's post" }, { include: { comments: true } });
      expect(reply.comments).toEqual([]);
      await backend.system.data.posts.deleteMany({ where: { title: { in: ["Ann's new post", "Bob's post"] } } });
    });
  });

  describe("relation filters", () => {
    test("some ignores related records the caller may not list", async () => {
      const where = { comments: { some: { body: "spam" } } } as const;
      expect(titles((await as(bob).data.posts.list({ where })).items)).toEqual([]);
      expect(titles((await as(null).data.posts.list({ where })).items)).toEqual([]);
      expect(titles((await as(carol).data.posts.list({ where })).items)).toEqual(["Ann's post"]);
      expect(titles((await as(admin).data.posts.list({ where })).items)).toEqual(["Ann's post"]);
      expect(await as(bob).data.posts.count({ where })).toBe(0);
      expect(await as(admin).data.posts.count({ where })).toBe(1);
    });

    test("none ignores them too", async () => {
      const where = { comments: { none: { body: "spam" } } } as const;
      expect(titles((await as(bob).data.posts.list({ where })).items)).toEqual(["Ann's post", "Carol's post"]);
      expect(titles((await as(admin).data.posts.list({ where })).items)).toEqual(["Ann's draft", "Carol's draft", "Carol's post"]);
    });

    test("every counts only the related records the caller may list", async () => {
      const where = { comments: { every: { approved: true } } } as const;
      // Anonymous callers see only approved comments, so every holds for every post they see.
      expect(titles((await as(null).data.posts.list({ where })).items)).toEqual(["Ann's post", "Carol's post"]);
      expect(titles((await as(bob).data.posts.list({ where })).items)).toEqual(["Ann's post"]);
      expect(titles((await as(admin).data.posts.list({ where })).items)).toEqual(["Ann's draft", "Carol's draft"]);
    });

    test("a to-one filter does not match a related record the caller may not list", async () => {
      const byPost = { post: { title: "Carol's draft" } } as const;
      expect(bodies((await as(null).data.comments.list({ where: byPost })).items)).toEqual([]);
      expect(bodies((await as(bob).data.comments.list({ where: byPost })).items)).toEqual([]);
      expect(bodies((await as(carol).data.comments.list({ where: byPost })).items)).toEqual(["draft feedback"]);
      // Bob may get Carol through an include, but filters follow the list rule: no match.
      const byAuthor = { author: { name: "Carol" } } as const;
      expect(titles((await as(bob).data.posts.list({ where: byAuthor })).items)).toEqual([]);
      expect(titles((await as(carol).data.posts.list({ where: byAuthor })).items)).toEqual(["Carol's draft", "Carol's post"]);
      expect(titles((await as(admin).data.posts.list({ where: byAuthor })).items)).toEqual(["Carol's draft", "Carol's post"]);
      // not: the invisible author is no author named Carol.
      expect(titles((await as(bob).data.posts.list({ where: { not: byAuthor } })).items)).toEqual(["Ann's post", "Carol's post"]);
    });

    test("nested relation filters apply each target's rule", async () => {
      const where = { posts: { some: { comments: { some: { body: "spam" } } } } } as const;
      expect((await as(bob).data.users.list({ where })).items).toEqual([]);
      expect((await as(admin).data.users.list({ where })).items.map((u) => u.name)).toEqual(["Ann"]);
      const throughDraft = { post: { comments: { some: { body: "draft feedback" } } } } as const;
      expect(await as(null).data.reactions.count({ where: throughDraft })).toBe(0);
      expect(await as(carol).data.reactions.count({ where: throughDraft })).toBe(1);
    });

    test("a filter inside a to-many include ignores them", async () => {
      const page = await as(bob).data.users.list({
        where: { name: "Ann" },
        include: { posts: { where: { comments: { some: { body: "spam" } } } } },
      });
      expect(page.items[0]!.posts).toEqual([]);
      const forAdmin = await as(admin).data.users.list({
        where: { name: "Ann" },
        include: { posts: { where: { comments: { some: { body: "spam" } } } } },
      });
      expect(titles(forAdmin.items[0]!.posts)).toEqual(["Ann's post"]);
    });

    test("a many-write's filter ignores them", async () => {
      // Ann may update her posts, but she cannot see Carol's unapproved spam under her post.
      const where = { comments: { some: { body: "spam" } } } as const;
      expect(await as(ann).data.posts.updateMany({ where, data: { title: "changed" } })).toEqual({ count: 0 });
      expect((await backend.system.data.posts.get(ids.annPublished!))!.title).toBe("Ann's post");
    });
  });

  describe("rules are trusted code", () => {
    test("a rule's own relation filter skips the target's rules and field masks", async () => {
      // reactions.list reaches through posts and users, to the hidden vip field: for an anonymous
      // caller too, who may see neither Carol nor her draft.
      expect((await as(null).data.reactions.list()).items.map((r) => r.emoji)).toEqual(["heart"]);
      expect((await as(bob).data.reactions.list()).items.map((r) => r.emoji)).toEqual(["heart"]);
      // The caller's own filter on the same path is masked.
      const error = await failure(as(null).data.reactions.list({ where: { post: { author: { vip: true } } } }));
      expect(error.message).toBe('where.post.author.vip: "vip" is not a field of "users"');
      // And its includes still follow the targets' rules: the draft is not the caller's to see.
      const page = await as(null).data.reactions.list({ include: { post: true } });
      expect(page.items.map((r) => [r.emoji, r.post])).toEqual([["heart", null]]);
    });

    test("a rule is called once per operation, whatever the number of records and of the places it applies", async () => {
      const calls: string[] = [];
      const counted = (name: string) => ({ user }: RuleContext) => (calls.push(name), user === null ? { n: { gte: 0 } } : true);
      const items = collection("items", {
        fields: { n: field.integer() },
        access: { list: counted("items.list"), get: counted("items.get") },
      });
      const parts = collection("parts", {
        fields: { item: field.belongsTo("items"), n: field.integer() },
        access: { list: counted("parts.list"), get: counted("parts.get") },
      });
      const fresh = await db.fresh();
      const other = createBackend({ database: fresh.database, collections: { items, parts } });
      try {
        await other.migrate();
        const created = await other.system.data.items.createMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
        await other.system.data.parts.createMany(created.flatMap((item) => [{ item: item.id, n: 1 }, { item: item.id, n: 2 }]));
        expect(calls).toEqual([]);
        const page = await other.as(null).data.items.list({
          where: { parts: { some: { n: 1 } }, or: [{ parts: { none: { n: 5 } } }, { parts: { every: { n: { gte: 0 } } } }] },
          include: { parts: { where: { item: { n: { gte: 1 } } } } },
        });
        expect(page.items.map((item) => item.parts.length)).toEqual([2, 2, 2]);
        expect(calls.sort()).toEqual(["items.list", "parts.list"]);
        calls.length = 0;
        const parts = await other.as(null).data.parts.list({ include: { item: true } });
        expect(parts.items.map((part) => part.item?.n)).toEqual([1, 1, 2, 2, 3, 3]);
        expect(calls.sort()).toEqual(["items.get", "parts.list"]);
      } finally {
        await other.close();
        await fresh.drop();
      }
    });

    test("a rule that returns something else than true, false or a filter is a server error", async () => {
      const broken = collection("broken", {
        fields: { name: field.text() },
        access: { list: () => null as never, get: () => ({ nosuchfield: 1 }) as never },
      });
      const fresh = await db.fresh();
      const other = createBackend({ database: fresh.database, collections: { broken } });
      try {
        await other.migrate();
        const id = (await other.system.data.broken.create({ name: "x" })).id;
        const list = await other.as(null).data.broken.list().catch((e: unknown) => e);
        expect(list).not.toBeInstanceOf(ApiError);
        expect((list as Error).message).toBe(
          "The access rule broken.list returned null; a rule returns true, false or a where filter.",
        );
        const get = await other.as(null).data.broken.get(id).catch((e: unknown) => e);
        expect(get).not.toBeInstanceOf(ApiError);
        expect((get as Error).message).toBe(
          'The access rule broken.get returned an invalid filter: access.get.nosuchfield: "nosuchfield" is not a field of "broken"',
        );
      } finally {
        await other.close();
        await fresh.drop();
      }
    });
  });

  describe("401, 403 and 404", () => {
    test("a denied list or count is UNAUTHORIZED for anonymous callers and FORBIDDEN for signed-in ones", async () => {
      const anon = await failure(as(null).data.audit.list());
      expect(anon).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      const member = await failure(as(bob).data.audit.list());
      expect(member).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await failure(as(null).data.audit.count())).toMatchObject({ status: 401 });
      expect(await failure(as(bob).data.audit.count())).toMatchObject({ status: 403 });
      expect((await as(admin).data.audit.list()).items.map((a) => a.event)).toEqual(["signed in"]);
    });

    test("a get the caller may not make, or of a record it may not see, is null, as for no record", async () => {
      const [record] = (await backend.system.data.audit.list()).items;
      expect(await as(null).data.audit.get(record!.id)).toBeNull();
      expect(await as(bob).data.audit.get(record!.id)).toBeNull();
      expect(await as(bob).data.posts.get(ids.annDraft!)).toBeNull();
      expect(await as(bob).data.posts.get("no-such-id")).toBeNull();
      expect(await as(ann).data.posts.get(ids.annDraft!)).toMatchObject({ title: "Ann's draft" });
    });

    test("a denied create is UNAUTHORIZED or FORBIDDEN, and writes nothing", async () => {
      const before = await backend.system.data.posts.count();
      expect(await failure(as(null).data.posts.create({ title: "x", author: ids.ann! }))).toMatchObject({
        status: 401,
        code: "UNAUTHORIZED",
      });
      // The create rule is a filter: the new record must match it (Bob may not post as Ann).
      expect(await failure(as(bob).data.posts.create({ title: "x", author: ids.ann! }))).toMatchObject({
        status: 403,
        code: "FORBIDDEN",
      });
      expect(await failure(as(bob).data.posts.createMany([{ title: "x", author: ids.bob! }, { title: "y", author: ids.ann! }]))).toMatchObject({
        status: 403,
      });
      expect(
        await failure(as(null).data.posts.upsert({ where: { id: "new-id" }, create: { title: "x", author: ids.ann! }, update: {} })),
      ).toMatchObject({ status: 401 });
      expect(await backend.system.data.posts.count()).toBe(before);
    });

    test("update or delete of a record the caller sees but may not change is UNAUTHORIZED or FORBIDDEN", async () => {
      const post = ids.annPublished!;
      expect(await failure(as(null).data.posts.update(post, { title: "x" }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      expect(await failure(as(bob).data.posts.update(post, { title: "x" }))).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await failure(as(null).data.posts.delete(post))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      expect(await failure(as(ann).data.posts.delete(post))).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(
        await failure(as(bob).data.posts.upsert({ where: { id: post }, create: { title: "x", author: ids.bob! }, update: { title: "x" } })),
      ).toMatchObject({ status: 403 });
      expect((await backend.system.data.posts.get(post))!.title).toBe("Ann's post");
    });

    test("an update that would move the record out of the caller's update rule is FORBIDDEN and not written", async () => {
      const error = await failure(as(ann).data.posts.update(ids.annDraft!, { author: ids.bob! }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect((await backend.system.data.posts.get(ids.annDraft!))!.author).toBe(ids.ann);
      const many = await failure(as(ann).data.posts.updateMany({ where: { author: ids.ann! }, data: { author: ids.bob! } }));
      expect(many.code).toBe("FORBIDDEN");
      expect(await backend.system.data.posts.count({ where: { author: ids.ann! } })).toBe(2);
    });

    test("update or delete of a record the caller cannot see is NOT_FOUND, as for one that does not exist", async () => {
      const hidden = await failure(as(bob).data.posts.update(ids.annDraft!, { title: "x" }));
      const missing = await failure(as(bob).data.posts.update("no-such-id", { title: "x" }));
      expect(hidden).toMatchObject({ status: 404, code: "NOT_FOUND" });
      expect(hidden.message).toBe(missing.message.replace("no-such-id", ids.annDraft!));
      expect(hidden.details).toEqual({ ...missing.details, id: ids.annDraft });
      expect(await failure(as(null).data.posts.update(ids.annDraft!, { title: "x" }))).toMatchObject({ status: 404 });
      expect(await failure(as(bob).data.posts.delete(ids.annDraft!))).toMatchObject({ status: 404, code: "NOT_FOUND" });
      expect(await failure(as(null).data.posts.delete(ids.annDraft!))).toMatchObject({ status: 404, code: "NOT_FOUND" });
      expect(await failure(as(bob).data.audit.delete((await backend.system.data.audit.list()).items[0]!.id))).toMatchObject({
        status: 404,
      });
      expect((await backend.system.data.posts.get(ids.annDraft!))!.title).toBe("Ann's draft");
    });

    test("a many-write the caller may not do is UNAUTHORIZED or FORBIDDEN; otherwise it reaches only what it may", async () => {
      expect(await failure(as(null).data.posts.updateMany({ where: {}, data: { title: "x" } }))).toMatchObject({ status: 401 });
      expect(await failure(as(bob).data.posts.deleteMany({ where: {} }))).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await as(ann).data.posts.updateMany({ where: {}, data: { published: true } })).toEqual({ count: 2 });
      expect(await backend.system.data.posts.count({ where: { published: true } })).toBe(3);
      await backend.system.data.posts.update(ids.annDraft!, { published: false });
    });

    test("a collection without rules is reached by the system scope only", async () => {
      const [record] = (await backend.system.data.vault.list()).items;
      expect(await failure(as(null).data.vault.list())).toMatchObject({ status: 401 });
      expect(await failure(as(admin).data.vault.list())).toMatchObject({ status: 403 });
      expect(await as(admin).data.vault.get(record!.id)).toBeNull();
      expect(await failure(as(admin).data.vault.create({ secret: "x" }))).toMatchObject({ status: 403 });
      expect(await failure(as(admin).data.vault.update(record!.id, { secret: "x" }))).toMatchObject({ status: 404 });
      expect(await failure(as(admin).data.vault.delete(record!.id))).toMatchObject({ status: 404 });
      expect(await backend.system.data.vault.update(record!.id, { secret: "t" })).toMatchObject({ secret: "t" });
    });
  });
});
