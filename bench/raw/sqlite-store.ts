/**
 * The SQLite baseline: better-sqlite3 statements prepared once.
 * @module
 */
import Database from "better-sqlite3";
import { v7 as uuidv7 } from "uuid";
import { cursorAfter, PAGE, type Account, type NewPost, type Post, type PostPage, type RawStore } from "./store.js";

interface Row {
  id: string;
  title: string;
  body: string | null;
  published: number;
  views: number;
  likes: number;
  tags: string;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `"id", "title", "body", "published", "views", "likes", "tags", "createdAt", "updatedAt"`;

function post(row: Row): Post {
  return { ...row, published: row.published === 1, tags: JSON.parse(row.tags) as string[] };
}

/** Opens the baseline on a SQLite file made by the benchmark's seed. */
export function sqliteStore(file: string): RawStore {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  const get = db.prepare<[string], Row>(`select ${COLUMNS} from "posts" where "id" = ?`);
  const list = db.prepare<[number], Row>(
    `select ${COLUMNS} from "posts" where "published" = 1 order by "views" desc, "id" desc limit ?`,
  );
  const count = db.prepare<[], { count: number }>(`select count(*) as "count" from "posts" where "published" = 1`);
  const insert = db.prepare<unknown[], Row>(
    `insert into "posts" (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning ${COLUMNS}`,
  );
  const addLike = db.prepare<[number, string, string], Row>(
    `update "posts" set "likes" = ?, "updatedAt" = ? where "id" = ? returning ${COLUMNS}`,
  );
  const likeOne = db.transaction((id: string): Post | null => {
    const row = get.get(id);
    if (row === undefined) return null;
    return post(addLike.get(row.likes + 1, new Date().toISOString(), id)!);
  });

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
    get: (id) => {
      const row = get.get(id);
      return row === undefined ? null : post(row);
    },
    list: (withCount) => {
      const items = list.all(PAGE + 1).map(post);
      const more = items.length > PAGE;
      if (more) items.pop();
      const page: PostPage = { items, nextCursor: more ? cursorAfter(items.at(-1)!) : null };
      if (withCount) page.total = count.get()!.count;
      return page;
    },
    create: (input: NewPost) => {
      const now = new Date().toISOString();
      const row = insert.get(uuidv7(), input.title, input.body, input.published ? 1 : 0, 0, 0, JSON.stringify(input.tags), now, now);
      return post(row!);
    },
    like: (id) => likeOne.immediate(id),
    close: async () => {
      db.close();
    },
  };
}
