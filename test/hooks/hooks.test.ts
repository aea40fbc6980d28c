/**
 * Collection hooks: before hooks change or refuse writes, after hooks run inside the write's
 * transaction, afterCommit runs once the outermost transaction has committed (never after a
 * rollback) and its failures go to the backend's logger. Many-writes run hooks per record.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { ApiError, collection, createBackend, field, type CommittedChange, type Principal } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

/** What the hooks saw, in order. */
const calls: [string, unknown][] = [];
const committed: CommittedChange<typeof postFields>[] = [];
let failCommit = false;

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };

const users = collection("users", { fields: { name: field.text() }, access: open });

// Without a `Register` augmentation (which would reach every file of the type check), `system`
// in hooks is typed for any collection: the inputs of its writes are cast.
const postFields = {
  title: field.text(z.string().min(1)),
  slug: field.text(z.string().min(1)).unique(),
  author: field.belongsTo("users"),
  status: field.enum(["draft", "published"]).default("draft"),
  edits: field.integer().default(0).readOnly(),
};

const posts = collection("posts", {
  fields: postFields,
  access: open,
  hooks: {
    beforeCreate: ({ data, user }) => {
      calls.push(["beforeCreate", { ...data }]);
      if (data.title === "refused") throw new ApiError(409, "REFUSED", "Refused by beforeCreate");
      if (data.title === "bad result") return { ...data, slug: "", author: user?.id };
      return { ...data, slug: data.slug ?? data.title?.toLowerCase().replaceAll(" ", "-"), author: data.author ?? user?.id };
    },
    afterCreate: async ({ record, system, afterCommit }) => {
      calls.push(["afterCreate", record.title]);
      await system.data.log.create({ event: `created ${record.title}` });
      afterCommit(() => void calls.push(["afterCommit fn", record.title]));
      if (record.title === "fails after create") throw new Error("afterCreate failed");
    },
    beforeUpdate: ({ data, previous }) => {
      calls.push(["beforeUpdate", { data: { ...data }, previous: previous.title }]);
      if (data.title === "refused") throw new ApiError(409, "REFUSED", "Refused by beforeUpdate");
      return { ...data, edits: previous.edits + 1 };
    },
    afterUpdate: async ({ record, previous, system }) => {
      calls.push(["afterUpdate", [previous.title, record.title]]);
      await system.data.log.create({ event: `updated ${record.title}` });
      if (record.title === "fails after update") throw new Error("afterUpdate failed");
    },
    beforeDelete: ({ record }) => {
      calls.push(["beforeDelete", record.title]);
      if (record.title === "kept") throw new ApiError(409, "REFUSED", "Refused by beforeDelete");
    },
    afterDelete: async ({ record, system }) => {
      calls.push(["afterDelete", record.title]);
      await system.data.log.create({ event: `deleted ${record.title}` });
      if (record.title === "fails after delete") throw new Error("afterDelete failed");
    },
    afterCommit: (change) => {
      committed.push(change);
      if (failCommit) throw new Error("webhook down");
    },
  },
});

const log = collection("log", { fields: { event: field.text() }, access: open });

// A beforeCreate hook that changes nothing.
const notes = collection("notes", {
  fields: { text: field.text() },
  access: open,
  hooks: { beforeCreate: ({ data }) => data },
});

const collections = { users, posts, log, notes };

