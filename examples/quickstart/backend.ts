/**
 * The quickstart's backend on an SQLite file, with built-in auth and demo data on the first run.
 * The quickstart, Express and Hono examples all serve this one.
 */
import { createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { actions, collections } from "./schema.js";
import { DEMO_ACCOUNT, type Demo } from "./requests.js";

/**
 * Opens (and on the first run creates and seeds) the database named by `QUICKSTART_DB`,
 * `./data/quickstart.db` by default, and reports what it did through `log`.
 */
export async function openBackend(log: (line: string) => void = console.log) {
  const file = process.env["QUICKSTART_DB"] ?? "./data/quickstart.db";
  const backend = createBackend({
    database: sqlite({ file }),
    collections,
    actions,
    // Accounts, sessions and the /auth routes. Without a mailer, the messages of sign-up and
    // password reset are written to the console (outside production).
    auth: { password: {}, sessions: { ttl: "30d" } },
  });

  const { changes } = await backend.migrate();
  log(`Database ${file}: ${changes.length === 0 ? "schema up to date" : `${changes.length} change(s) applied`}`);
  const { data } = backend.system;
  if ((await data.users.count()) === 0) {
    const ada = await backend.auth.createUser({ ...DEMO_ACCOUNT, name: "Ada", emailVerified: true });
    const linus = await backend.auth.createUser({ email: "linus@example.com", name: "Linus", emailVerified: true });
    await backend.system.transaction(async (tx) => {
      const post = await tx.data.posts.create({
        title: "SQLite is enough",
        slug: "sqlite-is-enough",
        body: "One file, no server, and it scales further than you think.",
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
    log("Seeded 2 users, 2 posts (one a draft of Ada's) and 2 comments.");
  }
  const [ada] = (await data.users.list({ where: { email: DEMO_ACCOUNT.email }, limit: 1 })).items;
  const { token } = await backend.auth.createSession(ada!.id);
  const [post] = (await data.posts.list({ where: { slug: "sqlite-is-enough" }, limit: 1 })).items;
  const demo: Demo = { token, post: post ? { id: post.id, slug: post.slug } : null };
  return { backend, demo };
}
