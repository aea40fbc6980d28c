/**
 * Hooks typed through `Register`: a program of its own (see ../registered.test.ts). Hooks that
 * destructure `system`, `db` and `enqueue` in their parameters, in several hooks of one
 * collection, leave the collection typed and `system` typed from the registered collections
 * (they used to make the collection `any`: TS2456, "Type alias 'RegisteredSchema' circularly
 * references itself").
 */
import { expectTypeOf } from "vitest";
import { z } from "zod";
import { collection, field, job, type Infer } from "cimiento";

const posts = collection("posts", {
  fields: {
    title: field.text(),
    position: field.integer().default(0),
    author: field.belongsTo("users"),
  },
  access: {
    list: ({ user }) => (user ? { or: [{ author: user.id }, { position: { gte: 0 } }] } : false),
    // @ts-expect-error: the rule's filter is checked here too
    get: ({ user }) => (user ? { athor: user.id } : false),
  },
  hooks: {
    beforeCreate: async ({ data, system }) => {
      // What the hook reads through `system` is typed by a declaration, so that its result's
      // type does not depend on the registered collections (see docs/actions.md, Hooks).
      const count: number = await system.data.posts.count();
      return { ...data, position: count };
    },
    afterCreate: async ({ record, system, db, enqueue }) => {
      expectTypeOf(record).toEqualTypeOf<Infer<typeof posts>>();
      expectTypeOf(await system.data.users.get(record.author)).toEqualTypeOf<Infer<typeof users> | null>();
      const rows = await db.selectFrom("posts").select(["title"]).where("id", "=", record.id).execute();
      expectTypeOf(rows).toEqualTypeOf<{ title: string }[]>();
      await enqueue("notify", { postId: record.id });
      // @ts-expect-error: the job's input
      await enqueue("notify", { post: record.id });
    },
    beforeUpdate: ({ data, previous, system }) => {
      expectTypeOf(system.data.posts.get).returns.resolves.toEqualTypeOf<Infer<typeof posts> | null>();
      return previous.title === data.title ? undefined : data;
    },
    afterDelete: async ({ record, system }) => {
      await system.data.users.update(record.author, { name: "gone" });
      // @ts-expect-error: users have no such field
      await system.data.users.update(record.author, { nme: "gone" });
    },
  },
});

const users = collection("users", {
  fields: { name: field.text() },
  hooks: {
    afterCreate: async ({ record, system }) => {
      await system.data.posts.create({ title: `Welcome, ${record.name}`, author: record.id });
    },
    afterUpdate: async ({ record, system }) => {
      const page = await system.data.posts.list({ where: { author: record.id } });
      expectTypeOf(page.items).toEqualTypeOf<Infer<typeof posts>[]>();
    },
  },
});

const notify = job({
  input: z.object({ postId: z.string() }),
  handler: async ({ input, system, enqueue }) => {
    expectTypeOf(await system.data.posts.get(input.postId)).toEqualTypeOf<Infer<typeof posts> | null>();
    void enqueue;
  },
});

const collections = { posts, users };
const jobs = { notify };

declare module "cimiento" {
  interface Register {
    collections: typeof collections;
    jobs: typeof jobs;
  }
}

expectTypeOf(posts).not.toBeAny();
expectTypeOf<Infer<typeof posts>>().toEqualTypeOf<{
  id: string;
  title: string;
  position: number;
  author: string;
  createdAt: Date;
  updatedAt: Date;
}>();
expectTypeOf(users).not.toBeAny();
