import { z } from "zod";
import { collection, field } from "cimiento";

export const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1).max(100)),
    email: field.text(z.email()).unique(),
  },
});

export const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    slug: field.text(z.string().regex(/^[a-z0-9-]+$/)).unique(),
    body: field.text().optional(),
    published: field.boolean().default(false),
    views: field.integer().default(0).readOnly(),
    tags: field.json(z.array(z.string())).default([]),
    author: field.belongsTo("users", { onDelete: "cascade" }),
  },
  indexes: [["published", "createdAt"]],
});

export const comments = collection("comments", {
  fields: {
    body: field.text(z.string().min(1)),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users", { onDelete: "cascade" }),
  },
});
