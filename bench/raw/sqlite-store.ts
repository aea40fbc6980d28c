/**
 * The SQLite baseline: better-sqlite3 statements prepared once.
 * @module
 */
import Database from "better-sqlite3";
import { v7 as uuidv7 } from "uuid";
import { cursorAfter, PAGE, type Account, type NewPost, type Post, type PostPage, type RawStore, type SessionRow } from "./store.js";

interface Row extends Omit<Post, "published" | "tags"> {
  published: number;
  tags: string;
}

const COLUMNS = `"id", "title", "body", "author", "published", "publishedAt", "views", "likes", "tags", "createdAt", "updatedAt"`;
/** The rule of reads and likes: published, or by the caller. */
const READABLE = `("published" = 1 or "author" = ?)`;

function post(row: Row): Post {
  return { ...row, published: row.published === 1, tags: JSON.parse(row.tags) as string[] };
}

/** Opens the baseline on a SQLite file made by the benchmark's seed. */
export function sqliteStore(file: string): RawStore {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  const get = db.prepare<[string, string], Row>(`select ${COLUMNS} from "posts" where "id" = ? and ${READABLE}`);
  const list = db.prepare<[string, number], Row>(
    `select ${COLUMNS} from "posts" where "published" = 1 and ${READABLE} order by "views" desc, "id" desc limit ?`,
  );
  const count = db.prepare<[string], { count: number }>(`select count(*) as "count" from "posts" where "published" = 1 and ${READABLE}`);
  const insert = db.prepare<unknown[], Row>(
    `insert into "posts" (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning ${COLUMNS}`,
  );
  const addLike = db.prepare<[number, string, string, string], Row>(
    `update "posts" set "likes" = ?, "updatedAt" = ? where "id" = ? and ${READABLE} returning ${COLUMNS}`,
  );
  const likeOne = db.transaction((id: string, caller: string): Post | null => {
    const row = get.get(id, caller);
    if (row === undefined) return null;
    return post(addLike.get(row.likes + 1, new Date().toISOString(), id, caller)!);
  });
  const session = db.prepare<[string], Record<string, unknown>>(
    `select "users"."id", "users"."email", "users"."role", "users"."emailVerified", "users"."createdAt", "users"."updatedAt",
      "s"."id" as "sessionId", "s"."createdAt" as "sessionCreatedAt", "s"."expiresAt" as "sessionExpiresAt"
     from "cimiento_sessions" as "s" join "users" on "users"."id" = "s"."user" where "s"."tokenHash" = ?`,
  );

  const account = db.prepare<[string], Account>(
    `select "users"."id", "email", "role", "passwordHash" from "users" join "cimiento_credentials" on "cimiento_credentials"."user" = "users"."id" where "email" = ?`,
  );
  const addSession = db.prepare(
    `insert into "cimiento_sessions" ("id", "tokenHash", "user", "expiresAt", "refreshedAt", "createdAt", "updatedAt") values (?, ?, ?, ?, ?, ?, ?)`,
  );

  return {
    account: (email) => account.get(email) ?? null,
    addSession: (userId, tokenHash, expiresAt) => {
      const now = new Date().toISOString();
      addSession.run(uuidv7(), tokenHash, userId, expiresAt, Date.now(), now, now);
    },
    session: (tokenHash): SessionRow | null => {
      const row = session.get(tokenHash);
      if (row === undefined || Number(row["sessionExpiresAt"]) <= Date.now()) return null;
      const { sessionId, sessionCreatedAt, sessionExpiresAt, emailVerified, ...user } = row;
      return {
        user: { ...user, emailVerified: emailVerified === 1 } as unknown as SessionRow["user"],
        session: {
          id: sessionId as string,
          userId: user["id"] as string,
          createdAt: sessionCreatedAt as string,
          expiresAt: new Date(Number(sessionExpiresAt)).toISOString(),
        },
      };
    },
    get: (id, caller) => {
      const row = get.get(id, caller);
      return row === undefined ? null : post(row);
    },
    list: (caller, withCount) => {
      const items = list.all(caller, PAGE + 1).map(post);
      const more = items.length > PAGE;
      if (more) items.pop();
      const page: PostPage = { items, nextCursor: more ? cursorAfter(items.at(-1)!) : null };
      if (withCount) page.total = count.get(caller)!.count;
      return page;
    },
    create: (input: NewPost) => {
      const now = new Date().toISOString();
      const values = [uuidv7(), input.title, input.body, input.author, input.published ? 1 : 0, input.publishedAt, 0, 0, JSON.stringify(input.tags), now, now];
      // Stepped to its end (all(), as cimiento's driver does): get() leaves an INSERT ... RETURNING
      // unfinished, which keeps every checkpoint from resetting the WAL; it grew by 14 KB a
      // request and each insert got slower, until it cost twice as much after 70,000.
      return post(insert.all(...values)[0]!);
    },
    like: (id, caller) => likeOne.immediate(id, caller),
    close: async () => {
      db.close();
    },
  };
}
