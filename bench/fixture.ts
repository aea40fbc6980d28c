/**
 * The benchmark's data model and data: one `posts` collection, 10,000 records, the action that
 * reads and updates in one transaction, and the requests every server answers alike.
 * @module
 */
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, type DatabaseAdapter, type RuleContext } from "./cimiento.js";

/** How many records the database holds when a measured round starts. */
export const RECORDS = 10_000;

/** The rule of reads and updates: a post is readable when published or by the caller. */
const readable = ({ user }: RuleContext) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] });

/**
 * The one collection the scenarios read and write, with the rules a blog has: published posts
 * and the caller's own are readable (and may be liked); a caller creates posts only as itself.
 */
export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    body: field.text().optional(),
    author: field.text(),
    published: field.boolean().default(false),
    publishedAt: field.datetime().optional(),
    views: field.integer().default(0),
    likes: field.integer().default(0),
    tags: field.json(z.array(z.string())).default([]),
  },
  indexes: [["published", "views"]],
  access: {
    list: readable,
    get: readable,
    create: ({ user }) => (user === null ? false : { author: user.id }),
    update: readable,
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

/** How a server learns who calls: the host's `resolve` (a header) or built-in sessions. */
export type BenchAuth = "host" | "session";

/** The header through which the host-resolved scenarios name their caller. */
export const USER_HEADER = "x-user-id";

/**
 * The backend every cimiento variant serves. With `"session"`, built-in auth at its defaults
 * (scrypt N = 2^17) except two limits, raised out of the way and still counted: per address
 * (every request of the benchmark comes from one loopback address) and per account (which counts
 * each sign-in while its hash is checked, and the benchmark signs in to one account many times
 * at once). With `"host"`,
 * the host resolves the caller, as a host with its own auth does: here from a header.
 */
export function benchBackend<D extends "sqlite" | "postgres">(database: DatabaseAdapter<D>, auth: BenchAuth = "session") {
  const common = { database, collections: { posts }, actions: { like } };
  return auth === "session"
    ? createBackend({
        ...common,
        auth: {
          password: { requireEmailVerification: false },
          rateLimit: { perAddress: { max: 1_000_000_000, window: "1m" }, signIn: { max: 1_000_000_000, window: "1m" } },
        },
      })
    : createBackend({
        ...common,
        auth: {
          resolve: (request: Request) => {
            const id = request.headers.get(USER_HEADER);
            return id === null ? null : { id, role: "member" };
          },
        },
      });
}

/** The body of the create scenario, for a caller: valid, so every server answers 201. */
export function createBody(author: string) {
  return {
    title: "A new post",
    body: "Written by the benchmark.",
    author,
    published: true,
    publishedAt: "2026-03-01T12:00:00.000Z",
    tags: ["bench", "sqlite"],
  };
}

/** What the seed made: the posts the signed-in caller may read, who it is, and a session of it. */
export interface Seeded {
  /** The ids of the posts the caller may read (published, or its own). */
  readonly ids: string[];
  /** The signed-in caller's user id. */
  readonly userId: string;
  /** A session token of that user, valid for the whole run. */
  readonly token: string;
}

/**
 * Fills a migrated database with `RECORDS` posts (half published with a publication time; a
 * quarter by the benchmark's user, the rest by 50 other writers) and the benchmark's user with a
 * session.
 */
export async function seed(database: DatabaseAdapter): Promise<Seeded> {
  const backend = benchBackend(database);
  try {
    await backend.migrate();
    const user = await backend.auth.createUser({ ...ACCOUNT, emailVerified: true });
    const { token } = await backend.auth.createSession(user.id);
    const ids: string[] = [];
    const batch = 500;
    const start = Date.parse("2026-01-01T00:00:00.000Z");
    for (let first = 0; first < RECORDS; first += batch) {
      const created = await backend.system.data.posts.createMany(
        Array.from({ length: batch }, (_, j) => {
          const i = first + j;
          const published = i % 2 === 0;
          return {
            title: `Post number ${i}`,
            body: `The body of post ${i}. `.repeat(4),
            author: i % 4 === 1 ? user.id : `writer-${i % 50}`,
            published,
            publishedAt: published ? new Date(start + i * 60_000) : null,
            views: (i * 7919) % 100_000,
            likes: i % 13,
            tags: [`tag${i % 10}`, `group${i % 3}`],
          };
        }),
        { select: ["id", "published", "author"] },
      );
      for (const post of created) if (post.published || post.author === user.id) ids.push(post.id);
    }
    return { ids, userId: user.id, token };
  } finally {
    await backend.close();
  }
}
