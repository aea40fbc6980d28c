/**
 * docs/actions.md runs: its examples, verbatim, with checks of what the page says they do (see
 * page-examples.ts).
 */
import { check, describePage, example, type Part } from "./page-examples.js";

const program: readonly Part[] = [
  example(`import { z } from "zod";
import { action, ApiError, collection, createBackend, field, type RuleContext } from "cimiento";

const outbox: string[] = []; // stands in for an e-mail service

const visible = ({ user }: RuleContext) =>
  user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] };

const users = collection("users", {
  fields: { name: field.text(z.string().min(1)), postCount: field.integer().default(0).readOnly() },
  access: { get: () => true },
});

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    slug: field.text(z.string().regex(/^[a-z0-9-]+$/)).unique().readOnly(),
    published: field.boolean().default(false),
    author: field.belongsTo("users").readOnly(),
  },
  access: {
    list: visible,
    get: visible,
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),
  },
  hooks: {
    // Gets the input as sent (types checked, required fields not yet). author and slug are
    // readOnly: callers may not send them, and this hook sets them.
    beforeCreate: ({ data, user }) => ({
      ...data,
      author: user?.id ?? data.author,
      slug: data.slug ?? data.title?.toLowerCase().replaceAll(" ", "-"),
    }),
    // In the write's transaction: if this throws, the post is not created either.
    afterCreate: async ({ record, system }) => {
      const author = await system.data.users.get(record.author);
      await system.data.users.update(record.author, { postCount: author!.postCount + 1 });
    },
    beforeUpdate: ({ data, previous }) => {
      if (data.title === undefined) return; // the input as it is
      if (previous.published) throw new ApiError(409, "TITLE_FROZEN", "A published post keeps its title");
      return { ...data, slug: data.title.toLowerCase().replaceAll(" ", "-") };
    },
    // Once the outermost transaction has committed; never after a rollback.
    afterCommit: ({ operation, record, previous }) => {
      if (operation === "update" && record.published && !previous?.published) {
        outbox.push("published: " + record.title);
      }
    },
  },
});

declare module "cimiento" {
  interface Register {
    collections: { users: typeof users; posts: typeof posts };
  }
}
`),
  example(`const publish = action({
  input: z.object({ id: z.string() }),
  access: ({ user }) => user !== null,
  async handler({ input, data }) {
    const post = await data.posts.get(input.id); // null: the caller cannot see it
    if (!post) throw new ApiError(404, "POST_NOT_FOUND", "No such post");
    if (post.published) throw new ApiError(409, "ALREADY_PUBLISHED", "Already published");
    return data.posts.update(post.id, { published: true }); // the caller's update rule applies
  },
});

const postSummary = action({
  input: z.object({ id: z.string() }),
  output: z.object({ title: z.string(), author: z.string() }),
  access: () => true,
  async handler({ input, data }) {
    const post = await data.posts.get(input.id, { include: { author: true } });
    if (!post) throw new ApiError(404, "POST_NOT_FOUND", "No such post");
    return { title: post.title, author: post.author?.name ?? "someone", slug: post.slug }; // slug: dropped
  },
});

// No access rule: only the system scope may run it.
const recount = action({
  input: z.object({ userId: z.string() }),
  async handler({ input, system }) {
    const postCount = await system.data.posts.count({ where: { author: input.userId } });
    return system.data.users.update(input.userId, { postCount });
  },
});

const notify = action({
  input: z.object({ userId: z.string(), text: z.string() }),
  access: ({ user }) => user !== null,
  handler({ input, afterCommit }) {
    afterCommit(() => {
      outbox.push(input.userId + ": " + input.text); // sent once everything has committed
    });
  },
});

const publishMany = action({
  input: z.object({ ids: z.array(z.string()).min(1) }),
  access: ({ user }) => user !== null,
  async handler({ input, user, call, request }) {
    for (const id of input.ids) await call(publish, { id }); // the same caller, the same transaction
    await call(notify, { userId: user!.id, text: input.ids.length + " published" });
    return { count: input.ids.length, overHttp: request !== undefined };
  },
});

const ping = action({
  input: z.object({}),
  handler({ afterCommit }) {
    afterCommit(() => {
      throw new Error("the mail server is down");
    });
    return "pong";
  },
});
`),
  example(`const reported: string[] = [];
const backend = createBackend({
  database,
  collections: { users, posts },
  actions: { publish, postSummary, recount, notify, publishMany, ping },
  logger: { error: (message) => reported.push(message) }, // console by default
});
await backend.migrate();

const ada = await backend.system.data.users.create({ name: "Ada" });
const asAda = backend.as({ id: ada.id, role: "member" });
const hello = await asAda.data.posts.create({ title: "Hello World" }); // slug "hello-world", from beforeCreate

const published = await asAda.actions.publish({ id: hello.id }); // the post, as Ada reads it
const summary = await backend.as(null).actions.postSummary({ id: hello.id }); // { title: "Hello World", author: "Ada" }

const again = await asAda.actions.publish({ id: hello.id }).catch((error: ApiError) => error.code); // "ALREADY_PUBLISHED"
const anonymous = await backend.as(null).actions.publish({ id: hello.id }).catch((error: ApiError) => error.code); // "UNAUTHORIZED"
// @ts-expect-error: id is a string
const badInput = await asAda.actions.publish({ id: 42 }).catch((error: ApiError) => error.issues);
// [{ path: ["id"], code: "invalid_type", message: "..." }]
const notAllowed = await asAda.actions.recount({ userId: ada.id }).catch((error: ApiError) => error.code); // "FORBIDDEN"
const recounted = await backend.system.actions.recount({ userId: ada.id }); // { ..., postCount: 1 }
`),
  check(`track(backend);
expect(hello).toMatchObject({ title: "Hello World", slug: "hello-world", author: ada.id, published: false });
expect(published).toMatchObject({ id: hello.id, title: "Hello World", published: true });
expect(summary).toEqual({ title: "Hello World", author: "Ada" });
expect(again).toBe("ALREADY_PUBLISHED");
expect(anonymous).toBe("UNAUTHORIZED");
expect(badInput).toMatchObject([{ path: ["id"], code: "invalid_type" }]);
expect(notAllowed).toBe("FORBIDDEN");
expect(recounted).toMatchObject({ id: ada.id, name: "Ada", postCount: 1 });
expect(outbox).toEqual(["published: Hello World"]);
// The types of the calls: the handler's result, or the output schema's.
const publishedType: { id: string; published: boolean; slug: string } = published;
const summaryType: { title: string; author: string } = summary;
// @ts-expect-error: the output schema has no slug
void summary.slug;
void [publishedType, summaryType];
`),
  example(`const second = await asAda.data.posts.create({ title: "Second post" });
const failed = await asAda.actions.publishMany({ ids: [second.id, hello.id] }).catch((error: ApiError) => error.code);
// "ALREADY_PUBLISHED": hello was. The second post's publishing is rolled back with it, and nothing is sent.
const secondAfterwards = await backend.system.data.posts.get(second.id); // published: false

const done = await asAda.actions.publishMany({ ids: [second.id] }); // { count: 1, overHttp: false }
// outbox gets "published: Second post" (the posts' afterCommit hook), then ada.id + ": 1 published"

const abandoned = await asAda
  .transaction(async (tx) => {
    const third = await tx.data.posts.create({ title: "Third post" });
    await tx.actions.publish({ id: third.id }); // joins this transaction
    throw new Error("changed my mind");
  })
  .catch((error: Error) => error.message);
// "changed my mind": neither the third post nor its publishing is kept, nor Ada's postCount of it
`),
  check(`expect(failed).toBe("ALREADY_PUBLISHED");
expect(secondAfterwards).toMatchObject({ title: "Second post", published: false });
expect(done).toEqual({ count: 1, overHttp: false });
expect(abandoned).toBe("changed my mind");
expect(outbox).toEqual(["published: Hello World", "published: Second post", ada.id + ": 1 published"]);
expect((await backend.system.data.posts.list({ orderBy: { title: "asc" } })).items.map((post) => post.title)).toEqual([
  "Hello World",
  "Second post",
]);
`),
  example(`// @ts-expect-error: title is a string
const wrongType = await asAda.data.posts.create({ title: 5 }).catch((error: ApiError) => error.issues);
// [{ path: ["title"], code: "invalid_type", ... }]: refused before beforeCreate runs
const badSlug = await asAda.data.posts.create({ title: "Hello, World!" }).catch((error: ApiError) => error.issues);
// [{ path: ["slug"], code: "invalid_format", ... }]: the slug beforeCreate made is validated
const frozen = await asAda.data.posts.update(hello.id, { title: "Hello" }).catch((error: ApiError) => error.code);
// "TITLE_FROZEN": beforeUpdate refused, nothing written
const adaNow = await backend.system.data.users.get(ada.id); // postCount: 2, counted by afterCreate
`),
  check(`expect(wrongType).toMatchObject([{ path: ["title"], code: "invalid_type" }]);
expect(badSlug).toMatchObject([{ path: ["slug"], code: "invalid_format" }]);
expect(frozen).toBe("TITLE_FROZEN");
expect(adaNow!.postCount).toBe(2);
expect(await backend.system.data.posts.get(hello.id)).toMatchObject({ title: "Hello World", slug: "hello-world" });
expect(await backend.system.data.posts.count()).toBe(2);
`),
  example(`const pong = await backend.system.actions.ping({}); // "pong": the failure was reported, not thrown
// reported: ["An afterCommit handler failed; the transaction had committed."]
`),
  check(`expect(pong).toBe("pong");
expect(reported).toEqual(["An afterCommit handler failed; the transaction had committed."]);
`),
  example(`import { defineErrors, ERROR_CODES, toApiError } from "cimiento";

const errors = defineErrors({ POST_NOT_FOUND: 404, ALREADY_PUBLISHED: 409 });
const notFound = errors.POST_NOT_FOUND("No such post"); // an ApiError: status 404, code "POST_NOT_FOUND"
const forbiddenStatus = ERROR_CODES.FORBIDDEN; // 403
const shown = toApiError(new Error("connect ECONNREFUSED 10.0.0.3:5432"));
// status 500, code "INTERNAL", message "Something went wrong on our side."
`),
  check(`expect(notFound).toBeInstanceOf(ApiError);
expect(notFound).toMatchObject({ status: 404, code: "POST_NOT_FOUND", message: "No such post" });
const code: "POST_NOT_FOUND" = notFound.code;
expect(forbiddenStatus).toBe(403);
expect(shown).toBeInstanceOf(ApiError);
expect(shown).toMatchObject({ status: 500, code: "INTERNAL", message: "Something went wrong on our side." });
expect(shown.message).not.toContain("10.0.0.3");
void code;
`),
];

describePage("docs/actions.md", program);
