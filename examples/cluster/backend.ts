/**
 * The backend of the cluster example: a small blog whose posts are realtime, with built-in auth,
 * a job that an action enqueues and a schedule. Every instance runs this same backend on the same
 * PostgreSQL schema; test/realtime/cluster.test.ts runs it too, with shorter intervals.
 */
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, job, schedule, scryptHasher, type Logger, type RealtimeOptions } from "cimiento";
import { postgres } from "cimiento/postgres";

/** Who this process is (`a`, `b`, `c`, from INSTANCE): recorded by the jobs it runs, sent as `X-Instance`. */
export function instanceName(): string {
  return process.env["INSTANCE"] ?? `pid-${process.pid}`;
}

const mine = ({ user }: { user: { id: string } | null }) => (user === null ? false : { author: user.id });

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().trim().min(1).max(200)),
    body: field.text(z.string().max(10_000)).default(""),
    published: field.boolean().default(false).readOnly(), // set by the publish action
    announcedBy: field.text().optional().readOnly(), // set by the announce job
    author: field.belongsTo("users", { onDelete: "cascade" }).readOnly(),
  },
  indexes: [["createdAt"]],
  // Subscribers hear the posts they may list, as their rules read them, whichever instance wrote.
  realtime: true,
  access: {
    list: ({ user }) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] }),
    get: ({ user }) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] }),
    create: ({ user }) => user !== null,
    update: mine,
    delete: mine,
  },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author }) },
});

/** What the jobs did, and where: one record per run (the schedule's: one per tick). */
const runs = collection("runs", {
  fields: {
    kind: field.text(), // "announce", "tick" or "work"
    key: field.text(), // the post, the tick, the work item
    instance: field.text(),
  },
  indexes: [["kind", "key"]],
  access: { list: () => true },
});

/** Marks a post as announced by the instance whose worker ran it (on any of them). */
const announce = job({
  input: z.object({ post: z.string() }),
  async handler({ input, system }) {
    await system.data.posts.update(input.post, { announcedBy: instanceName() });
    await system.data.runs.create({ kind: "announce", key: input.post, instance: instanceName() });
  },
});

/** A unit of work with a key, for counting that each runs once. */
const work = job({
  input: z.object({ key: z.string().max(100) }),
  async handler({ input, system }) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await system.data.runs.create({ kind: "work", key: input.key, instance: instanceName() });
  },
});

/** Run by the schedule: records its tick, once per tick however many instances run it. */
const heartbeat = job({
  input: z.object({}),
  async handler({ tick, system }) {
    await system.data.runs.create({ kind: "tick", key: (tick ?? new Date(0)).toISOString(), instance: instanceName() });
  },
});

/** Publishes one's own post and enqueues its announcement, in one transaction. */
const publish = action({
  input: z.object({ post: z.string() }),
  access: ({ user }) => user !== null,
  async handler({ input, user, data, system, enqueue }) {
    const post = await data.posts.get(input.post);
    if (post === null || post.author !== user!.id) throw new ApiError(404, "NOT_FOUND", "No such post of yours.");
    await system.data.posts.update(input.post, { published: true });
    await enqueue("announce", { post: input.post });
    return { post: input.post, published: true };
  },
});

/** Enqueues a unit of work (anyone may: it is a demo). */
const enqueueWork = action({
  input: z.object({ key: z.string().min(1).max(100) }),
  access: () => true,
  async handler({ input, enqueue }) {
    await enqueue("work", { key: input.key });
    return { key: input.key, instance: instanceName() };
  },
});

/** Options of {@link clusterBackend}. */
export interface ClusterOptions {
  /** A PostgreSQL connection string. */
  readonly url: string;
  /** The schema every instance shares. */
  readonly schema: string;
  /** The schedule's cron pattern (6 fields: seconds first). @default every ten seconds */
  readonly cron?: string;
  /** Realtime settings (shorter intervals in tests). */
  readonly realtime?: RealtimeOptions;
  /** Failed sign-ins per account before `429`. @default 5 */
  readonly signInLimit?: number;
  readonly logger?: Logger;
}

/** The backend of one instance. */
export function clusterBackend(options: ClusterOptions) {
  return createBackend({
    database: postgres({ connectionString: options.url, schema: options.schema, max: 5 }),
    collections: { posts, runs },
    actions: { publish, enqueueWork },
    jobs: { announce, work, heartbeat },
    schedules: [schedule("heartbeat", options.cron ?? "*/10 * * * * *", heartbeat, {})],
    realtime: options.realtime ?? {},
    auth: {
      // A demo: sign-up signs in at once (no mailer), and hashes are cheap; in production keep
      // the defaults (verification by e-mail; scrypt, N = 2^17).
      password: { hasher: scryptHasher({ logN: 12 }), requireEmailVerification: false },
      // The proxy in front appends the client's address to X-Forwarded-For.
      trustedProxies: ["127.0.0.1", "::1"],
      rateLimit: { signIn: { max: options.signInLimit ?? 5, window: "15m" }, perAddress: { max: 1000, window: "1m" } },
    },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
