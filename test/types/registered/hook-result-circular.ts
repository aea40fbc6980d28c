/**
 * A hook whose result's type depends on what it reads through `system`: the collection's type
 * would depend on itself, which TypeScript cannot infer. The error names the hook (see
 * ../registered.test.ts; docs/actions.md, Hooks, says how to write it).
 */
import { collection, field } from "cimiento";

const posts = collection("posts", {
  fields: { title: field.text(), position: field.integer().default(0) },
  hooks: {
    beforeCreate: async ({ data, system }) => ({ ...data, position: await system.data.posts.count() }),
  },
});

const collections = { posts };

declare module "cimiento" {
  interface Register {
    collections: typeof collections;
  }
}
