/**
 * The RealWorld (Conduit) API on cimiento: collections, access rules, actions with their own
 * routes, and formatError for the specification's error shape.
 */
import { z } from "zod";
import {
  action,
  ApiError,
  collection,
  createBackend,
  field,
  userFields,
  usersCollection,
  type ActionContext,
  type DatabaseAdapter,
} from "cimiento";

const blank = "can't be blank";
const text = z.string({ error: blank }).refine((value) => value.trim() !== "", blank);
const orNull = z.string().nullish().transform((value) => (value === "" ? null : value)); // "" clears
const mine = ({ user }: { user: { id: string } | null }) => (user === null ? false : { author: user.id });
const signedIn = ({ user }: { user: unknown }) => user !== null;
const anyone = () => true;

const users = usersCollection({
  fields: {
    email: userFields.email.hidden(), // only the user's own answers carry it
    username: field.text(text).unique(),
    bio: field.text().optional(),
    image: field.text().optional(),
    followers: field.hasMany("follows", { on: "followee" }),
    following: field.exists("followers", { where: ({ user }) => (user ? { follower: user.id } : false) }),
  },
  access: { get: anyone, list: anyone, update: ({ user }) => (user ? { id: user.id } : false) },
});

const follows = collection("follows", {
  fields: {
    follower: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
    followee: field.belongsTo("users", { onDelete: "cascade" }),
  },
  indexes: [{ fields: ["followee", "follower"], unique: true }],
  access: { list: anyone, create: signedIn, delete: ({ user }) => (user ? { follower: user.id } : false) },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, follower: user?.id ?? data.follower }) },
});

const articles = collection("articles", {
  fields: {
    slug: field.slug("title"),
    title: field.text(text),
    description: field.text(text),
    body: field.text(text),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
    favoritesCount: field.count("favorites"),
    favorited: field.exists("favorites", { where: ({ user }) => (user ? { user: user.id } : false) }),
  },
  indexes: [["createdAt"]],
  access: { list: anyone, get: anyone, create: signedIn, update: mine, delete: mine },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author }) },
});

const ofMyArticle = ({ user }: { user: { id: string } | null }) => (user ? { article: { author: user.id } } : false);
const taggings = collection("taggings", {
  fields: { article: field.belongsTo("articles", { onDelete: "cascade" }), tag: field.text().index() },
  indexes: [{ fields: ["article", "tag"], unique: true }],
  access: { list: anyone, create: ofMyArticle, delete: ofMyArticle },
});

const favorites = collection("favorites", {
  fields: {
    article: field.belongsTo("articles", { onDelete: "cascade" }),
    user: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  indexes: [{ fields: ["article", "user"], unique: true }],
  access: { list: anyone, create: signedIn, delete: ({ user }) => (user ? { user: user.id } : false) },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, user: user?.id ?? data.user }) },
});

const comments = collection("comments", {
  fields: {
    number: field.sequence(), // the specification's integer comment id
    body: field.text(text),
    article: field.belongsTo("articles", { onDelete: "cascade" }),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  access: { list: anyone, get: anyone, create: signedIn, delete: mine },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author }) },
});

const collections = { users, follows, articles, taggings, favorites, comments };
declare module "cimiento" {
  interface Register {
    collections: typeof collections;
  }
}

// ── Response shapes ─────────────────────────────────────────────────────────────────────────
type Profile = { username: string; bio: string | null; image: string | null; following: boolean };
const profileOf = ({ username, bio, image, following }: Profile) => ({ username, bio, image, following });
const userOf = (user: { email: string; username: string; bio: string | null; image: string | null }, token: string | null) =>
  ({ user: { email: user.email, token, username: user.username, bio: user.bio, image: user.image } });
