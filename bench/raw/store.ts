/**
 * The baselines' data access: what a careful hand-written endpoint does with prepared
 * statements, and nothing more. One interface, implemented for better-sqlite3 and for `pg`.
 * @module
 */

/** A post as every server returns it. */
export interface Post {
  id: string;
  title: string;
  body: string | null;
  published: boolean;
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
  published: boolean;
  tags: string[];
}

/** The baselines' operations; each is one prepared statement (two for a list with its count). */
export interface RawStore {
  get(id: string): Post | null | Promise<Post | null>;
  /** 20 published posts, most viewed first. */
  list(count: boolean): PostPage | Promise<PostPage>;
  create(input: NewPost): Post | Promise<Post>;
  /** Reads a post and adds one like, in one transaction. */
  like(id: string): Post | null | Promise<Post | null>;
  close(): Promise<void>;
}

/** The hand-written validation of a create body: `null` when it is not acceptable. */
export function checkNewPost(body: unknown): NewPost | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const { title, body: text, published, tags, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return null;
  if (typeof title !== "string" || title.length < 1 || title.length > 200) return null;
  if (text !== undefined && text !== null && typeof text !== "string") return null;
  if (published !== undefined && typeof published !== "boolean") return null;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string"))) return null;
  return { title, body: text ?? null, published: published ?? false, tags: (tags as string[] | undefined) ?? [] };
}

/** The keyset cursor after the last post of a page (sorted by views, then id). */
export function cursorAfter(post: Post): string {
  return Buffer.from(JSON.stringify([post.views, post.id])).toString("base64url");
}

/** The page size of the list scenarios. */
export const PAGE = 20;
