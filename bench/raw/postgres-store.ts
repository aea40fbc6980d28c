/**
 * The PostgreSQL baseline: `pg` named (prepared) statements on a pool.
 * @module
 */
import pg from "pg";
import { v7 as uuidv7 } from "uuid";
import { cursorAfter, PAGE, type Account, type NewPost, type Post, type PostPage, type RawStore, type SessionRow } from "./store.js";

interface Row extends Omit<Post, "createdAt" | "updatedAt" | "publishedAt"> {
  publishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `"id", "title", "body", "author", "published", "publishedAt", "views", "likes", "tags", "createdAt", "updatedAt"`;
/** The rule of reads and likes: published, or by the caller (`$1`). */
const READABLE = `("published" = true or "author" = $1)`;
const GET = `select ${COLUMNS} from "posts" where "id" = $2 and ${READABLE}`;
const LIST = `select ${COLUMNS} from "posts" where "published" = true and ${READABLE} order by "views" desc, "id" desc limit $2`;
const COUNT = `select count(*)::int as "count" from "posts" where "published" = true and ${READABLE}`;
const INSERT = `insert into "posts" (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${COLUMNS}`;
const ACCOUNT = `select "users"."id", "email", "role", "passwordHash" from "users" join "cimiento_credentials" on "cimiento_credentials"."user" = "users"."id" where "email" = $1`;
const ADD_SESSION = `insert into "cimiento_sessions" ("id", "tokenHash", "user", "expiresAt", "refreshedAt", "createdAt", "updatedAt") values ($1, $2, $3, $4, $5, $6, $7)`;
const LIKE = `update "posts" set "likes" = $3, "updatedAt" = $4 where "id" = $2 and ${READABLE} returning ${COLUMNS}`;
const SESSION = `select "users"."id", "users"."email", "users"."role", "users"."emailVerified", "users"."createdAt", "users"."updatedAt",
    "s"."id" as "sessionId", "s"."createdAt" as "sessionCreatedAt", "s"."expiresAt" as "sessionExpiresAt"
  from "cimiento_sessions" as "s" join "users" on "users"."id" = "s"."user" where "s"."tokenHash" = $1`;

function post(row: Row): Post {
  return {
    ...row,
    views: Number(row.views),
    likes: Number(row.likes),
    publishedAt: row.publishedAt === null ? null : row.publishedAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Opens the baseline on a PostgreSQL database made by the benchmark's seed. */
export function postgresStore(connectionString: string, max: number): RawStore {
  const pool = new pg.Pool({ connectionString, max });
  const query = async (name: string, text: string, values: unknown[], client: pg.Pool | pg.PoolClient = pool) =>
    (await client.query<Row>({ name, text, values })).rows;

  return {
    account: async (email) => (await pool.query<Account>({ name: "account", text: ACCOUNT, values: [email] })).rows[0] ?? null,
    addSession: async (userId, tokenHash, expiresAt) => {
      const now = new Date();
      await pool.query({ name: "add-session", text: ADD_SESSION, values: [uuidv7(), tokenHash, userId, expiresAt, Date.now(), now, now] });
    },
    session: async (tokenHash): Promise<SessionRow | null> => {
      const row = (await pool.query<Record<string, unknown>>({ name: "session", text: SESSION, values: [tokenHash] })).rows[0];
      if (row === undefined || Number(row["sessionExpiresAt"]) <= Date.now()) return null;
      const { sessionId, sessionCreatedAt, sessionExpiresAt, ...user } = row;
      return {
        user: user as SessionRow["user"],
        session: {
          id: sessionId as string,
          userId: user["id"] as string,
          createdAt: (sessionCreatedAt as Date).toISOString(),
          expiresAt: new Date(Number(sessionExpiresAt)).toISOString(),
        },
      };
    },
    get: async (id, caller) => {
      const rows = await query("get", GET, [caller, id]);
      return rows.length === 0 ? null : post(rows[0]!);
    },
    list: async (caller, withCount) => {
      const items = (await query("list", LIST, [caller, PAGE + 1])).map(post);
      const more = items.length > PAGE;
      if (more) items.pop();
      const page: PostPage = { items, nextCursor: more ? cursorAfter(items.at(-1)!) : null };
      if (withCount) page.total = (await pool.query<{ count: number }>({ name: "count", text: COUNT, values: [caller] })).rows[0]!.count;
      return page;
    },
    create: async (input: NewPost) => {
      const now = new Date();
      const values = [uuidv7(), input.title, input.body, input.author, input.published, input.publishedAt, 0, 0, JSON.stringify(input.tags), now, now];
      return post((await query("insert", INSERT, values))[0]!);
    },
    like: async (id, caller) => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const found = await query("get", GET, [caller, id], client);
        if (found.length === 0) {
          await client.query("rollback");
          return null;
        }
        const rows = await query("like", LIKE, [caller, id, Number(found[0]!.likes) + 1, new Date()], client);
        await client.query("commit");
        return post(rows[0]!);
      } catch (error) {
        await client.query("rollback");
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
