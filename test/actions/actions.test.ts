/**
 * Actions: input and output validation, the access rule, the handler's context, and one
 * transaction per outermost call (nested calls join it; a throw rolls back everything).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import {
  action,
  ApiError,
  collection,
  createBackend,
  field,
  type ActionContext,
  type Logger,
  type Principal,
  type RuleContext,
} from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

const visible = ({ user }: RuleContext) => (user ? { or: [{ published: true }, { author: user.id }] } : { published: true });

const users = collection("users", { fields: { name: field.text() }, access: { list: () => true, get: () => true } });

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    published: field.boolean().default(false),
    author: field.belongsTo("users"),
  },
  access: {
    list: visible,
    get: visible,
    create: ({ user }) => (user ? { author: user.id } : false),
    update: ({ user }) => (user ? { author: user.id } : false),
  },
  hooks: {
    // A hook's writes belong to the action's transaction too.
    afterCreate: async ({ record, system }) => {
      await system.data.log.create({ event: `hook: created ${record.title}` });
    },
  },
});

// No rules: only the system scope (and so `system` in a handler) writes it.
const log = collection("log", { fields: { event: field.text() } });

const collections = { users, posts, log };

/** What the handlers saw, for assertions. */
// Without a `Register` augmentation (which would reach every file of the type check), `data` and
// `system` in handlers and hooks are typed for any collection: the inputs of their writes are cast.
const seen: { contexts: ActionContext<unknown>[]; accessInputs: unknown[]; committed: string[] } = {
  contexts: [],
  accessInputs: [],
  committed: [],
};

const publish = action({
  input: z.object({ id: z.string() }),
  access: ({ user }) => user !== null,
  async handler({ input, data }) {
    const post = await data.posts.get(input.id);
    if (!post) throw new ApiError(404, "POST_NOT_FOUND", "No such post");
    if (post.published) throw new ApiError(409, "ALREADY_PUBLISHED", "Already published");
    return data.posts.update(post.id, { published: true });
  },
});

const rename = action({
  input: z.object({ id: z.string(), title: z.string() }),
  access: ({ user }) => user !== null,
  handler: ({ input, data }) => data.posts.update(input.id, { title: input.title }),
});

const inspect = action({
  input: z.object({ id: z.string().trim() }),
  access: ({ input }) => {
    seen.accessInputs.push(input);
    return true;
  },
  async handler(context) {
    seen.contexts.push(context as ActionContext<unknown>);
    return {
      mine: await context.data.posts.get(context.input.id),
      any: await context.system.data.posts.get(context.input.id),
    };
  },
});

const systemOnly = action({
  input: z.object({}),
  handler: ({ user }) => ({ user }),
});

const nobody = action({
  input: z.object({}),
  access: () => false,
  handler: () => "never",
});

const ownerOnly = action({
  input: z.object({ owner: z.string() }),
  access: ({ user, input }) => user?.id === input.owner,
  handler: ({ input }) => input.owner,
});

const summary = action({
  input: z.object({ id: z.string(), broken: z.boolean().default(false) }),
  output: z.object({ id: z.string(), title: z.string() }),
  access: () => true,
  async handler({ input, system }) {
    await system.data.log.create({ event: "summary" });
    if (input.broken) return { id: input.id, title: 42 };
    return system.data.posts.get(input.id);
  },
});

const note = action({
  input: z.object({ event: z.string() }),
  access: ({ user }) => user !== null,
  async handler({ input, system, afterCommit }) {
    afterCommit(() => {
      seen.committed.push(input.event);
    });
    return (await system.data.log.create({ event: input.event })).id;
  },
});

const write = action({
  input: z.object({ title: z.string(), fail: z.enum(["no", "after-writes", "after-note"]) }),
  access: ({ user }) => user !== null,
  async handler({ input, user, data, system, db, call, afterCommit }) {
    afterCommit(() => {
      seen.committed.push(`write ${input.title}`);
    });
    await data.posts.create({ title: input.title, author: user!.id });
    await system.data.log.create({ event: `system: ${input.title}` });
    await db.insertInto("log").values({ id: `db-${input.title}`, event: `db: ${input.title}`, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() }).execute();
    if (input.fail === "after-writes") throw new ApiError(409, "CHANGED_MIND", "Changed my mind");
    await call(note, { event: `note: ${input.title}` });
    if (input.fail === "after-note") throw new Error("after the inner action wrote");
    return "written";
  },
});

