import { afterAll, beforeAll, expect, test } from "vitest";
import { ApiError } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { names, openBlog, type Blog } from "./fixtures.js";

describeEachDatabase("where", (db) => {
  let backend: Blog;
  let close: () => Promise<void>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ backend, close } = await openBlog(db));
    const { data } = backend.system;
    const created = await data.users.createMany([
      {
        name: "Ann",
        email: "ann@example.com",
        age: 30,
        score: 1.5,
        role: "admin",
        joinedAt: new Date("2024-01-01T00:00:00Z"),
        meta: { a: 1 },
      },
      { name: "Bob", email: "bob@example.com", age: 25, active: false, joinedAt: "2024-06-01T00:00:00Z" },
      { name: "Cy", email: "cy@example.com", score: 3 },
      {
        name: "Dee 100%_*[x]",
        email: "dee@example.com",
        age: 40,
        score: 2.5,
        joinedAt: new Date("2025-01-01T00:00:00Z"),
      },
    ]);
    for (const user of created) ids[user.name] = user.id;
    const post = (title: string, author: string, published: boolean, rank = 0) =>
      data.posts.create({ title, author: ids[author]!, published, rank });
    const annPost = await post("Ann writes", "Ann", true, 1);
    const annDraft = await post("Ann drafts", "Ann", false, 2);
    const bobPost = await post("Bob writes", "Bob", true, 3);
    await data.comments.createMany([
      { body: "first", post: annPost.id, author: ids["Bob"]! },
      { body: "second", post: annPost.id, author: ids["Cy"]! },
      { body: "only", post: bobPost.id, author: ids["Bob"]! },
    ]);
    ids["Ann writes"] = annPost.id;
    ids["Ann drafts"] = annDraft.id;
    ids["Bob writes"] = bobPost.id;
    const sql = await data.tags.create({ name: "sql" });
    const web = await data.tags.create({ name: "web" });
    await data.postTags.createMany([
      { post: annPost.id, tag: sql.id },
      { post: annPost.id, tag: web.id },
      { post: bobPost.id, tag: web.id },
    ]);
  });
  afterAll(() => close());

  const userCases: [string, unknown, string[]][] = [
    ["a value means equality", { age: 30 }, ["Ann"]],
    ["eq", { role: { eq: "admin" } }, ["Ann"]],
    ["null means is null", { age: null }, ["Cy"]],
    ["eq null means is null", { age: { eq: null } }, ["Cy"]],
    ["ne keeps records where the field is null", { age: { ne: 30 } }, ["Bob", "Cy", "Dee 100%_*[x]"]],
    ["ne null means is not null", { age: { ne: null } }, ["Ann", "Bob", "Dee 100%_*[x]"]],
    ["gt on integers", { age: { gt: 30 } }, ["Dee 100%_*[x]"]],
    ["gte on integers", { age: { gte: 30 } }, ["Ann", "Dee 100%_*[x]"]],
    ["lt on numbers", { score: { lt: 2.5 } }, ["Ann"]],
    ["lte on numbers", { score: { lte: 2.5 } }, ["Ann", "Dee 100%_*[x]"]],
    ["gt and lt together form a range", { age: { gt: 20, lt: 35 } }, ["Ann", "Bob"]],
    ["gt on text is lexicographic", { name: { gt: "Bob" } }, ["Cy", "Dee 100%_*[x]"]],
    ["gte on datetimes with a Date", { joinedAt: { gte: new Date("2024-06-01T00:00:00Z") } }, ["Bob", "Dee 100%_*[x]"]],
    ["lt on datetimes with an ISO string", { joinedAt: { lt: "2024-06-01T00:00:00.000Z" } }, ["Ann"]],
    ["datetime equality with a Date", { joinedAt: new Date("2025-01-01T00:00:00Z") }, ["Dee 100%_*[x]"]],
    ["in", { age: { in: [25, 40, 99] } }, ["Bob", "Dee 100%_*[x]"]],
    ["in with an empty list matches nothing", { age: { in: [] } }, []],
    ["in on text", { email: { in: ["ann@example.com", "cy@example.com"] } }, ["Ann", "Cy"]],
    ["notIn keeps records where the field is null", { age: { notIn: [25, 30] } }, ["Cy", "Dee 100%_*[x]"]],
    ["notIn with an empty list matches everything", { age: { notIn: [] } }, ["Ann", "Bob", "Cy", "Dee 100%_*[x]"]],
    ["contains", { email: { contains: "ob@ex" } }, ["Bob"]],
    ["contains is case-sensitive", { name: { contains: "ann" } }, []],
    ["contains takes %, _, * and [ literally", { name: { contains: "100%_*[x" } }, ["Dee 100%_*[x]"]],
    ["contains does not treat _ as a wildcard", { name: { contains: "A_n" } }, []],
    ["startsWith", { name: { startsWith: "B" } }, ["Bob"]],
    ["startsWith is case-sensitive", { name: { startsWith: "b" } }, []],
    ["endsWith", { email: { endsWith: "y@example.com" } }, ["Cy"]],
    ["endsWith takes ] and * literally", { name: { endsWith: "*[x]" } }, ["Dee 100%_*[x]"]],
    ["isNull true", { score: { isNull: true } }, ["Bob"]],
    ["isNull false", { joinedAt: { isNull: false } }, ["Ann", "Bob", "Dee 100%_*[x]"]],
    ["booleans", { active: false }, ["Bob"]],
    ["boolean ne", { active: { ne: true } }, ["Bob"]],
    ["isNull on JSON", { meta: { isNull: false } }, ["Ann"]],
    ["and", { and: [{ age: { gte: 25 } }, { score: { isNull: false } }] }, ["Ann", "Dee 100%_*[x]"]],
    ["an empty and matches everything", { and: [] }, ["Ann", "Bob", "Cy", "Dee 100%_*[x]"]],
    ["or", { or: [{ age: 25 }, { score: 3 }] }, ["Bob", "Cy"]],
    ["an empty or matches nothing", { or: [] }, []],
    ["not is the complement, also where the field is null", { not: { age: { gt: 26 } } }, ["Bob", "Cy"]],
    ["not of not", { not: { not: { age: 30 } } }, ["Ann"]],
    ["several fields are AND-ed", { active: true, age: { gt: 0 } }, ["Ann", "Dee 100%_*[x]"]],
    ["id", { id: "does-not-exist" }, []],
    ["to-many some", { comments: { some: { body: "only" } } }, ["Bob"]],
    ["to-many none", { comments: { none: {} } }, ["Ann", "Dee 100%_*[x]"]],
    ["to-many every (true when there are none)", { comments: { every: { body: { ne: "first" } } } }, ["Ann", "Cy", "Dee 100%_*[x]"]],
    ["to-many with a nested to-one", { comments: { some: { post: { title: "Ann writes" } } } }, ["Bob", "Cy"]],
    ["hasMany some", { authored: { some: { published: false } } }, ["Ann"]],
    ["hasMany every with a nested relation filter", { authored: { every: { comments: { some: {} } } } }, ["Bob", "Cy", "Dee 100%_*[x]"]],
  ];

  for (const [name, where, expected] of userCases) {
    test(`users: ${name}`, async () => {
      const page = await backend.system.data.users.list({ where: where as never });
      expect(names(page.items)).toEqual(expected);
      expect(await backend.system.data.users.count({ where: where as never })).toBe(expected.length);
    });
  }

  const titles = async (where: unknown) =>
    (await backend.system.data.posts.list({ where: where as never })).items.map((post) => post.title).sort();

  test("posts: a belongsTo field compares the id", async () => {
    expect(await titles({ author: ids["Bob"] })).toEqual(["Bob writes"]);
    expect(await titles({ author: { in: [ids["Bob"], ids["Cy"]] } })).toEqual(["Bob writes"]);
    expect(await titles({ editor: null })).toEqual(["Ann drafts", "Ann writes", "Bob writes"]);
  });

  test("posts: a belongsTo field takes a filter on the related record", async () => {
    expect(await titles({ author: { name: "Ann" } })).toEqual(["Ann drafts", "Ann writes"]);
    expect(await titles({ author: { age: { lt: 30 }, active: false } })).toEqual(["Bob writes"]);
    expect(await titles({ not: { author: { role: "admin" } } })).toEqual(["Bob writes"]);
  });

  test("posts: relation filters nest in both directions", async () => {
    expect(await titles({ comments: { some: { author: { name: "Cy" } } } })).toEqual(["Ann writes"]);
    expect(await titles({ author: { comments: { some: { body: "only" } } } })).toEqual(["Bob writes"]);
  });

  test("many-to-many through a join collection can be filtered on", async () => {
    expect(await titles({ postTags: { some: { tag: { name: "sql" } } } })).toEqual(["Ann writes"]);
    expect(await titles({ postTags: { some: { tag: { name: "web" } } } })).toEqual(["Ann writes", "Bob writes"]);
    expect(await titles({ postTags: { none: {} } })).toEqual(["Ann drafts"]);
    const web = await backend.system.data.tags.list({
      where: { postTags: { some: { post: { author: { name: "Bob" } } } } },
    });
    expect(names(web.items)).toEqual(["web"]);
  });

  const invalid: [string, unknown, string][] = [
    ["an unknown field", { nmae: "Ann" }, 'where.nmae: "nmae" is not a field of "users"'],
    ["an unknown operator", { age: { greaterThan: 3 } }, 'where.age.greaterThan: unknown operator "greaterThan"'],
    ["a string for an integer", { age: "30" }, 'where.age: expected a whole number, got "30"'],
    ["a fraction for an integer", { age: { gt: 29.5 } }, "where.age.gt: expected a whole number, got 29.5"],
    ["a number for a string", { name: { startsWith: 1 } }, "where.name.startsWith: expected a string, got 1"],
    ["contains on an integer", { age: { contains: "3" } }, "where.age.contains: contains applies to text fields only"],
    ["ordering booleans", { active: { gt: false } }, "where.active.gt: booleans cannot be ordered"],
    ["a JSON value", { meta: { a: 1 } }, "where.meta.a: JSON fields can only be tested with isNull"],
    ["an enum value that does not exist", { role: "owner" }, 'where.role: "owner" is not one of "admin", "member"'],
    ["in without an array", { age: { in: 3 } }, "where.age.in: expected an array, got 3"],
    ["or without an array", { or: { age: 3 } }, "where.or: expected an array of filters, got an object"],
    ["an invalid date", { joinedAt: { gt: "yesterday" } }, "where.joinedAt.gt: expected a Date or an ISO 8601 date-time"],
    ["an unknown relation operator", { comments: { any: {} } }, 'where.comments.any: unknown relation operator "any"'],
    ["a filter on an unknown field of a relation", { comments: { some: { nope: 1 } } }, 'where.comments.some.nope: "nope" is not a field of "comments"'],
    ["a non-object where", "age = 3", "where: expected an object, got \"age = 3\""],
  ];

  for (const [name, where, message] of invalid) {
    test(`refuses ${name} with INVALID_QUERY`, async () => {
      const error = await backend.system.data.users.list({ where: where as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 400, code: "INVALID_QUERY" });
      expect((error as ApiError).message).toContain(message);
    });
  }

  test("values are bound, never spliced into SQL", async () => {
    const hostile = "x' or '1'='1";
    expect(names((await backend.system.data.users.list({ where: { name: hostile } })).items)).toEqual([]);
    expect(names((await backend.system.data.users.list({ where: { name: { contains: hostile } } })).items)).toEqual([]);
    expect(await backend.system.data.users.count()).toBe(4);
  });
});

describeEachDatabase("where: empty operator objects", (db) => {
  test("constrain nothing, also under not and inside a rule-free relation filter", async () => {
    const { backend, close } = await openBlog(db);
    await backend.system.data.users.createMany([
      { name: "A", email: "a@example.com", age: 3 },
      { name: "B", email: "b@example.com" },
    ]);
    const { data } = backend.system;
    expect(await data.users.count({ where: { age: {} } })).toBe(2);
    expect(await data.users.count({ where: { age: { eq: undefined } } })).toBe(2);
    expect(await data.users.count({ where: { not: { age: {} } } })).toBe(0);
    expect(await data.users.count({ where: { age: {}, name: "A" } })).toBe(1);
    await close();
  });
});
