import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";
import {
  action,
  collection,
  createBackend,
  field,
  type ActionInput,
  type ActionOutput,
  type CreateInput,
  type Infer,
  type Principal,
  type Readable,
  type UpdateInput,
} from "cimiento";
import type { LooseRecord } from "cimiento/types";
import { sqlite } from "cimiento/sqlite";

const users = collection("users", {
  fields: {
    name: field.text(),
    email: field.text().access({ read: ({ user }) => user?.role === "admin" }),
    passwordHash: field.text().optional().hidden(),
    karma: field.integer().default(0).readOnly(),
    salary: field.number().optional().access({ write: ({ user }) => user?.role === "hr" }),
  },
  access: { list: () => true, get: () => true },
});

const posts = collection("posts", {
  fields: {
    title: field.text(),
    draftNotes: field.text().optional().hidden(),
    views: field.integer().default(0).readOnly(),
    author: field.belongsTo("users"),
    editor: field.belongsTo("users").optional(),
    slug: field.text().readOnly(),
  },
});

const comments = collection("comments", {
  fields: { body: field.text(), post: field.belongsTo("posts") },
});

const collections = { users, posts, comments };

const publish = action({
  input: z.object({ id: z.string() }),
  access: ({ user }) => user !== null,
  async handler({ input }) {
    return { id: input.id, published: true as const };
  },
});

const summary = action({
  input: z.object({ id: z.string(), full: z.boolean().default(false) }),
  output: z.object({ id: z.string(), words: z.number().transform(String) }),
  handler: ({ input }) => ({ id: input.id, words: 3, extra: "dropped" }),
});

const ping = action({ input: z.object({}), handler: () => "pong" });

const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections, actions: { publish, summary, ping } });
const caller = backend.as({ id: "u1", role: "member" });

type CallerUser = {
  id: string;
  name: string;
  email?: string;
  karma: number;
  salary: number | null;
  createdAt: Date;
  updatedAt: Date;
};

describe("what callers read", () => {
  test("hidden fields are left out and fields with a read rule are optional", async () => {
    const page = await caller.data.users.list();
    expectTypeOf(page.items).toEqualTypeOf<CallerUser[]>();
    expectTypeOf(page.items[0]!).not.toHaveProperty("passwordHash");
    expectTypeOf(await caller.data.users.get("u1")).toEqualTypeOf<CallerUser | null>();
    expectTypeOf<Readable<typeof users>>().toEqualTypeOf<CallerUser>();
  });

  test("writes return the record as the caller reads it", async () => {
    const created = await caller.data.users.create({ name: "n", email: "e" });
    expectTypeOf(created).toEqualTypeOf<CallerUser>();
    expectTypeOf(await caller.data.users.update("u1", { name: "m" })).toEqualTypeOf<CallerUser>();
    expectTypeOf(await caller.data.users.delete("u1")).toEqualTypeOf<CallerUser>();
    expectTypeOf(
      await caller.data.users.upsert({ where: { id: "u1" }, create: { name: "n", email: "e" }, update: {} }),
    ).toEqualTypeOf<CallerUser>();
  });

  test("a to-one include is nullable for callers, even when the belongsTo is required", async () => {
    const page = await caller.data.posts.list({ include: { author: true, editor: { select: ["name"] } } });
    const post = page.items[0]!;
    expectTypeOf(post.author).toEqualTypeOf<CallerUser | null>();
    expectTypeOf(post.editor).toEqualTypeOf<{ id: string; name: string } | null>();
    expectTypeOf(post).not.toHaveProperty("draftNotes");
    const comment = await caller.data.comments.get("c1", { include: { post: { include: { author: true } } } });
    expectTypeOf(comment!.post).toEqualTypeOf<{
      id: string;
      title: string;
      views: number;
      editor: string | null;
      slug: string;
      createdAt: Date;
      updatedAt: Date;
      author: CallerUser | null;
    } | null>();
  });

  test("to-many includes are arrays of what the caller reads", async () => {
    const post = await caller.data.posts.get("p1", { include: { comments: true } });
    expectTypeOf(post!.comments).toEqualTypeOf<Readable<typeof comments>[]>();
  });
});

