/**
 * The PostgreSQL baseline: `pg` named (prepared) statements on a pool.
 * @module
 */
import pg from "pg";
import { v7 as uuidv7 } from "uuid";
import { cursorAfter, PAGE, type Account, type NewPost, type Post, type PostPage, type RawStore } from "./store.js";

interface Row extends Omit<Post, "createdAt" | "updatedAt"> {
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `"id", "title", "body", "published", "views", "likes", "tags", "createdAt", "updatedAt"`;
const GET = `select ${COLUMNS} from "posts" where "id" = $1`;
const LIST = `select ${COLUMNS} from "posts" where "published" = true order by "views" desc, "id" desc limit $1`;
const COUNT = `select count(*)::int as "count" from "posts" where "published" = true`;
const INSERT = `insert into "posts" (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning ${COLUMNS}`;
const ACCOUNT = `select "users"."id", "email", "role", "passwordHash" from "users" join "cimiento_credentials" on "cimiento_credentials"."user" = "users"."id" where "email" = $1`;
const ADD_SESSION = `insert into "cimiento_sessions" ("id", "tokenHash", "user", "expiresAt", "refreshedAt", "createdAt", "updatedAt") values ($1, $2, $3, $4, $5, $6, $7)`;
const LIKE = `update "posts" set "likes" = $1, "updatedAt" = $2 where "id" = $3 returning ${COLUMNS}`;

function post(row: Row): Post {
  return { ...row, views: Number(row.views), likes: Number(row.likes), createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
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
    get: async (id) => {
      const rows = await query("get", GET, [id]);
      return rows.length === 0 ? null : post(rows[0]!);
    },
    list: async (withCount) => {
      const items = (await query("list", LIST, [PAGE + 1])).map(post);
      const more = items.length > PAGE;
      if (more) items.pop();
      const page: PostPage = { items, nextCursor: more ? cursorAfter(items.at(-1)!) : null };
      if (withCount) page.total = (await pool.query<{ count: number }>({ name: "count", text: COUNT })).rows[0]!.count;
      return page;
    },
    create: async (input: NewPost) => {
      const now = new Date();
      const rows = await query("insert", INSERT, [uuidv7(), input.title, input.body, input.published, 0, 0, JSON.stringify(input.tags), now, now]);
      return post(rows[0]!);
    },
    like: async (id) => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const found = await query("get", GET, [id], client);
        if (found.length === 0) {
          await client.query("rollback");
          return null;
        }
        const rows = await query("like", LIKE, [Number(found[0]!.likes) + 1, new Date(), id], client);
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
