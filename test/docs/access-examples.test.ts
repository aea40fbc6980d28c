/**
 * docs/access.md runs: its examples, verbatim, with checks of what the page says they do (see
 * page-examples.ts).
 */
import { check, describePage, example, type Part } from "./page-examples.js";

const program: readonly Part[] = [
  example(`import { z } from "zod";
import { ApiError, collection, createBackend, field, type RuleContext } from "cimiento";

// Published posts, and the caller's own.
const visible = ({ user }: RuleContext) =>
  user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] };

const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1)),
    email: field.text(z.email()).unique().access({ read: ({ user }) => user?.role === "admin" }),
    role: field.enum(["admin", "member"]).default("member").readOnly(),
    passwordHash: field.text().optional().hidden().readOnly(),
  },
  access: {
    list: ({ user }) => user !== null,
    get: ({ user }) => user !== null,
    update: ({ user }) => (user ? { id: user.id } : false),
  },
});

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    published: field.boolean().default(false),
    views: field.integer().default(0).readOnly(),
    author: field.belongsTo("users").readOnly(),
  },
  access: {
    list: visible,
    get: visible,
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),
    delete: ({ user }) => user?.role === "admin",
  },
  hooks: {
    // Callers post as themselves; the system scope says who.
    beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data),
  },
});

const comments = collection("comments", {
  fields: {
    body: field.text(z.string().min(1)),
    approved: field.boolean().default(false).access({ write: ({ user }) => user?.role === "admin" }),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users").readOnly(),
  },
  access: {
    list: ({ user }) => (user?.role === "admin" ? true : { approved: true }),
    get: ({ user }) => (user?.role === "admin" ? true : { approved: true }),
    // Only on posts the caller may see. A rule is trusted code: its relation filter does not go
    // through the rules of posts, so it says in full which posts.
    create: ({ user }) => (user ? { post: { or: [{ published: true }, { author: user.id }] } } : false),
  },
  hooks: {
    beforeCreate: ({ data, user }) => (user ? { ...data, author: user.id } : data),
  },
});

// Any signed-in caller may look a team up; its members see its memberships, its owners manage them.
const ofMember = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id } } } } : false);
const ofOwner = ({ user }: RuleContext) => (user ? { team: { memberships: { some: { user: user.id, role: "owner" } } } } : false);

const teams = collection("teams", {
  fields: { name: field.text(z.string().min(1)) },
  access: {
    list: ({ user }) => (user ? { memberships: { some: { user: user.id } } } : false),
    get: ({ user }) => user !== null,
    create: ({ user }) => user !== null,
  },
  hooks: {
    // Whoever creates a team owns it: trusted code writes the first membership.
    afterCreate: async ({ record, user, system }) => {
      if (user) await system.data.memberships.create({ team: record.id, user: user.id, role: "owner" });
    },
  },
});

const memberships = collection("memberships", {
  fields: {
    team: field.belongsTo("teams", { onDelete: "cascade" }),
    user: field.belongsTo("users", { onDelete: "cascade" }),
    role: field.enum(["owner", "member"]).default("member"),
  },
  indexes: [{ fields: ["team", "user"], unique: true }],
  access: { list: ofMember, get: ofMember, create: ofOwner, update: ofOwner, delete: ofOwner },
});

const backend = createBackend({ database, collections: { users, posts, comments, teams, memberships } });
await backend.migrate();
`),
  check(`track(backend);
`),
  example(`const ada = await backend.system.data.users.create({ name: "Ada", email: "ada@example.com", role: "admin" });
const bob = await backend.system.data.users.create({ name: "Bob", email: "bob@example.com", passwordHash: "scrypt:..." });

const asAda = backend.as({ id: ada.id, role: ada.role, name: ada.name });
const asBob = backend.as({ id: bob.id, role: bob.role, name: bob.name });
const anonymous = backend.as(null);

const bobForSystem = await backend.system.data.users.get(bob.id); // every field, passwordHash too
const bobForAda = await asAda.data.users.get(bob.id);             // no passwordHash (hidden)
const bobForBob = await asBob.data.users.get(bob.id);             // no passwordHash, no email (admins only)
`),
  check(`expect(bobForSystem).toMatchObject({ name: "Bob", email: "bob@example.com", role: "member", passwordHash: "scrypt:..." });
expect(Object.keys(bobForAda!).sort()).toEqual(["createdAt", "email", "id", "name", "role", "updatedAt"]);
expect(Object.keys(bobForBob!).sort()).toEqual(["createdAt", "id", "name", "role", "updatedAt"]);
expect(() => backend.as({ id: 1 } as never)).toThrow(TypeError);
`),
  example(`declare module "cimiento" {
  interface Register {
    principal: { id: string; role: "admin" | "member"; name: string };
    collections: {
      users: typeof users;
      posts: typeof posts;
      comments: typeof comments;
      teams: typeof teams;
      memberships: typeof memberships;
    };
  }
}
`),
  check(`const declared: import("cimiento").Principal = { id: "x", role: "member", name: "X" };
// @ts-expect-error: the declared principal has a name
const nameless: import("cimiento").Principal = { id: "x", role: "member" };
// @ts-expect-error: "owner" is not a declared role
const owner: import("cimiento").Principal = { id: "x", role: "owner", name: "X" };
void [declared, nameless, owner];
`),
  example(`const draft = await asBob.data.posts.create({ title: "Draft" }); // author: Bob, set by the hook

const draftForAnonymous = await anonymous.data.posts.get(draft.id); // null: not published
const adaUpdatesDraft = await asAda.data.posts.update(draft.id, { title: "Ada's" }).catch((error: ApiError) => error.code);
// "NOT_FOUND": Ada cannot see Bob's draft, as if there were none

await asBob.data.posts.update(draft.id, { published: true });
const adaUpdatesPost = await asAda.data.posts.update(draft.id, { title: "Ada's" }).catch((error: ApiError) => error.code);
// "FORBIDDEN": she sees it now, but it is not hers
const bobRenames = await asBob.data.posts.update(draft.id, { title: "Bob's post" }, { include: { author: true } });
// allowed: bobRenames.author?.name is "Bob"
const anonymousCreates = await anonymous.data.posts.create({ title: "Hi" }).catch((error: ApiError) => error.code);
// "UNAUTHORIZED": anonymous callers may not create posts
const bobDeletes = await asBob.data.posts.delete(draft.id).catch((error: ApiError) => error.code);
// "FORBIDDEN": only admins delete

const team = await asBob.data.teams.create({ name: "Blue" }); // Bob owns it (the hook)
const adaClaims = await asAda.data.memberships
  .create({ team: team.id, user: ada.id, role: "owner" })
  .catch((error: ApiError) => error.code);
// "FORBIDDEN": the rule asks whether Ada owns the team before her membership exists; she does not
const bobAddsAda = await asBob.data.memberships.create({ team: team.id, user: ada.id }); // a member
const adaPromotes = await asAda.data.memberships.update(bobAddsAda.id, { role: "owner" }).catch((error: ApiError) => error.code);
// "FORBIDDEN": she sees her membership, but is no owner before the change
`),
  check(`expect(draft).toMatchObject({ title: "Draft", author: bob.id, published: false });
expect(draftForAnonymous).toBeNull();
expect(adaUpdatesDraft).toBe("NOT_FOUND");
expect(adaUpdatesPost).toBe("FORBIDDEN");
expect(bobRenames.author?.name).toBe("Bob");
expect(anonymousCreates).toBe("UNAUTHORIZED");
expect(bobDeletes).toBe("FORBIDDEN");
expect(await backend.system.data.posts.count()).toBe(1);
expect(adaClaims).toBe("FORBIDDEN");
expect(bobAddsAda).toMatchObject({ team: team.id, user: ada.id, role: "member" });
expect(adaPromotes).toBe("FORBIDDEN");
const teamRoles = await backend.system.data.memberships.list({ where: { team: team.id }, orderBy: { role: "asc" } });
expect(teamRoles.items.map((membership) => [membership.user, membership.role])).toEqual([
  [ada.id, "member"],
  [bob.id, "owner"],
]);
`),
  example(`const postFields = await asBob.data.posts.get(draft.id);
// { id, title, published, views, author, createdAt, updatedAt }

// @ts-expect-error: readOnly fields are not in a caller's input type
const setViews = await asBob.data.posts.update(draft.id, { views: 1000, title: "" }).catch((error: ApiError) => error.issues);
// [{ path: ["views"], code: "read_only", ... }, { path: ["title"], code: "too_small", ... }]

const selfApproved = await asBob.data.comments
  .create({ body: "Approved, trust me", post: draft.id, approved: true })
  .catch((error: ApiError) => error.issues);
// [{ path: ["approved"], code: "write_denied", message: "You may not write this field" }]

const byHash = await asAda.data.users.list({ where: { passwordHash: "scrypt:..." } }).catch((error: ApiError) => error.message);
// 'where.passwordHash: "passwordHash" is not a field of "users"', as for a field that does not exist
const byEmail = await asBob.data.users.list({ orderBy: { email: "asc" } }).catch((error: ApiError) => error.message);
// 'orderBy.email: "email" is not a field of "users"': Bob may not read emails, Ada may
const emails = await asAda.data.users.list({ orderBy: { email: "asc" }, select: ["email"] });
`),
  check(`expect(Object.keys(postFields!).sort()).toEqual(["author", "createdAt", "id", "published", "title", "updatedAt", "views"]);
expect(setViews).toMatchObject([
  { path: ["views"], code: "read_only", message: "This field is read-only" },
  { path: ["title"], code: "too_small" },
]);
expect(selfApproved).toEqual([{ path: ["approved"], code: "write_denied", message: "You may not write this field" }]);
expect(byHash).toBe('where.passwordHash: "passwordHash" is not a field of "users"');
expect(byEmail).toBe('orderBy.email: "email" is not a field of "users"');
expect(emails.items).toEqual([
  { id: ada.id, email: "ada@example.com" },
  { id: bob.id, email: "bob@example.com" },
]);
expect((await backend.system.data.posts.get(draft.id))!.views).toBe(0);
expect(await backend.system.data.comments.count()).toBe(0);
`),
  example(`const first = await asBob.data.comments.create({ body: "First!", post: draft.id });
const spam = await asBob.data.comments.create({ body: "Buy now", post: draft.id });
await backend.system.data.comments.update(first.id, { approved: true });

const withComments = await asBob.data.posts.get(draft.id, { include: { comments: true } });
// withComments?.comments holds "First!" only: "Buy now" is not approved
const spammedForBob = await asBob.data.posts.list({ where: { comments: { some: { body: "Buy now" } } } });
// no posts: for Bob, the comment does not exist
const spammedForAda = await asAda.data.posts.list({ where: { comments: { some: { body: "Buy now" } } } });
// Bob's post: Ada, an admin, sees every comment

const adaDraft = await asAda.data.posts.create({ title: "Ada's draft" });
await backend.system.data.comments.create({ body: "Early feedback", post: adaDraft.id, author: bob.id, approved: true });
const feedback = await asBob.data.comments.list({ where: { body: "Early feedback" }, include: { post: true } });
// feedback.items[0].post is null: Bob may read the comment, not the draft it is on
`),
  check(`expect(spam.approved).toBe(false);
expect(withComments!.comments.map((comment) => comment.body)).toEqual(["First!"]);
expect(spammedForBob.items).toEqual([]);
expect(spammedForAda.items.map((post) => post.id)).toEqual([draft.id]);
expect(feedback.items.map((comment) => [comment.body, comment.post])).toEqual([["Early feedback", null]]);
`),
  example(`const onAdaDraft = await asBob.data.comments.create({ body: "Hi", post: adaDraft.id }).catch((error: ApiError) => error.code);
// "REFERENCE_NOT_FOUND": Bob may not read Ada's draft, so for him there is no such post
const onNoPost = await asBob.data.comments.create({ body: "Hi", post: "no-such-post" }).catch((error: ApiError) => error.code);
// "REFERENCE_NOT_FOUND": the same answer
const onBobPost = await asBob.data.comments.create({ body: "Hi", post: draft.id });
`),
  check(`expect(onAdaDraft).toBe("REFERENCE_NOT_FOUND");
expect(onNoPost).toBe("REFERENCE_NOT_FOUND");
expect(onBobPost.author).toBe(bob.id);
expect(await backend.system.data.comments.count({ where: { post: adaDraft.id } })).toBe(1);
`),
  example(`const outcome = await anonymous.data.posts.delete(draft.id).catch((error: unknown) => error);
if (outcome instanceof ApiError && outcome.status === 401) {
  // ask the user to sign in
}
`),
  check(`expect(outcome).toBeInstanceOf(ApiError);
expect(outcome).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
`),
];

describePage("docs/access.md", program);
