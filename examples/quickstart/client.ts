/**
 * The quickstart's API through `cimiento/client`, typed from the backend's type alone (a type
 * import: nothing of the server is loaded). Start the server (`npm start`), then run
 * `npm run example:client` (API_URL, default http://localhost:3000, says where the API is).
 */
import { createClient, isApiError } from "cimiento/client";
import type { openBackend } from "./backend.js";
import { DEMO_ACCOUNT } from "./requests.js";

/** The type of the quickstart's backend; the client learns every route and record from it. */
type Backend = Awaited<ReturnType<typeof openBackend>>["backend"];

// No cookies outside a browser: the client keeps the token that sign-in returns.
const client = createClient<Backend>({
  baseUrl: process.env["API_URL"] ?? "http://localhost:3000",
  keepToken: true,
  // The view action has a route of its own: call it there rather than at POST /actions/view.
  actionRoutes: { view: { method: "POST", path: "/posts/:slug/view" } },
});

const { user } = await client.auth.signIn(DEMO_ACCOUNT);
console.log(`Signed in as ${user.name} (${user.role}).`);

const { items, total } = await client.collections.posts.list({
  where: { published: true, title: { contains: "SQLite" } },
  orderBy: [{ createdAt: "desc" }],
  include: { author: { select: ["name"] }, comments: { select: ["body"] } },
  count: true,
});
console.log(`${total} published post(s) about SQLite:`);
for (const post of items) {
  console.log(`- "${post.title}" by ${post.author?.name ?? "someone"}, ${post.comments.length} comment(s), tags ${post.tags.join(", ")}`);
}

const post = items[0];
if (post !== undefined) {
  const comment = await client.collections.comments.create({ post: post.id, body: "Read through the typed client." });
  console.log(`Commented on "${post.title}" at ${comment.createdAt}.`);
  const viewed = await client.actions.view({ slug: post.slug });
  console.log(`"${viewed.title}" has ${viewed.views} view(s).`);
}

// Every draft of Ada's, page after page (two records a request).
const drafts: string[] = [];
for await (const draft of client.collections.posts.all({ where: { published: false }, select: ["title"], limit: 2 })) drafts.push(draft.title);
console.log(`Drafts only Ada sees: ${drafts.join("; ")}`);

// An error is an ApiError: its code, status and each field's issue.
try {
  await client.collections.posts.create({ title: "", slug: "Not A Slug" });
} catch (error) {
  if (!isApiError(error, "VALIDATION_FAILED")) throw error;
  console.log(`${error.status} ${error.code}: ${error.issues.map((issue) => `${issue.path.join(".")} (${issue.code})`).join(", ")}`);
}

await client.auth.signOut();
console.log(`Signed out: ${(await client.auth.session()) === null ? "no session" : "still a session"}.`);
