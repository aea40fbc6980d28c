/**
 * The quickstart's data model: a small blog with users, posts and comments, its access rules,
 * and one action with an HTTP route of its own. The Express and Hono examples use it too.
 */
import { z } from "zod";
import { action, ApiError, collection, field, userFields, usersCollection, type Principal } from "cimiento";

/** Anonymous callers see published posts; signed-in ones also their own drafts. */
function visiblePosts(user: Principal | null) {
  return user ? { or: [{ published: true }, { author: user.id }] } : { published: true };
}

// The accounts of built-in auth: email, role and emailVerified are built in.
export const users = usersCollection({
  fields: {
    name: field.text(z.string().min(1).max(100)),
    email: userFields.email.hidden(), // never leaves the backend
  },
  access: { list: () => true, get: () => true },
});

export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    slug: field.text(z.string().regex(/^[a-z0-9-]+$/)).unique(),
    body: field.text().optional(),
    published: field.boolean().default(false),
    views: field.integer().default(0).readOnly(),
    tags: field.json(z.array(z.string())).default([]),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  indexes: [["published", "createdAt"]],
  // Subscribers hear the posts they may read change (GET /collections/posts/subscribe).
  realtime: true,
  access: {
    list: ({ user }) => visiblePosts(user),
    get: ({ user }) => visiblePosts(user),
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),
    delete: ({ user }) => (user ? { author: user.id } : false),
  },
  // The caller is the author; the system scope (the seed) names one itself.
  hooks: { beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data) },
});

export const comments = collection("comments", {
  fields: {
    body: field.text(z.string().min(1).max(2000)),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  access: {
    list: ({ user }) => ({ post: visiblePosts(user) }),
    get: ({ user }) => ({ post: visiblePosts(user) }),
    create: ({ user }) => (user ? { post: visiblePosts(user) } : false),
    delete: ({ user }) => (user ? { author: user.id } : false),
  },
  hooks: { beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data) },
});

/** Counts a view of a post: `POST /posts/:slug/view`, open to anyone who may see the post. */
export const view = action({
  input: z.object({ slug: z.string() }),
  http: { method: "POST", path: "/posts/:slug/view" },
  access: () => true,
  async handler({ input, data, system }) {
    const [post] = (await data.posts.list({ where: { slug: input.slug }, limit: 1 })).items;
    if (!post) throw new ApiError(404, "POST_NOT_FOUND", `No post "${input.slug}".`);
    // views is readOnly for callers: the system scope writes it.
    return system.data.posts.update(post.id, { views: post.views + 1 }, { select: ["title", "slug", "views"] });
  },
});

export const collections = { users, posts, comments };
export const actions = { view };

// Types `data` and `system` in actions and hooks, which are defined apart from the backend.
declare module "cimiento" {
  interface Register {
    collections: typeof collections;
  }
}
