/**
 * The quickstart's backend on an SQLite file, with a demo bearer token for Ada and demo data on
 * the first run. The quickstart, Express and Hono examples all serve this one.
 */
import { createBackend, type Principal } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { actions, collections } from "./schema.js";
import { DEMO_TOKEN, type Demo } from "./requests.js";

const DEMO_USER = "ada@example.com";

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
    // A stand-in for real authentication: one fixed token. Anything else is anonymous.
    auth: {
      async resolve(request): Promise<Principal | null> {
        if (request.headers.get("authorization") !== `Bearer ${DEMO_TOKEN}`) return null;
        const [ada] = (await backend.system.data.users.list({ where: { email: DEMO_USER }, limit: 1 })).items;
        return ada ? { id: ada.id, role: "member" } : null;
      },
    },
  });

  const { changes } = await backend.migrate();
  log(`Database ${file}: ${changes.length === 0 ? "schema up to date" : `${changes.length} change(s) applied`}`);
  const { data } = backend.system;
  if ((await data.users.count()) === 0) {
    await backend.system.transaction(async (tx) => {
      const ada = await tx.data.users.create({ name: "Ada", email: DEMO_USER });
      const linus = await tx.data.users.create({ name: "Linus", email: "linus@example.com" });
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
  const [post] = (await data.posts.list({ where: { slug: "sqlite-is-enough" }, limit: 1 })).items;
  const demo: Demo = { token: DEMO_TOKEN, post: post ? { id: post.id, slug: post.slug } : null };
  return { backend, demo };
}