const author = { select: ["username", "bio", "image", "following"] } as const;
const reads = { include: { author, taggings: { select: ["tag"], orderBy: { tag: "asc" } } } } as const;
type Read = { author: Profile | null; taggings: { tag: string }[]; body?: string; createdAt: Date; updatedAt: Date };
const articleOf = ({ author, taggings, id: _id, ...article }: Read & { id: string }) => ({
  ...article,
  tagList: taggings.map((tagging) => tagging.tag),
  author: profileOf(author!),
});
const commentOf = (comment: { number: number; body: string; createdAt: Date; updatedAt: Date; author: Profile | null }) =>
  ({ id: comment.number, createdAt: comment.createdAt, updatedAt: comment.updatedAt, body: comment.body, author: profileOf(comment.author!) });

const notFound = (subject: string) => new ApiError(404, "NOT_FOUND", `${subject} not found`, { subject });
type Data = ActionContext<unknown>["data"];
async function findArticle(data: Data, slug: string) {
  const found = (await data.articles.list({ where: { slug }, limit: 1, ...reads })).items[0];
  if (found === undefined) throw notFound("article");
  return found;
}
async function findProfile(data: Data, username: string) {
  const found = (await data.users.list({ where: { username }, limit: 1 })).items[0];
  if (found === undefined) throw notFound("profile");
  return found;
}
async function setTags(data: Data, article: string, tagList: string[] | undefined) {
  if (tagList === undefined) return;
  await data.taggings.deleteMany({ where: { article } });
  await data.taggings.createMany([...new Set(tagList)].map((tag) => ({ article, tag })));
}

// ── Users ───────────────────────────────────────────────────────────────────────────────────
const register = action({
  input: z.object({ user: z.object({ username: text, email: text, password: text }) }),
  http: { method: "POST", path: "/users", status: 201 },
  transaction: false, // what authentication writes commits whatever happens next
  access: anyone,
  async handler({ input, auth }) {
    const { user, token } = (await auth.signUp(input.user))!;
    return userOf(user, token);
  },
});

const login = action({
  input: z.object({ user: z.object({ email: text, password: text }) }),
  http: { method: "POST", path: "/users/login" },
  transaction: false,
  access: anyone,
  async handler({ input, auth }) {
    const { user, token } = await auth.signIn(input.user.email, input.user.password);
    return userOf(user, token);
  },
});

const currentUser = action({
  input: z.object({}),
  http: { method: "GET", path: "/user" },
  transaction: false,
  access: signedIn,
  handler: async ({ user, system, auth }) => userOf((await system.data.users.get(user!.id))!, auth.token),
});

const updateUser = action({
  input: z.object({
    user: z.object({ email: text.optional(), username: text.optional(), password: text.optional(), bio: orNull, image: orNull }),
  }),
  http: { method: "PUT", path: "/user" },
  transaction: false,
  access: signedIn,
  async handler({ input, user, data, system, auth }) {
    const { email, password, ...profile } = input.user;
    await data.users.update(user!.id, profile);
    if (email !== undefined) await system.data.users.update(user!.id, { email }); // email is read-only to callers
    let token = auth.token;
    if (password !== undefined) {
      await auth.setPassword(user!.id, password); // ends every session: here is a new one
      ({ token } = await auth.createSession(user!.id));
    }
    return userOf((await system.data.users.get(user!.id))!, token);
  },
});

// ── Profiles ────────────────────────────────────────────────────────────────────────────────
const username = z.object({ username: z.string() });
const getProfile = action({
  input: username,
  http: { method: "GET", path: "/profiles/:username" },
  transaction: false,
  access: anyone,
  handler: async ({ input, data }) => ({ profile: profileOf(await findProfile(data, input.username)) }),
});

const follow = action({
  input: username,
  http: { method: "POST", path: "/profiles/:username/follow" },
  access: signedIn,
  async handler({ input, data, user }) {
    const followee = await findProfile(data, input.username);
    if ((await data.follows.count({ where: { follower: user!.id, followee: followee.id } })) === 0) {
      await data.follows.create({ followee: followee.id });
    }
    return { profile: { ...profileOf(followee), following: true } };
  },
});

const unfollow = action({
  input: username,
  http: { method: "DELETE", path: "/profiles/:username/follow" },
  access: signedIn,
  async handler({ input, data, user }) {
    const followee = await findProfile(data, input.username);
    await data.follows.deleteMany({ where: { follower: user!.id, followee: followee.id } });
    return { profile: { ...profileOf(followee), following: false } };
  },
});

