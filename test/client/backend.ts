/**
 * The backend the client suites talk to: users with a hidden field, posts (realtime) and comments
 * with rules, and actions with and without HTTP bindings of their own.
 */
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, usersCollection, type DatabaseAdapter, type Mailer, type Principal } from "cimiento";
import { fastHasher } from "../auth/support.js";

function visiblePosts(user: Principal | null) {
  return user ? { or: [{ published: true }, { author: user.id }] } : { published: true };
}

export const users = usersCollection({
  fields: {
    name: field.text(z.string().min(1)),
    secret: field.text().optional().hidden(),
  },
  access: { list: () => true, get: () => true, update: ({ user }) => (user ? { id: user.id } : false) },
});

export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    slug: field.text(z.string().regex(/^[a-z0-9-]+$/)).unique(),
    body: field.text().optional(),
    published: field.boolean().default(false),
    rank: field.integer().default(0),
    publishedAt: field.datetime().optional(),
    tags: field.json(z.array(z.string())).default([]),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
    comments: field.hasMany("comments", { on: "post" }),
  },
  realtime: true,
  access: {
    list: ({ user }) => visiblePosts(user),
    get: ({ user }) => visiblePosts(user),
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),
    delete: ({ user }) => (user ? { author: user.id } : false),
  },
  hooks: { beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data) },
});

export const comments = collection("comments", {
  fields: {
    body: field.text(z.string().min(1)),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  access: {
    list: ({ user }) => ({ post: visiblePosts(user) }),
    get: ({ user }) => ({ post: visiblePosts(user) }),
    create: ({ user }) => (user ? { post: visiblePosts(user) } : false),
  },
  hooks: { beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data) },
});

/** `POST /posts/:id/publish` (201): the author publishes a post. */
export const publish = action({
  input: z.object({ id: z.string(), at: z.coerce.date().optional() }),
  http: { method: "POST", path: "/posts/:id/publish", status: 201 },
  access: ({ user }) => user !== null,
  async handler({ input, data }) {
    const post = await data.posts.update(input.id, { published: true, publishedAt: input.at ?? new Date() });
    return { id: post.id as string, published: true as boolean, publishedAt: post["publishedAt"] as Date };
  },
});

/** `GET /stats/:published?minRank=n`: counts posts, with query and path parameters. */
export const stats = action({
  input: z.object({ published: z.enum(["true", "false"]), minRank: z.coerce.number().int().optional(), tag: z.array(z.string()).optional() }),
  http: { method: "GET", path: "/stats/:published" },
  access: () => true,
  async handler({ input, system }) {
    const where = { published: input.published === "true", ...(input.minRank === undefined ? {} : { rank: { gte: input.minRank } }) };
    return { count: await system.data.posts.count({ where }), tags: input.tag ?? [] };
  },
});

/** `DELETE /posts/:id/tags`: clears a post's tags and returns nothing (204). */
export const clearTags = action({
  input: z.object({ id: z.string() }),
  http: { method: "DELETE", path: "/posts/:id/tags" },
  access: ({ user }) => user !== null,
  async handler({ input, data }) {
    await data.posts.update(input.id, { tags: [] });
  },
});

/** No binding: `POST /actions/double` only; its output schema gives the output type. */
export const double = action({
  input: z.object({ n: z.number().int() }),
  output: z.object({ n: z.number(), doubled: z.number(), by: z.string().nullable() }),
  access: () => true,
  handler: ({ input, user }) => ({ n: input.n, doubled: input.n * 2, by: user?.id ?? null }),
});

/** Fails with a code of the host's own. */
export const refuse = action({
  input: z.object({}),
  access: () => true,
  handler: (): never => {
    throw new ApiError(409, "ALREADY_DONE", "This was done already.", { when: "yesterday" });
  },
});

export const collections = { users, posts, comments };
export const actions = { publish, stats, clearTags, double, refuse };

/**
 * The backend on `database`, sign-up without e-mail verification (so it signs in at once), mailing
 * with `mailer`; posts are realtime, and subscriptions check their sessions every 100 ms.
 */
export function clientBackend<D extends "sqlite" | "postgres">(database: DatabaseAdapter<D>, mailer?: Mailer) {
  return createBackend({
    database,
    collections,
    actions,
    realtime: { sessionCheckInterval: 100, pollInterval: 200 },
    auth: { password: { requireEmailVerification: false, hasher: fastHasher }, rateLimit: false, ...(mailer === undefined ? {} : { mailer }) },
  });
}

export type ClientBackend = ReturnType<typeof clientBackend<"sqlite">>;
