import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";
import { openBlog, type Blog } from "./fixtures.js";

describeEachDatabase("writes", (db) => {
  let backend: Blog;
  let close: () => Promise<void>;
  let author: string;

  beforeAll(async () => {
    ({ backend, close } = await openBlog(db));
  });
  afterAll(() => close());
  beforeEach(async () => {
    const { data } = backend.system;
    await data.posts.deleteMany({ where: {} });
    await data.users.deleteMany({ where: {} });
    author = (await data.users.create({ name: "Ann", email: "ann@example.com" })).id;
  });

  test("create applies defaults, generates a UUIDv7 id and timestamps, and returns the stored record", async () => {
    const before = Date.now();
    const post = await backend.system.data.posts.create({ title: "Hello", author });
    expect(post).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      title: "Hello",
      rank: 0,
      published: false,
      author,
      editor: null,
      labels: [],
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(post.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(post.updatedAt).toEqual(post.createdAt);
    expect(await backend.system.data.posts.get(post.id)).toEqual(post);
  });

  test("create keeps a given id, and values of every type round-trip", async () => {
    const joinedAt = new Date("2024-02-29T12:34:56.789Z");
    const user = await backend.system.data.users.create({
      id: "user-1",
      name: "Bob",
      email: "bob@example.com",
      age: 41,
      score: -0.25,
      active: false,
      role: "admin",
      joinedAt: "2024-02-29T12:34:56.789Z",
      meta: { nested: { list: [1, "two", null] } },
    });
    expect(user).toMatchObject({ id: "user-1", age: 41, score: -0.25, active: false, role: "admin", joinedAt });
    const read = await backend.system.data.users.get("user-1");
    expect(read).toEqual(user);
    expect(read!.meta).toEqual({ nested: { list: [1, "two", null] } });
  });

  test("a default of the new record is not shared between records", async () => {
    const a = await backend.system.data.posts.create({ title: "A", author });
    a.labels.push("mutated");
    const b = await backend.system.data.posts.create({ title: "B", author });
    expect(b.labels).toEqual([]);
  });

  test("validation lists every field's problem", async () => {
    const error = await failure(
      backend.system.data.users.create({
        name: "",
        email: "not an email",
        age: 1.5,
        role: "owner",
        nickname: "x",
      } as never),
    );
    expect(error.status).toBe(422);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.issues.map((issue) => [issue.path.join("."), issue.code])).toEqual([
      ["name", "too_small"],
      ["email", "invalid_format"],
      ["age", "invalid_type"],
      ["role", "invalid_value"],
      ["nickname", "unrecognized_keys"],
    ]);
    expect(error.message).toContain('nickname: Unknown field "nickname"');
    expect(await backend.system.data.users.count()).toBe(1);
  });

  test("a missing required field and a wrong type are refused", async () => {
    const error = await failure(backend.system.data.posts.create({ published: "yes" } as never));
    expect(error.issues.map((issue) => issue.path.join("."))).toEqual(["title", "published", "author"]);
  });

  test("a datetime must be a Date or an ISO string with a time zone", async () => {
    const error = await failure(
      backend.system.data.users.create({ name: "C", email: "c@example.com", joinedAt: "2024-01-01 10:00" }),
    );
    expect(error.issues.map((issue) => issue.path.join("."))).toEqual(["joinedAt"]);
  });

  test("a unique value taken is UNIQUE_VIOLATION naming the field", async () => {
    const error = await failure(backend.system.data.users.create({ name: "Twin", email: "ann@example.com" }));
    expect(error).toMatchObject({ status: 409, code: "UNIQUE_VIOLATION", details: { fields: ["email"] } });
    const id = await failure(backend.system.data.users.create({ id: author, name: "Twin", email: "twin@example.com" }));
    expect(id.details).toEqual({ fields: ["id"] });
  });

  test("a belongsTo to a record that does not exist is REFERENCE_NOT_FOUND naming the field", async () => {
    const error = await failure(backend.system.data.posts.create({ title: "x", author: "nobody" }));
    expect(error).toMatchObject({ status: 422, code: "REFERENCE_NOT_FOUND" });
    expect(error.issues.map((issue) => issue.path)).toEqual([["author"]]);
    const editor = await failure(backend.system.data.posts.create({ title: "x", author, editor: "nobody" }));
    expect(editor.issues.map((issue) => issue.path)).toEqual([["editor"]]);
  });

  test("update changes only the given fields and moves updatedAt", async () => {
    const post = await backend.system.data.posts.create({ title: "Old", author, rank: 3 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await backend.system.data.posts.update(post.id, { title: "New", labels: ["a"] });
    expect(updated).toEqual({ ...post, title: "New", labels: ["a"], updatedAt: expect.any(Date) });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(post.updatedAt.getTime());
  });

  test("update can set an optional field to null, and refuses unknown fields and bad values", async () => {
    const user = await backend.system.data.users.create({ name: "D", email: "d@example.com", age: 3 });
    expect((await backend.system.data.users.update(user.id, { age: null })).age).toBeNull();
    const error = await failure(backend.system.data.users.update(user.id, { name: null, colour: "red" } as never));
    expect(error.issues.map((issue) => [issue.path.join("."), issue.code])).toEqual([
      ["name", "invalid_type"],
      ["colour", "unrecognized_keys"],
    ]);
  });

  test("update and delete of a record that does not exist are NOT_FOUND", async () => {
    const update = await failure(backend.system.data.posts.update("missing", { title: "x" }));
    expect(update).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const remove = await failure(backend.system.data.posts.delete("missing"));
    expect(remove).toMatchObject({ status: 404, code: "NOT_FOUND" });
  });

  test("updateMany and deleteMany change exactly the matching records", async () => {
    const { data } = backend.system;
    await data.posts.createMany([
      { title: "a", author, rank: 1 },
      { title: "b", author, rank: 2 },
      { title: "c", author, rank: 3 },
    ]);
    expect(await data.posts.updateMany({ where: { rank: { gte: 2 } }, data: { published: true } })).toEqual({ count: 2 });
    expect((await data.posts.list({ where: { published: true }, orderBy: { title: "asc" } })).items.map((p) => p.title)).toEqual([
      "b",
      "c",
    ]);
    expect(await data.posts.deleteMany({ where: { published: false } })).toEqual({ count: 1 });
    expect(await data.posts.count()).toBe(2);
    const error = await failure(data.posts.deleteMany({} as never));
    expect(error.message).toBe("where: deleteMany needs a where (use {} to mean every record)");
    expect(await data.posts.count()).toBe(2);
  });

  test("updateMany validates its data", async () => {
    const error = await failure(backend.system.data.posts.updateMany({ where: {}, data: { rank: "high" } as never }));
    expect(error.code).toBe("VALIDATION_FAILED");
  });

  test("createMany is all or nothing", async () => {
    const { data } = backend.system;
    const invalid = await failure(
      data.users.createMany([
        { name: "ok", email: "ok@example.com" },
        { name: "", email: "bad" },
      ]),
    );
    expect(invalid.issues.map((issue) => issue.path)).toEqual([
      [1, "name"],
      [1, "email"],
    ]);
    const conflict = await failure(
      data.users.createMany([
        { name: "new", email: "new@example.com" },
        { name: "dup", email: "ann@example.com" },
      ]),
    );
    expect(conflict.code).toBe("UNIQUE_VIOLATION");
    expect(await data.users.count()).toBe(1);
  });

  test("createMany returns the records in the order given, across batches", async () => {
    const input = Array.from({ length: 1234 }, (_, i) => ({ title: `p${i}`, author, rank: i }));
    const created = await backend.system.data.posts.createMany(input);
    expect(created.map((post) => post.rank)).toEqual(input.map((post) => post.rank));
    expect(await backend.system.data.posts.count()).toBe(1234);
  });

  test("delete returns the record; restrict refuses, cascade and setNull follow", async () => {
    const { data } = backend.system;
    const bob = await data.users.create({ name: "Bob", email: "bob@example.com" });
    const post = await data.posts.create({ title: "p", author, editor: bob.id });
    await data.comments.create({ body: "hi", post: post.id, author: bob.id });

    const restricted = await failure(data.users.delete(author));
    expect(restricted).toMatchObject({ status: 409, code: "STILL_REFERENCED" });
    expect(restricted.message).toContain("posts.author");
    expect(await data.users.get(author)).not.toBeNull();

    await data.comments.deleteMany({ where: { author: bob.id } });
    const deleted = await data.users.delete(bob.id);
    expect(deleted).toMatchObject({ id: bob.id, name: "Bob" });
    expect((await data.posts.get(post.id))!.editor).toBeNull();

    await data.comments.create({ body: "again", post: post.id, author });
    await data.posts.delete(post.id);
    expect(await data.comments.count({ where: { post: post.id } })).toBe(0);
  });

  test("upsert creates, then updates the record its unique field names", async () => {
    const { data } = backend.system;
    const created = await data.users.upsert({
      where: { email: "eve@example.com" },
      create: { name: "Eve", email: "eve@example.com" },
      update: { name: "Eve 2" },
    });
    expect(created.name).toBe("Eve");
    const updated = await data.users.upsert({
      where: { email: "eve@example.com" },
      create: { name: "Eve", email: "eve@example.com" },
      update: { name: "Eve 2" },
    });
    expect(updated).toMatchObject({ id: created.id, name: "Eve 2" });
    expect(await data.users.count({ where: { email: "eve@example.com" } })).toBe(1);
  });

  test("concurrent upserts of one key create one record", async () => {
    const { data } = backend.system;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        data.users.upsert({
          where: { email: "race@example.com" },
          create: { name: `racer ${i}`, email: "race@example.com" },
          update: { age: i },
        }),
      ),
    );
    expect(new Set(results.map((user) => user.id)).size).toBe(1);
    expect(await data.users.count({ where: { email: "race@example.com" } })).toBe(1);
  });

  test("upsert needs exactly one unique field", async () => {
    const error = await failure(
      backend.system.data.users.upsert({ where: { name: "Ann" }, create: { name: "Ann", email: "x@example.com" }, update: {} }),
    );
    expect(error.message).toContain("upsert needs exactly one unique field (or id)");
  });
});