// ── Articles ────────────────────────────────────────────────────────────────────────────────
const page = { limit: z.coerce.number().int().min(1).max(100).default(20), offset: z.coerce.number().int().min(0).default(0) };
const listed = ["slug", "title", "description", "createdAt", "updatedAt", "favorited", "favoritesCount"] as const;

const feed = action({
  input: z.object(page),
  http: { method: "GET", path: "/articles/feed" },
  transaction: false,
  access: signedIn,
  async handler({ input, data, user }) {
    const where = { author: { followers: { some: { follower: user!.id } } } };
    const found = await data.articles.list({ where, orderBy: { createdAt: "desc" }, ...input, count: true, select: listed, ...reads });
    return { articles: found.items.map(articleOf), articlesCount: found.total };
  },
});

const listArticles = action({
  input: z.object({ tag: z.string().optional(), author: z.string().optional(), favorited: z.string().optional(), ...page }),
  http: { method: "GET", path: "/articles" },
  transaction: false,
  access: anyone,
  async handler({ input: { tag, author, favorited, ...paging }, data }) {
    const where = {
      ...(tag === undefined ? {} : { taggings: { some: { tag } } }),
      ...(author === undefined ? {} : { author: { username: author } }),
      ...(favorited === undefined ? {} : { favorites: { some: { user: { username: favorited } } } }),
    };
    const found = await data.articles.list({ where, orderBy: { createdAt: "desc" }, ...paging, count: true, select: listed, ...reads });
    return { articles: found.items.map(articleOf), articlesCount: found.total };
  },
});

const slug = z.object({ slug: z.string() });
const getArticle = action({
  input: slug,
  http: { method: "GET", path: "/articles/:slug" },
  transaction: false,
  access: anyone,
  handler: async ({ input, data }) => ({ article: articleOf(await findArticle(data, input.slug)) }),
});

const createArticle = action({
  input: z.object({ article: z.object({ title: text, description: text, body: text, tagList: z.array(text).optional() }) }),
  http: { method: "POST", path: "/articles", status: 201 },
  access: signedIn,
  async handler({ input: { article }, data }) {
    const { tagList, ...fields } = article;
    const created = await data.articles.create(fields);
    await setTags(data, created.id, tagList);
    return { article: articleOf((await data.articles.get(created.id, reads))!) };
  },
});

const updateArticle = action({
  input: slug.extend({
    article: z.object({ title: text.optional(), description: text.optional(), body: text.optional(), tagList: z.array(text).optional() }),
  }),
  http: { method: "PUT", path: "/articles/:slug" },
  access: signedIn,
  async handler({ input, data }) {
    const { tagList, ...fields } = input.article;
    const { id } = await findArticle(data, input.slug);
    await data.articles.update(id, fields); // 403 for anyone but its author
    await setTags(data, id, tagList);
    return { article: articleOf((await data.articles.get(id, reads))!) };
  },
});

const deleteArticle = action({
  input: slug,
  http: { method: "DELETE", path: "/articles/:slug", status: 204 },
  access: signedIn,
  async handler({ input, data }) {
    await data.articles.delete((await findArticle(data, input.slug)).id);
  },
});

const favorite = action({
  input: slug,
  http: { method: "POST", path: "/articles/:slug/favorite" },
  access: signedIn,
  async handler({ input, data, user }) {
    const { id } = await findArticle(data, input.slug);
    if ((await data.favorites.count({ where: { article: id, user: user!.id } })) === 0) await data.favorites.create({ article: id });
    return { article: articleOf((await data.articles.get(id, reads))!) };
  },
});

const unfavorite = action({
  input: slug,
  http: { method: "DELETE", path: "/articles/:slug/favorite" },
  access: signedIn,
  async handler({ input, data, user }) {
    const { id } = await findArticle(data, input.slug);
    await data.favorites.deleteMany({ where: { article: id, user: user!.id } });
    return { article: articleOf((await data.articles.get(id, reads))!) };
  },
});

