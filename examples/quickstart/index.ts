/**
 * The quickstart: a small blog backend on an embedded SQLite file. Run it with `npm start`.
 */
import { ApiError, createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { comments, posts, users } from "./schema.js";

const file = process.env["QUICKSTART_DB"] ?? "./data/quickstart.db";
const backend = createBackend({
  database: sqlite({ file }),
  collections: { users, posts, comments },
});

const { changes } = await backend.migrate();
console.log(`Database ${file}: ${changes.length === 0 ? "schema up to date" : `${changes.length} change(s) applied`}`);
for (const change of changes) console.log(`  ${change.description}`);

const { data } = backend.system;
if ((await data.users.count()) === 0) {
  await backend.system.transaction(async (tx) => {
    const ada = await tx.data.users.create({ name: "Ada", email: "ada@example.com" });
    const linus = await tx.data.users.create({ name: "Linus", email: "linus@example.com" });
    const post = await tx.data.posts.create({
      title: "SQLite is enough",
      slug: "sqlite-is-enough",
      published: true,
      tags: ["sqlite", "databases"],
      author: ada.id,
    });
    await tx.data.posts.create({ title: "Draft: PostgreSQL later", slug: "postgres-later", author: ada.id });
    await tx.data.comments.createMany([
      { body: "Agreed.", post: post.id, author: linus.id },
      { body: "Until it is not.", post: post.id, author: linus.id },
    ]);
  });
  console.log("Seeded 2 users, 2 posts and 2 comments.");
}

const page = await data.posts.list({
  where: { published: true, title: { contains: "SQLite" } },
  orderBy: [{ createdAt: "desc" }],
  limit: 20,
  include: { author: { select: ["name"] }, comments: { include: { author: { select: ["name"] } } } },
  count: true,
});
console.log(`\nPublished posts about SQLite (${page.total}):`);
for (const post of page.items) {
  console.log(`- "${post.title}" by ${post.author.name}, tagged ${post.tags.join(", ")}`);
  for (const comment of post.comments) console.log(`    ${comment.author.name}: ${comment.body}`);
}

const busy = await data.users.list({ where: { posts: { some: { published: false } } }, select: ["name"] });
console.log(`\nUsers with drafts: ${busy.items.map((user) => user.name).join(", ")}`);

try {
  await data.posts.create({ title: "", slug: "Not A Slug", author: "nobody" });
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  console.log(`\nA bad write is refused with ${error.code} (${error.status}):`);
  for (const issue of error.issues) console.log(`  ${issue.path.join(".")}: ${issue.message}`);
}

await backend.close();
console.log("\nRun it again: the data is kept in", file);
