/**
 * The baselines' data access: what a careful hand-written endpoint does with prepared
 * statements, and nothing more, under the same rules as the cimiento servers: a post is readable
 * (and may be liked) when it is published or by the caller, and created only as the caller. One
 * interface, implemented for better-sqlite3 and for `pg`.
 * @module
 */

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** A post as every server returns it. */
export interface Post {
  id: string;
  title: string;
  body: string | null;
  author: string;
  published: boolean;
  publishedAt: string | null;
  views: number;
  likes: number;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

/** A page of the list scenario. */
export interface PostPage {
  items: Post[];
  nextCursor: string | null;
  total?: number;
}

/** The input of a create, checked by hand. */
export interface NewPost {
  title: string;
  body: string | null;
  author: string;
  published: boolean;
  publishedAt: string | null;
  tags: string[];
}

/** The user and session of a session token, read in one statement. */
export interface SessionRow {
  user: Record<string, unknown> & { id: string };
  session: { id: string; userId: string; createdAt: string; expiresAt: string };
}

/**
 * The baselines' operations; each is one prepared statement (two for a list with its count, and
 * for the like's read and update in one transaction). `caller` is the signed-in user's id.
 */
export interface RawStore {
  get(id: string, caller: string): Post | null | Promise<Post | null>;
  /** 20 published posts, most viewed first (of those the caller may read). */
  list(caller: string, count: boolean): PostPage | Promise<PostPage>;
  create(input: NewPost): Post | Promise<Post>;
  /** Reads a post and adds one like, in one transaction. */
  like(id: string, caller: string): Post | null | Promise<Post | null>;
  /** The unexpired session of a token's hash, with its user (one statement). */
  session(tokenHash: string): SessionRow | null | Promise<SessionRow | null>;
  /** The account of an e-mail address and its password hash (one statement). */
  account(email: string): Account | null | Promise<Account | null>;
  /** Stores a new session (its token's hash) for a user (one statement). */
  addSession(userId: string, tokenHash: string, expiresAt: number): void | Promise<void>;
  close(): Promise<void>;
}

/** The hand-written validation of a create body: `null` when it is not acceptable. */
export function checkNewPost(body: unknown): NewPost | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const { title, body: text, author, published, publishedAt, tags, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return null;
  if (typeof title !== "string" || title.length < 1 || title.length > 200) return null;
  if (typeof author !== "string") return null;
  if (text !== undefined && text !== null && typeof text !== "string") return null;
  if (published !== undefined && typeof published !== "boolean") return null;
  if (publishedAt !== undefined && publishedAt !== null && (typeof publishedAt !== "string" || Number.isNaN(Date.parse(publishedAt)))) return null;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string"))) return null;
  return { title, body: text ?? null, author, published: published ?? false, publishedAt: publishedAt == null ? null : new Date(publishedAt as string).toISOString(), tags: (tags as string[] | undefined) ?? [] };
}

/** The keyset cursor after the last post of a page (sorted by views, then id). */
export function cursorAfter(post: Post): string {
  return Buffer.from(JSON.stringify([post.views, post.id])).toString("base64url");
}

/** The page size of the list scenarios. */
export const PAGE = 20;

/** The hash under which a session token is stored. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** The token of a `Cookie` header's session cookie, read as a hand-written server would. */
export function cookieToken(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return null;
}

/** A user and its password hash, as the sign-in baseline reads them. */
export interface Account {
  id: string;
  email: string;
  role: string;
  passwordHash: string;
}

/**
 * Checks a password against a `$scrypt$ln=..,r=..,p=..$salt$digest` hash, as a careful
 * hand-written sign-in would: scrypt on the thread pool, a constant-time comparison.
 */
export async function verifyScrypt(hash: string, password: string): Promise<boolean> {
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(hash);
  if (match === null) return false;
  const [, ln, r, p, salt, digest] = match;
  const N = 2 ** Number(ln);
  const expected = Buffer.from(digest!, "base64url");
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), Buffer.from(salt!, "base64url"), expected.length, { N, r: Number(r), p: Number(p), maxmem: 2 * 128 * Number(r) * N * Number(p) + 1024 * 1024 }, (error, derived) =>
      error ? reject(error) : resolve(derived),
    ),
  );
  return timingSafeEqual(key, expected);
}

/** The sign-in baseline: look up, verify, store a session, answer `{ user, token }`. */
export async function signInRaw(store: RawStore, body: unknown): Promise<{ status: number; body: unknown }> {
  const { email, password } = (body ?? {}) as { email?: unknown; password?: unknown };
  if (typeof email !== "string" || typeof password !== "string") return { status: 422, body: { code: "VALIDATION_FAILED" } };
  const account = await store.account(email.trim().toLowerCase());
  if (account === null || !(await verifyScrypt(account.passwordHash, password))) return { status: 401, body: { code: "INVALID_CREDENTIALS" } };
  const token = randomBytes(32).toString("base64url");
  await store.addSession(account.id, tokenHash(token), Date.now() + 30 * 86_400_000);
  return { status: 200, body: { user: { id: account.id, email: account.email, role: account.role }, token } };
}