// ── Comments and tags ───────────────────────────────────────────────────────────────────────
const withAuthor = { include: { author } } as const;
const listComments = action({
  input: slug,
  http: { method: "GET", path: "/articles/:slug/comments" },
  transaction: false,
  access: anyone,
  async handler({ input, data }) {
    const { id } = await findArticle(data, input.slug);
    const found = await data.comments.list({ where: { article: id }, orderBy: { number: "asc" }, limit: 500, ...withAuthor });
    return { comments: found.items.map(commentOf) };
  },
});

const addComment = action({
  input: slug.extend({ comment: z.object({ body: text }) }),
  http: { method: "POST", path: "/articles/:slug/comments", status: 201 },
  access: signedIn,
  async handler({ input, data }) {
    const { id } = await findArticle(data, input.slug);
    return { comment: commentOf(await data.comments.create({ article: id, body: input.comment.body }, withAuthor)) };
  },
});

const deleteComment = action({
  input: slug.extend({ id: z.coerce.number().int() }),
  http: { method: "DELETE", path: "/articles/:slug/comments/:id", status: 204 },
  access: signedIn,
  async handler({ input, data }) {
    const article = await findArticle(data, input.slug);
    const comment = (await data.comments.list({ where: { article: article.id, number: input.id }, limit: 1 })).items[0];
    if (comment === undefined) throw notFound("comment");
    await data.comments.delete(comment.id); // 403 for anyone but its author
  },
});

const tags = action({
  input: z.object({}),
  http: { method: "GET", path: "/tags" },
  transaction: false,
  access: anyone,
  handler: async ({ db }) => ({
    tags: (await db.selectFrom("taggings").select("tag").distinct().orderBy("tag").execute()).map((row) => row.tag),
  }),
});

// ── Errors: { "errors": { "<field or subject>": ["message"] } } ─────────────────────────────
const subjects: Record<string, string> = { articles: "article", comments: "comment", users: "profile" };
function formatError(error: ApiError): Response {
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  for (const issue of error.issues) add(String(issue.path.at(-1) ?? "body"), issue.message);
  const details = (error.details ?? {}) as { subject?: string; collection?: string; fields?: string[] };
  const subject = details.subject ?? subjects[details.collection ?? ""] ?? "body";
  if (error.code === "UNAUTHORIZED") add("token", "is missing");
  else if (error.code === "INVALID_SESSION") add("token", "is invalid");
  else if (error.code === "INVALID_CREDENTIALS") add("credentials", "invalid");
  else if (error.code === "EMAIL_TAKEN") add("email", "has already been taken");
  else if (error.code === "UNIQUE_VIOLATION") for (const name of details.fields ?? []) add(name, "has already been taken");
  else if (error.code === "NOT_FOUND") add(subject, "not found");
  else if (error.code === "FORBIDDEN") add(subject, "forbidden");
  errors["body"] ??= [error.message]; // the specification's generic error lists its messages in errors.body
  return Response.json({ errors }, { status: error.status });
}

/** The Conduit backend on a database (migrate it before serving). */
export function conduit(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({
    database,
    collections,
    // Feed before :slug, so that /articles/feed is not read as an article's slug.
    actions: { register, login, currentUser, updateUser, getProfile, follow, unfollow, feed, listArticles, getArticle,
      createArticle, updateArticle, deleteArticle, favorite, unfavorite, listComments, addComment, deleteComment, tags },
    auth: {
      password: { requireEmailVerification: false }, // the specification has no e-mail verification
      sessions: { schemes: ["Token", "Bearer"], cookie: false },
      // API test suites sign up and in from one address; five wrong passwords still lock an account.
      rateLimit: { perAddress: { max: 120, window: "1m" } },
    },
    http: { formatError, cors: { origin: "*" } }, // front-ends call it from their own origin, with a token, no cookie
    limits: { maxLimit: 500 }, // an article's comments come in one answer: the specification does not page them
  });
}
