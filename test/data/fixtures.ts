/**
 * The schema the data suites share: users, posts and comments, and tags joined to posts
 * through a join collection (many-to-many).
 */
import { z } from "zod";
import { collection, field, type Backend } from "cimiento";
import { openBackend } from "../setup/backend.js";
import type { FreshOptions, TestDatabase } from "../setup/dialects.js";

export const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1)),
    email: field.text(z.email()).unique(),
    age: field.integer().optional(),
    score: field.number().optional(),
    active: field.boolean().default(true),
    role: field.enum(["admin", "member"]).default("member"),
    joinedAt: field.datetime().optional(),
    meta: field.json(z.record(z.string(), z.unknown())).optional(),
    authored: field.hasMany("posts", { on: "author" }),
  },
});

export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    rank: field.integer().default(0),
    published: field.boolean().default(false),
    author: field.belongsTo("users"),
    editor: field.belongsTo("users", { onDelete: "setNull" }).optional(),
    labels: field.json(z.array(z.string())).default([]),
  },
  indexes: [["published", "createdAt"]],
});

export const comments = collection("comments", {
  fields: {
    body: field.text(),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users"),
  },
});

export const tags = collection("tags", { fields: { name: field.text().unique() } });

export const postTags = collection("postTags", {
  fields: {
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    tag: field.belongsTo("tags", { onDelete: "cascade" }),
  },
  indexes: [{ fields: ["post", "tag"], unique: true }],
});

export const collections = { users, posts, comments, tags, postTags };
export type Blog = Backend<typeof collections, "sqlite" | "postgres">;

/** A migrated backend over a fresh database, and how to close and drop it. */
export function openBlog(db: TestDatabase, options?: FreshOptions) {
  return openBackend(db, collections, options);
}

/** Names of records, sorted, for order-insensitive comparisons. */
export function names(items: readonly { name: string }[]): string[] {
  return items.map((item) => item.name).sort();
}