describe("what callers write", () => {
  test("create and update inputs leave out readOnly and hidden fields", () => {
    expectTypeOf<CreateInput<typeof posts, "caller">>().toEqualTypeOf<{
      title: string;
      author: string;
      editor?: string | null;
    }>();
    expectTypeOf<UpdateInput<typeof users, "caller">>().toEqualTypeOf<{
      name?: string;
      email?: string;
      salary?: number | null;
    }>();
    // @ts-expect-error: views is readOnly
    void caller.data.posts.create({ title: "t", author: "u", views: 3 });
    // @ts-expect-error: karma is readOnly
    void caller.data.users.update("u1", { karma: 1 });
    // @ts-expect-error: karma is readOnly
    void caller.data.users.updateMany({ where: {}, data: { karma: 1 } });
    // A required readOnly field is not asked of callers: a hook fills it.
    void caller.data.posts.create({ title: "t", author: "u" });
  });

  test("a caller's create input has an id only where the collection allows client ids", () => {
    const drafts = collection("drafts", { fields: { body: field.text() }, clientIds: true });
    const notes = collection("notes", { fields: { body: field.text() }, clientIds: false });
    expectTypeOf<CreateInput<typeof drafts, "caller">>().toEqualTypeOf<{ body: string; id?: string }>();
    expectTypeOf<CreateInput<typeof notes, "caller">>().toEqualTypeOf<{ body: string }>();
    expectTypeOf<CreateInput<typeof comments, "caller">>().toEqualTypeOf<{ body: string; post: string }>();
    // The system scope chooses ids in every collection, and may import timestamps.
    expectTypeOf<CreateInput<typeof comments>>().toEqualTypeOf<{
      body: string;
      post: string;
      id?: string;
      createdAt?: Date | string;
      updatedAt?: Date | string;
    }>();
    expectTypeOf<CreateInput<typeof notes>>().toEqualTypeOf<{ body: string; id?: string; createdAt?: Date | string; updatedAt?: Date | string }>();
    // @ts-expect-error: callers do not choose the ids of posts
    void caller.data.posts.create({ id: "p1", title: "t", author: "u" });
    // @ts-expect-error: nor in createMany
    void caller.data.comments.createMany([{ id: "c1", body: "b", post: "p1" }]);
    void backend.system.data.posts.create({ id: "p1", title: "t", author: "u", slug: "s" });
  });
});

describe("the system scope", () => {
  test("reads every field, and its to-one includes are not nullable", async () => {
    expectTypeOf(await backend.system.data.users.get("u1")).toEqualTypeOf<Infer<typeof users> | null>();
    const page = await backend.system.data.posts.list({ include: { author: true } });
    expectTypeOf(page.items[0]!.author).toEqualTypeOf<Infer<typeof users>>();
    expectTypeOf(page.items[0]!.draftNotes).toEqualTypeOf<string | null>();
  });

  test("writes readOnly fields", () => {
    expectTypeOf<{ title: string; author: string; slug: string; views: number }>().toExtend<CreateInput<typeof posts>>();
    void backend.system.data.posts.create({ title: "t", author: "u", slug: "s", views: 3 });
    // @ts-expect-error: for the system scope, a required readOnly field is required
    void backend.system.data.posts.create({ title: "t", author: "u" });
  });
});

describe("actions", () => {
  test("a call takes the input schema's input and returns the handler's result", () => {
    expectTypeOf(caller.actions.publish).parameter(0).toEqualTypeOf<{ id: string }>();
    expectTypeOf(caller.actions.publish({ id: "p1" })).resolves.toEqualTypeOf<{ id: string; published: true }>();
    expectTypeOf(backend.system.actions.ping({})).resolves.toEqualTypeOf<string>();
    // @ts-expect-error: id is a string
    void caller.actions.publish({ id: 1 });
    // @ts-expect-error: not an action of the backend
    void caller.actions.unpublish({ id: "p1" });
  });

  test("with an output schema, a call returns the schema's output; input defaults are optional", () => {
    expectTypeOf(caller.actions.summary).parameter(0).toEqualTypeOf<{ id: string; full?: boolean | undefined }>();
    expectTypeOf(caller.actions.summary({ id: "p1" })).resolves.toEqualTypeOf<{ id: string; words: string }>();
    expectTypeOf<ActionInput<typeof summary>>().toEqualTypeOf<{ id: string; full?: boolean | undefined }>();
    expectTypeOf<ActionOutput<typeof summary>>().toEqualTypeOf<{ id: string; words: string }>();
  });

  test("the handler gets the parsed input and the caller", () => {
    action({
      input: z.object({ n: z.string().transform(Number) }),
      access: ({ input, user }) => {
        expectTypeOf(input).toEqualTypeOf<{ n: number }>();
        expectTypeOf(user).toEqualTypeOf<Principal | null>();
        return true;
      },
      handler: ({ input, user, request }) => {
        expectTypeOf(input).toEqualTypeOf<{ n: number }>();
        expectTypeOf(user).toEqualTypeOf<Principal | null>();
        expectTypeOf(request).toEqualTypeOf<Request | undefined>();
      },
    });
  });

  test("a transaction's scope calls the actions with the same types", async () => {
    await caller.transaction(async (tx) => {
      expectTypeOf(tx.actions.publish({ id: "p1" })).resolves.toEqualTypeOf<{ id: string; published: true }>();
    });
  });

  test("without a Register declaration, `data` and `system` in handlers are typed for any collection", () => {
    action({
      input: z.object({}),
      async handler({ system, data }) {
        await system.data.log.create({ event: "x" });
        const post = await data.posts.get("p1");
        expectTypeOf(post).toEqualTypeOf<LooseRecord | null>();
        expectTypeOf(post!.title).toBeUnknown();
        expectTypeOf(post!.id).toEqualTypeOf<string>();
        // @ts-expect-error: an id is still a string
        await data.posts.create({ id: 3 });
      },
    });
  });
});
