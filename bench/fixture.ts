/**
 * The benchmark's data model and data: one `posts` collection, 10,000 records, the action that
 * reads and updates in one transaction, and the requests every server answers alike.
 * @module
 */
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, type DatabaseAdapter } from "./cimiento.js";

/** How many records the database holds when a measured round starts. */
export const RECORDS = 10_000;

/** The one collection the scenarios read and write. Every rule allows: rules are still evaluated. */
export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    body: field.text().optional(),
    published: field.boolean().default(false),
    views: field.integer().default(0),
    likes: field.integer().default(0),
    tags: field.json(z.array(z.string())).default([]),
  },
  indexes: [["published", "views"]],
  access: {
    list: () => true,
    get: () => true,
    create: () => true,
    update: () => true,
  },
});

/** Reads a post and updates it, in one transaction. */
export const like = action({
  input: z.object({ id: z.string() }),
  http: { method: "POST", path: "/posts/:id/like" },
  access: () => true,
  async handler({ input, data }) {
    const post = await data.posts.get(input.id);
    if (post === null) throw new ApiError(404, "POST_NOT_FOUND", "No such post");
    return data.posts.update(post.id, { likes: (post.likes as number) + 1 });
  },
});

/** The account the sign-in scenario signs in to (its password hashed at OWASP's scrypt cost). */
export const ACCOUNT = { email: "bench@example.com", password: "a benchmark password" } as const;

/**
 * The backend every cimiento variant serves, with built-in auth at its defaults (scrypt
 * N = 2^17), except the per-address limit: every request of the benchmark comes from one
 * loopback address, and the limit is still counted on each credential request.
 */
export function benchBackend<D extends "sqlite" | "postgres">(database: DatabaseAdapter<D>) {
  return createBackend({
    database,
    collections: { posts },
    actions: { like },
    auth: { password: { requireEmailVerification: false }, rateLimit: { perAddress: { max: 1_000_000_000, window: "1m" } } },
  });
}

/** The body of the create scenario: valid, so every server answers 201. */
export const CREATE_BODY = {
  title: "A new post",
  body: "Written by the benchmark.",
  published: true,
  tags: ["bench", "sqlite"],
} as const;

/**
 * Fills a migrated database with `RECORDS` posts (half published, views spread out) and returns
 * their ids.
 */
export async function seed(database: DatabaseAdapter): Promise<string[]> {
  const backend = benchBackend(database);
  try {
    await backend.migrate();
    await backend.auth.createUser({ ...ACCOUNT, emailVerified: true });
    const ids: string[] = [];
    const batch = 500;
    for (let start = 0; start < RECORDS; start += batch) {
      const created = await backend.system.data.posts.createMany(
        Array.from({ length: batch }, (_, j) => {
          const i = start + j;
          return {
            title: `Post number ${i}`,
            body: `The body of post ${i}. `.repeat(4),
            published: i % 2 === 0,
            views: (i * 7919) % 100_000,
            likes: i % 13,
            tags: [`tag${i % 10}`, `group${i % 3}`],
          };
        }),
        { select: ["id"] },
      );
      for (const post of created) ids.push(post.id);
    }
    return ids;
  } finally {
    await backend.close();
  }
}
