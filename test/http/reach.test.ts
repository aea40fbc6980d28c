/**
 * The collections a read reaches through relations, which an API key limited to some
 * collections must list too.
 */
import { expect, test } from "vitest";
import { collection, field } from "cimiento";
import { buildModel } from "../../src/model/model.js";
import { reachedCollections } from "../../src/http/reach.js";

const users = collection("users", { fields: { name: field.text() } });
const posts = collection("posts", { fields: { title: field.text(), author: field.belongsTo("users") } });
const comments = collection("comments", {
  fields: { body: field.text(), post: field.belongsTo("posts"), author: field.belongsTo("users") },
});
const tags = collection("tags", { fields: { name: field.text(), post: field.belongsTo("posts") } });
const model = buildModel({ users, posts, comments, tags });

const reached = (name: string, options: Record<string, unknown>) => [...reachedCollections(model, name, options)].sort();

test("a read without relations reaches no other collection", () => {
  expect(reached("posts", { where: { title: "a" }, select: ["title"] })).toEqual([]);
});

test("include reaches each included relation's collection, nested ones too", () => {
  expect(reached("posts", { include: { author: true } })).toEqual(["users"]);
  expect(reached("posts", { include: { comments: { include: { author: true } } } })).toEqual(["comments", "users"]);
});

test("where reaches the collections of to-one and to-many relation filters, inside and/or/not too", () => {
  expect(reached("comments", { where: { post: { title: "a" } } })).toEqual(["posts"]);
  expect(reached("posts", { where: { tags: { some: { name: "x" } } } })).toEqual(["tags"]);
  expect(reached("posts", { where: { or: [{ title: "a" }, { not: { comments: { none: { author: { name: "b" } } } } }] } })).toEqual([
    "comments",
    "users",
  ]);
});

test("a filter inside an include reaches its relations too", () => {
  expect(reached("users", { include: { posts: { where: { tags: { some: { name: "x" } } } } } })).toEqual(["posts", "tags"]);
});