describeEachDatabase("hooks", (db) => {
  let backend: ReturnType<typeof createBackend<typeof collections, "sqlite" | "postgres">>;
  let close: () => Promise<void>;
  const logged: [string, Record<string, unknown> | undefined][] = [];
  let ann: Principal;

  const events = async () => (await backend.system.data.log.list({ orderBy: { event: "asc" } })).items.map((e) => e.event);
  const titles = async () => (await backend.system.data.posts.list({ orderBy: { title: "asc" } })).items.map((p) => p.title);
  const names = () => calls.map(([name]) => name);

  beforeAll(async () => {
    const fresh = await db.fresh();
    backend = createBackend({
      database: fresh.database,
      collections,
      logger: { error: (message, details) => void logged.push([message, details]) },
    });
    await backend.migrate();
    close = async () => {
      await backend.close();
      await fresh.drop();
    };
    ann = { id: (await backend.system.data.users.create({ name: "Ann" })).id, role: "member" };
  });
  afterAll(() => close());
  beforeEach(async () => {
    failCommit = false;
    // Around the hooks: they would refuse to delete some of the posts the tests leave.
    await backend.db.deleteFrom("posts").execute();
    await backend.db.deleteFrom("log").execute();
    calls.length = 0;
    committed.length = 0;
    logged.length = 0;
  });

  /** A post created by the system scope, with the hooks' traces cleared. */
  async function seed(title: string) {
    const post = await backend.system.data.posts.create({ title, slug: title.replaceAll(" ", "-"), author: ann.id });
    await backend.system.data.log.deleteMany({ where: {} });
    calls.length = 0;
    committed.length = 0;
    return post;
  }

  describe("beforeCreate", () => {
    test("gets the input with types checked but required fields not yet, and its result is what is created", async () => {
      const post = await backend.as(ann).data.posts.create({ title: "Hello World" } as never);
      expect(calls[0]).toEqual(["beforeCreate", { title: "Hello World" }]);
      expect(post).toMatchObject({ title: "Hello World", slug: "hello-world", author: ann.id, status: "draft" });
    });

    test("does not run when a field has the wrong type; the input is VALIDATION_FAILED", async () => {
      const error = await failure(backend.as(ann).data.posts.create({ title: 5 } as never));
      expect(error.issues.map((issue) => [issue.path.join("."), issue.code])).toEqual([["title", "invalid_type"]]);
      expect(calls).toEqual([]);
    });

    test("its result is validated in full", async () => {
      const error = await failure(backend.as(ann).data.posts.create({ title: "bad result" } as never));
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.issues.map((issue) => [issue.path.join("."), issue.code])).toEqual([["slug", "too_small"]]);
      expect(await titles()).toEqual([]);
    });

    test("a throw refuses the create: nothing is written and the error reaches the caller", async () => {
      const error = await failure(backend.as(ann).data.posts.create({ title: "refused" } as never));
      expect(error).toMatchObject({ status: 409, code: "REFUSED", message: "Refused by beforeCreate" });
      expect(names()).toEqual(["beforeCreate"]);
      expect(await titles()).toEqual([]);
      expect(committed).toEqual([]);
    });

    test("does not stop a create from giving its own id", async () => {
      const note = await backend.system.data.notes.create({ id: "note-1", text: "x" });
      expect(note.id).toBe("note-1");
    });
  });

  describe("after hooks", () => {
    test("run inside the write's transaction: their writes commit with it", async () => {
      await backend.as(ann).data.posts.create({ title: "Kept" } as never);
      expect(await events()).toEqual(["created Kept"]);
      expect(names()).toEqual(["beforeCreate", "afterCreate", "afterCommit fn"]);
    });

    test("a throw in afterCreate rolls back the create and the hook's writes", async () => {
      await expect(backend.as(ann).data.posts.create({ title: "fails after create" } as never)).rejects.toThrow("afterCreate failed");
      expect(await titles()).toEqual([]);
      expect(await events()).toEqual([]);
      expect(committed).toEqual([]);
      expect(names()).toEqual(["beforeCreate", "afterCreate"]);
    });

    test("a throw in an after hook rolls back the whole enclosing transaction", async () => {
      const outcome = backend.system.transaction(async (tx) => {
        await tx.data.posts.create({ title: "first", slug: "first", author: ann.id });
        await tx.data.posts.create({ title: "fails after create", slug: "x", author: ann.id });
      });
      await expect(outcome).rejects.toThrow("afterCreate failed");
      expect(await titles()).toEqual([]);
      expect(await events()).toEqual([]);
    });
  });

  describe("updates", () => {
    test("beforeUpdate gets the input and the previous record, and may change the input", async () => {
      const post = await seed("Draft");
      const updated = await backend.as(ann).data.posts.update(post.id, { title: "Final" });
      expect(calls.slice(0, 2)).toEqual([
        ["beforeUpdate", { data: { title: "Final" }, previous: "Draft" }],
        ["afterUpdate", ["Draft", "Final"]],
      ]);
      expect(updated).toMatchObject({ title: "Final", edits: 1 });
      expect((await backend.as(ann).data.posts.update(post.id, { status: "published" })).edits).toBe(2);
    });

    test("a throw in beforeUpdate leaves the record as it was", async () => {
      const post = await seed("Draft");
      const error = await failure(backend.as(ann).data.posts.update(post.id, { title: "refused" }));
      expect(error).toMatchObject({ code: "REFUSED", message: "Refused by beforeUpdate" });
      expect(await backend.system.data.posts.get(post.id)).toEqual(post);
      expect(committed).toEqual([]);
    });

    test("a throw in afterUpdate rolls the update back", async () => {
      const post = await seed("Draft");
      await expect(backend.as(ann).data.posts.update(post.id, { title: "fails after update" })).rejects.toThrow("afterUpdate failed");
      expect(await backend.system.data.posts.get(post.id)).toEqual(post);
      expect(await events()).toEqual([]);
    });

    test("updateMany runs the hooks once per record, each with its previous record", async () => {
      await seed("a");
      await seed("b");
      await seed("c");
      calls.length = 0;
      expect(await backend.system.data.posts.updateMany({ where: { title: { in: ["a", "b"] } }, data: { status: "published" } })).toEqual({
        count: 2,
      });
      const before = calls.filter(([name]) => name === "beforeUpdate").map(([, value]) => (value as { previous: string }).previous);
      expect(before.sort()).toEqual(["a", "b"]);
      expect(calls.filter(([name]) => name === "afterUpdate").length).toBe(2);
      expect(committed.map((change) => [change.operation, change.previous?.status, change.record.status, change.record.edits]).sort()).toEqual([
        ["update", "draft", "published", 1],
        ["update", "draft", "published", 1],
      ]);
      expect(await events()).toEqual(["updated a", "updated b"]);
    });

    test("a throw for one record of an updateMany rolls back every record", async () => {
      await seed("a");
      await seed("fails after update");
      await expect(backend.system.data.posts.updateMany({ where: {}, data: { status: "published" } })).rejects.toThrow(
        "afterUpdate failed",
      );
      expect(await backend.system.data.posts.count({ where: { status: "published" } })).toBe(0);
      expect(committed).toEqual([]);
    });
  });

  describe("deletes", () => {
    test("beforeDelete gets the record and may refuse the delete", async () => {
      const post = await seed("kept");
      const error = await failure(backend.as(ann).data.posts.delete(post.id));
      expect(error.code).toBe("REFUSED");
      expect(calls).toEqual([["beforeDelete", "kept"]]);
      expect(await titles()).toEqual(["kept"]);
    });

    test("a throw in afterDelete rolls the delete back", async () => {
      await seed("fails after delete");
      const [post] = (await backend.system.data.posts.list()).items;
      await expect(backend.as(ann).data.posts.delete(post!.id)).rejects.toThrow("afterDelete failed");
      expect(await titles()).toEqual(["fails after delete"]);
      expect(await events()).toEqual([]);
    });

    test("deleteMany runs the hooks once per record", async () => {
      await seed("x");
      await seed("y");
      expect(await backend.system.data.posts.deleteMany({ where: {} })).toEqual({ count: 2 });
      expect(calls.filter(([name]) => name === "beforeDelete").map(([, title]) => title).sort()).toEqual(["x", "y"]);
      expect(await events()).toEqual(["deleted x", "deleted y"]);
      expect(committed.map((change) => [change.operation, change.record.title, change.previous]).sort()).toEqual([
        ["delete", "x", null],
        ["delete", "y", null],
      ]);
    });

    test("a throw for one record of a deleteMany deletes none", async () => {
      await seed("x");
      await seed("kept");
      await failure(backend.system.data.posts.deleteMany({ where: {} }));
      expect(await titles()).toEqual(["kept", "x"]);
      expect(committed).toEqual([]);
    });
  });

  test("a caller's updateMany and deleteMany run the hooks per record too", async () => {
    await seed("x");
    await seed("y");
    expect(await backend.as(ann).data.posts.updateMany({ where: {}, data: { status: "published" } })).toEqual({ count: 2 });
    expect(await backend.as(ann).data.posts.deleteMany({ where: {} })).toEqual({ count: 2 });
    expect(names().filter((name) => name === "beforeDelete")).toHaveLength(2);
  });

  test("createMany runs the hooks once per record", async () => {
    await backend.as(ann).data.posts.createMany([{ title: "One" }, { title: "Two" }] as never);
    expect(names().filter((name) => name === "beforeCreate")).toHaveLength(2);
    expect(await events()).toEqual(["created One", "created Two"]);
    expect(committed.map((change) => change.record.slug)).toEqual(["one", "two"]);
  });

  describe("afterCommit", () => {
    test("gets the operation, the record, the previous record and the caller", async () => {
      const created = await backend.as(ann).data.posts.create({ title: "Post" } as never);
      const updated = await backend.as(ann).data.posts.update(created.id, { title: "Post 2" });
      await backend.system.data.posts.delete(created.id);
      expect(committed).toEqual([
        { operation: "create", record: created, previous: null, user: ann },
        { operation: "update", record: updated, previous: created, user: ann },
        { operation: "delete", record: updated, previous: null, user: null },
      ]);
    });

    test("gets the record as written: changing what the write returned, whole or selected, changes nothing it got", async () => {
      const whole = await backend.as(ann).data.posts.create({ title: "Whole" } as never);
      const picked = await backend.as(ann).data.posts.create({ title: "Picked" } as never, { select: ["id", "title"] });
      expect(Object.keys(picked).sort()).toEqual(["id", "title"]);
      whole.title = "changed";
      picked.title = "changed";
      expect(committed.map((change) => change.record.title)).toEqual(["Whole", "Picked"]);
      expect(committed[1]!.record.slug).toBe("picked");
    });

    test("runs only once the outermost transaction has committed, exactly once", async () => {
      await backend.system.transaction(async (tx) => {
        await tx.data.posts.create({ title: "in tx", slug: "in-tx", author: ann.id });
        await tx.transaction(async (inner) => {
          await inner.data.posts.create({ title: "nested", slug: "nested", author: ann.id });
        });
        expect(committed).toEqual([]);
        expect(names()).not.toContain("afterCommit fn");
      });
      expect(committed.map((change) => change.record.title)).toEqual(["in tx", "nested"]);
      expect(calls.filter(([name]) => name === "afterCommit fn")).toEqual([
        ["afterCommit fn", "in tx"],
        ["afterCommit fn", "nested"],
      ]);
    });

    test("never runs after a rollback", async () => {
      const outcome = backend.as(ann).transaction(async (tx) => {
        await tx.data.posts.create({ title: "rolled back" } as never);
        throw new Error("no");
      });
      await expect(outcome).rejects.toThrow("no");
      expect(committed).toEqual([]);
      expect(names()).not.toContain("afterCommit fn");
      expect(await titles()).toEqual([]);
    });

    test("a failure is reported to the logger and does not fail the write", async () => {
      failCommit = true;
      const post = await backend.as(ann).data.posts.create({ title: "Logged" } as never);
      expect(post.title).toBe("Logged");
      expect(await titles()).toEqual(["Logged"]);
      expect(logged).toHaveLength(1);
      expect(logged[0]![0]).toBe("An afterCommit handler failed; the transaction had committed.");
      expect((logged[0]![1]!["error"] as Error).message).toBe("webhook down");
      // The hook's own afterCommit function still ran.
      expect(names()).toContain("afterCommit fn");
    });
  });

  test("hooks get the caller: the principal, or null for the system scope", async () => {
    const seen: (Principal | null)[] = [];
    const watched = collection("watched", {
      fields: { n: field.integer() },
      access: open,
      hooks: { beforeCreate: ({ user }) => void seen.push(user), afterCommit: ({ user }) => void seen.push(user) },
    });
    const fresh = await db.fresh();
    const other = createBackend({ database: fresh.database, collections: { watched } });
    try {
      await other.migrate();
      await other.as(ann).data.watched.create({ n: 1 });
      await other.system.data.watched.create({ n: 2 });
      await other.as(null).data.watched.create({ n: 3 });
      expect(seen).toEqual([ann, ann, null, null, null, null]);
    } finally {
      await other.close();
      await fresh.drop();
    }
  });
});