// The inner action refuses an empty event: a failure inside a nested call.
const strictNote = action({
  input: z.object({ event: z.string().min(1) }),
  access: () => true,
  handler: ({ input, system }) => system.data.log.create({ event: input.event }),
});

const callsForbidden = action({
  input: z.object({}),
  access: () => true,
  async handler({ call, system }) {
    await system.data.log.create({ event: "before the forbidden call" });
    return call(nobody, {});
  },
});

const callsStrict = action({
  input: z.object({ event: z.string() }),
  access: () => true,
  async handler({ input, call, system }) {
    await system.data.log.create({ event: "outer" });
    return call(strictNote, { event: input.event });
  },
});

const actions = { publish, rename, inspect, systemOnly, nobody, ownerOnly, summary, note, write, callsForbidden, callsStrict };

describeEachDatabase("actions", (db) => {
  let backend: ReturnType<typeof createBackend<typeof collections, "sqlite" | "postgres", typeof actions>>;
  let close: () => Promise<void>;
  const logged: [string, Record<string, unknown> | undefined][] = [];
  const logger: Logger = { error: (message, details) => void logged.push([message, details]) };
  let ann: Principal;
  let bob: Principal;
  let annDraft: string;

  const events = async () => (await backend.system.data.log.list({ orderBy: { event: "asc" } })).items.map((e) => e.event);

  beforeAll(async () => {
    const fresh = await db.fresh();
    backend = createBackend({ database: fresh.database, collections, actions, logger });
    await backend.migrate();
    close = async () => {
      await backend.close();
      await fresh.drop();
    };
    const { data } = backend.system;
    ann = { id: (await data.users.create({ name: "Ann" })).id, role: "member" };
    bob = { id: (await data.users.create({ name: "Bob" })).id, role: "member" };
  });
  afterAll(() => close());
  beforeEach(async () => {
    const { data } = backend.system;
    await data.posts.deleteMany({ where: {} });
    await data.log.deleteMany({ where: {} });
    annDraft = (await data.posts.create({ title: "Ann's draft", author: ann.id })).id;
    await data.log.deleteMany({ where: {} });
    seen.contexts = [];
    seen.accessInputs = [];
    seen.committed = [];
    logged.length = 0;
  });

  describe("input", () => {
    test("input the schema refuses is VALIDATION_FAILED with every issue, and the handler does not run", async () => {
      const error = await failure(backend.as(ann).actions.summary({ id: 5, broken: "yes" } as never));
      expect(error).toMatchObject({ status: 422, code: "VALIDATION_FAILED" });
      expect(error.issues.map((issue) => [issue.path.join("."), issue.code])).toEqual([
        ["id", "invalid_type"],
        ["broken", "invalid_type"],
      ]);
      expect(error.message).toMatch(/^Invalid input of summary: id: .+; broken: .+$/);
      expect(await events()).toEqual([]);
    });

    test("input is validated before the access rule, which gets the parsed input", async () => {
      const anon = await failure(backend.as(null).actions.publish({} as never));
      expect(anon.code).toBe("VALIDATION_FAILED");
      await backend.as(bob).actions.inspect({ id: `  ${annDraft}  ` });
      expect(seen.accessInputs).toEqual([{ id: annDraft }]);
      expect(seen.contexts[0]!.input).toEqual({ id: annDraft });
    });
  });

  describe("access", () => {
    test("an action without an access rule is for the system scope only", async () => {
      expect(await failure(backend.as(null).actions.systemOnly({}))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
      expect(await failure(backend.as({ id: "root", role: "admin" }).actions.systemOnly({}))).toMatchObject({
        status: 403,
        code: "FORBIDDEN",
      });
      expect(await backend.system.actions.systemOnly({})).toEqual({ user: null });
    });

    test("a rule that says no is UNAUTHORIZED for anonymous callers and FORBIDDEN for signed-in ones", async () => {
      const anon = await failure(backend.as(null).actions.publish({ id: annDraft }));
      expect(anon).toMatchObject({ status: 401, code: "UNAUTHORIZED", message: "You may not call publish. Sign in first." });
      const member = await failure(backend.as(bob).actions.nobody({}));
      expect(member).toMatchObject({ status: 403, code: "FORBIDDEN", message: "You may not call nobody." });
      expect(await backend.system.actions.nobody({})).toBe("never");
    });

    test("a rule may decide on the input", async () => {
      expect(await backend.as(ann).actions.ownerOnly({ owner: ann.id })).toBe(ann.id);
      expect(await failure(backend.as(bob).actions.ownerOnly({ owner: ann.id }))).toMatchObject({ status: 403 });
    });
  });

  describe("handler", () => {
    test("gets the caller, its data under its rules, the system scope and no request in-process", async () => {
      const result = await backend.as(bob).actions.inspect({ id: annDraft });
      expect(result.mine).toBeNull(); // Bob may not see Ann's draft
      expect(result.any).toMatchObject({ id: annDraft, title: "Ann's draft" });
      const context = seen.contexts[0]!;
      expect(context.user).toEqual(bob);
      expect(context.request).toBeUndefined();
      const own = await backend.as(ann).actions.inspect({ id: annDraft });
      expect(own.mine).toMatchObject({ id: annDraft });
      await backend.system.actions.inspect({ id: annDraft });
      expect(seen.contexts[2]!.user).toBeNull();
    });

    test("its context lists every member, as an object would", async () => {
      await backend.as(bob).actions.inspect({ id: annDraft });
      const listed: string[] = [];
      for (const key in seen.contexts[0]!) listed.push(key);
      expect(listed.sort()).toEqual(["afterCommit", "auth", "call", "data", "db", "enqueue", "input", "request", "system", "user"]);
    });

    test("returns the handler's result; an ApiError it throws reaches the caller as it is", async () => {
      const published = await backend.as(ann).actions.publish({ id: annDraft });
      expect(published).toMatchObject({ id: annDraft, published: true });
      const again = await failure(backend.as(ann).actions.publish({ id: annDraft }));
      expect(again).toMatchObject({ status: 409, code: "ALREADY_PUBLISHED", message: "Already published" });
      const hidden = await failure(backend.as(bob).actions.publish({ id: (await backend.system.data.posts.create({ title: "Draft 2", author: ann.id })).id }));
      expect(hidden).toMatchObject({ status: 404, code: "POST_NOT_FOUND" });
    });

    test("the caller's rules apply to the handler's data: a forbidden write fails the action", async () => {
      const post = await backend.system.data.posts.create({ title: "Ann's post", author: ann.id, published: true });
      const error = await failure(backend.as(bob).actions.rename({ id: post.id, title: "Bob's now" }));
      expect(error).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await failure(backend.as(bob).actions.rename({ id: annDraft, title: "Bob's now" }))).toMatchObject({ status: 404 });
      expect(await backend.as(ann).actions.rename({ id: post.id, title: "Ann's post, renamed" })).toMatchObject({
        title: "Ann's post, renamed",
      });
    });
  });

  describe("output", () => {
    test("the result is parsed with the output schema", async () => {
      const result = await backend.as(ann).actions.summary({ id: annDraft });
      expect(result).toEqual({ id: annDraft, title: "Ann's draft" }); // other fields stripped
    });

    test("a result the output schema refuses is a server error, and rolls back the handler's writes", async () => {
      const error = await backend.as(ann).actions.summary({ id: annDraft, broken: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(ApiError);
      expect((error as Error).message).toMatch(/^The action summary returned a value its output schema refuses: /);
      expect(await events()).toEqual([]);
    });
  });

  describe("transactions", () => {
    test("a successful action commits its writes through data, system, db, nested calls and hooks", async () => {
      expect(await backend.as(ann).actions.write({ title: "A", fail: "no" })).toBe("written");
      expect(await events()).toEqual(["db: A", "hook: created A", "note: A", "system: A"]);
      expect(await backend.system.data.posts.count({ where: { title: "A" } })).toBe(1);
    });

    test("a throw rolls back everything the handler and the hooks wrote", async () => {
      const error = await failure(backend.as(ann).actions.write({ title: "B", fail: "after-writes" }));
      expect(error).toMatchObject({ status: 409, code: "CHANGED_MIND" });
      expect(await events()).toEqual([]);
      expect(await backend.system.data.posts.count({ where: { title: "B" } })).toBe(0);
    });

    test("an error in the outer action after a nested call wrote rolls back both", async () => {
      await expect(backend.as(ann).actions.write({ title: "C", fail: "after-note" })).rejects.toThrow("after the inner action wrote");
      expect(await events()).toEqual([]);
      expect(await backend.system.data.posts.count()).toBe(1);
    });

    test("a failure in a nested call rolls back the outer action's writes", async () => {
      const invalid = await failure(backend.as(ann).actions.callsStrict({ event: "" }));
      expect(invalid.code).toBe("VALIDATION_FAILED");
      const forbidden = await failure(backend.as(ann).actions.callsForbidden({}));
      expect(forbidden).toMatchObject({ status: 403, code: "FORBIDDEN" });
      expect(await events()).toEqual([]);
      expect(await backend.as(ann).actions.callsStrict({ event: "inner" })).toMatchObject({ event: "inner" });
      expect(await events()).toEqual(["inner", "outer"]);
    });

    test("actions called through scope.transaction join it: a later throw rolls them back", async () => {
      const outcome = backend.as(ann).transaction(async (tx) => {
        await tx.actions.note({ event: "in a transaction" });
        await tx.data.posts.create({ title: "in a transaction", author: ann.id });
        expect(seen.committed).toEqual([]);
        throw new Error("roll back");
      });
      await expect(outcome).rejects.toThrow("roll back");
      expect(await events()).toEqual([]);
      expect(await backend.system.data.posts.count()).toBe(1);
      expect(seen.committed).toEqual([]);
      await backend.as(ann).transaction(async (tx) => {
        await tx.actions.note({ event: "one" });
        await tx.actions.note({ event: "two" });
        expect(seen.committed).toEqual([]);
      });
      expect(await events()).toEqual(["one", "two"]);
      expect(seen.committed).toEqual(["one", "two"]);
    });

    test("the system scope's transaction runs actions as the system", async () => {
      await backend.system.transaction(async (tx) => {
        expect(await tx.actions.systemOnly({})).toEqual({ user: null });
      });
    });
  });

  describe("afterCommit", () => {
    test("runs once, after the outermost transaction commits, for the action and its nested calls", async () => {
      await backend.as(ann).actions.write({ title: "D", fail: "no" });
      expect(seen.committed).toEqual(["write D", "note: D"]);
    });

    test("never runs after a rollback", async () => {
      await expect(backend.as(ann).actions.write({ title: "E", fail: "after-note" })).rejects.toThrow();
      await failure(backend.as(ann).actions.write({ title: "F", fail: "after-writes" }));
      expect(seen.committed).toEqual([]);
    });

    test("a failing handler is reported to the logger and does not fail the action", async () => {
      const failing = action({
        input: z.object({}),
        handler: ({ afterCommit, system }) => {
          afterCommit(() => {
            throw new Error("mail server down");
          });
          afterCommit(() => {
            seen.committed.push("second");
          });
          return system.data.log.create({ event: "kept" });
        },
      });
      const fresh = await db.fresh();
      const records: [string, Record<string, unknown> | undefined][] = [];
      const other = createBackend({
        database: fresh.database,
        collections,
        actions: { failing },
        logger: { error: (message, details) => void records.push([message, details]) },
      });
      try {
        await other.migrate();
        expect(await other.system.actions.failing({})).toMatchObject({ event: "kept" });
        expect(records).toEqual([["An afterCommit handler failed; the transaction had committed.", { error: new Error("mail server down") }]]);
        expect((records[0]![1]!["error"] as Error).message).toBe("mail server down");
        expect(seen.committed).toEqual(["second"]);
        expect(await other.system.data.log.count()).toBe(1);
      } finally {
        await other.close();
        await fresh.drop();
      }
      expect(logged).toEqual([]);
    });
  });
});
