// The README's example, verbatim (test/readme checks they are the same).
import { z } from "zod";
import { action, collection, createBackend, field, type RuleContext } from "cimiento";
import { sqlite } from "cimiento/sqlite";

const visible = ({ user }: RuleContext) => (user ? { or: [{ published: true }, { author: user.id }] } : { published: true });
const users = collection("users", { fields: { name: field.text(z.string().min(1)) }, access: { get: () => true } });
const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    published: field.boolean().default(false),
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  access: {                                               // a missing rule denies
    list: visible,
    get: visible,
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),   // AND-ed into the SQL
  },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: user!.id }) },
});
const publish = action({
  input: z.object({ id: z.string() }),
  access: ({ user }) => user !== null,
  handler: ({ input, data }) => data.posts.update(input.id, { published: true }),   // one transaction
});
declare module "cimiento" {                               // types `data` in actions and hooks
  interface Register { collections: { users: typeof users; posts: typeof posts } }
}

const backend = createBackend({ database: sqlite({ file: "./data/app.db" }), collections: { users, posts }, actions: { publish } });
await backend.migrate();                                  // creates or extends the tables
const ada = await backend.system.data.users.create({ name: "Ada" });
const asAda = backend.as({ id: ada.id, role: "member" });
const post = await asAda.data.posts.create({ title: "SQLite is enough" });
await asAda.actions.publish({ id: post.id });
const page = await backend.as(null).data.posts.list({ include: { author: true }, limit: 20 });
page.items[0]?.author?.name;                              // typed: string | undefined
