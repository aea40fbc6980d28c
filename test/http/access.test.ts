/**
 * Access over HTTP, with the caller from `auth.resolve` (here `Authorization: Bearer <user id>`):
 * 404 for a record the caller may not see, 403 for one it sees but may not change, 401 for an
 * anonymous caller where a rule needs a user, and hidden fields never in any response. Each runs
 * through fetch, Express and Hono, on every database.
 */
import { beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, type DatabaseAdapter, type Principal, type RuleContext } from "cimiento";
import { describeEachServer, read, REQUEST_ID } from "./support.js";

const PASSWORD_HASH = "scrypt:never-leaves-the-backend";
const NOTE = "internal-note-never-leaves";

const visible = ({ user }: RuleContext) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] });

const users = collection("users", {
  fields: {
    name: field.text(z.string().min(1)),
    role: field.enum(["admin", "member"]).default("member").readOnly(),
    email: field.text().access({ read: ({ user }) => user?.role === "admin" }),
    passwordHash: field.text().default(PASSWORD_HASH).hidden(),
  },
  access: { list: ({ user }) => user !== null, get: ({ user }) => user !== null, update: ({ user }) => (user ? { id: user.id } : false) },
});

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    published: field.boolean().default(false),
    author: field.belongsTo("users").readOnly(),
    note: field.text().optional().hidden(),
  },
  access: {
    list: visible,
    get: visible,
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { author: user.id } : false),
    delete: ({ user }) => user?.role === "admin",
  },
  hooks: {
    beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author, note: NOTE }),
  },
});

const comments = collection("comments", {
  fields: {
    body: field.text(),
    post: field.belongsTo("posts", { onDelete: "cascade" }),
    author: field.belongsTo("users").readOnly(),
  },
  access: { list: () => true, get: () => true, create: ({ user }) => user !== null },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author }) },
});

const whoAmI = action({
  input: z.object({}),
  access: ({ user }) => user !== null,
  handler: ({ user }) => ({ id: user!.id, role: user!.role }),
});

/** Returns a record read through `system`: every field of it, hidden ones too. */
const rawUser = action({
  input: z.object({ id: z.string() }),
  access: ({ user }) => user?.role === "admin",
  handler: ({ input, system }) => system.data.users.get(input.id),
});

const adminOnly = action({
  input: z.object({}),
  access: ({ user }) => user?.role === "admin",
  handler: () => "ok",
});

const logged: { message: string; error: unknown }[] = [];

function accessBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  const backend = createBackend({
    database,
    collections: { users, posts, comments },
    actions: { whoAmI, adminOnly, rawUser },
    logger: { error: (message, details) => logged.push({ message, error: details?.["error"] }) },
    auth: {
      // A test resolver: the bearer token is the user's id.
      async resolve(request): Promise<Principal | null> {
        const header = request.headers.get("authorization");
        if (header === null) return null;
        if (header === "Bearer crash") throw new Error("the token service is down: key=abc123");
        const user: { id: string; role: string } | null = await backend.system.data.users.get(header.replace(/^Bearer /, ""));
        if (user === null) throw new ApiError(401, "INVALID_TOKEN", "The token is not valid.");
        return { id: user.id, role: user.role };
      },
    },
  });
  return backend;
}

function problem(status: number, title: string, code: string, detail: unknown, extra: Record<string, unknown> = {}) {
  return {
    status,
    type: "application/problem+json",
    body: { type: "about:blank", title, status, detail, code, requestId: expect.stringMatching(REQUEST_ID), ...extra },
  };
}

describeEachServer("HTTP access", accessBackend, (served) => {
  let ada: { id: string };
  let bob: { id: string };
  let draft: { id: string }; // Bob's, unpublished
  let post: { id: string }; // Bob's, published
  let comment: { id: string };

  const as = (user: { id: string } | null): Record<string, string> => (user ? { authorization: `Bearer ${user.id}` } : {});

  beforeAll(async () => {
    const { data } = served.backend.system;
    ada = await data.users.create({ name: "Ada", email: "ada@example.com", role: "admin" });
    bob = await data.users.create({ name: "Bob", email: "bob@example.com" });
    await data.users.create({ name: "Cy", email: "cy@example.com" });
    draft = await data.posts.create({ title: "Bob's draft", author: bob.id });
    post = await data.posts.create({ title: "Bob's post", author: bob.id, published: true });
    comment = await data.comments.create({ body: "Nice", post: post.id, author: bob.id });
  });

  const cy = async () => (await served.backend.system.data.users.list({ where: { name: "Cy" } })).items[0]!;

  test("the caller comes from auth.resolve: anonymous, or the bearer's user", async () => {
    expect(await read(await served.request("/actions/whoAmI", { method: "POST", headers: as(bob) }))).toEqual({
      status: 200,
      type: "application/json",
      body: { id: bob.id, role: "member" },
    });
    expect(await read(await served.request("/actions/whoAmI", { method: "POST" }))).toEqual(
      problem(401, "Unauthorized", "UNAUTHORIZED", "You may not call whoAmI. Sign in first."),
    );
  });

  test("a resolver that throws an ApiError refuses the request with it", async () => {
    const response = await served.request("/collections/posts/records", { headers: { authorization: "Bearer forged" } });
    expect(await read(response)).toEqual(problem(401, "Unauthorized", "INVALID_TOKEN", "The token is not valid."));
  });

  test("a resolver that fails unexpectedly is a 500 that shows nothing; the logger gets the error", async () => {
    logged.length = 0;
    const response = await served.request("/collections/posts/records", { headers: { authorization: "Bearer crash" } });
    expect(await read(response)).toEqual(problem(500, "Internal Server Error", "INTERNAL", "Something went wrong on our side."));
    expect(logged).toEqual([
      { message: "A request failed with an unexpected error.", error: new Error("the token service is down: key=abc123") },
    ]);
  });

  test("a record the caller may not see is 404 NOT_FOUND for get, update and delete, as if there were none", async () => {
    const caller = await cy();
    const url = `/collections/posts/records/${draft.id}`;
    const missing = (id: string) => problem(404, "Not Found", "NOT_FOUND", expect.any(String), { collection: "posts", id });
    expect(await read(await served.request(url, { headers: as(caller) }))).toEqual(
      problem(404, "Not Found", "NOT_FOUND", `No posts record with id "${draft.id}".`, { collection: "posts", id: draft.id }),
    );
    expect(await read(await served.request(url))).toEqual(missing(draft.id));
    const patched = await read(await served.json("PATCH", url, { title: "Cy's now" }, as(caller)));
    expect(patched).toMatchObject({ status: 404, type: "application/problem+json", body: { status: 404, code: "NOT_FOUND" } });
    const deleted = await read(await served.request(url, { method: "DELETE", headers: as(ada) }));
    // Ada is an admin (she may delete posts) but cannot see Bob's draft: 404, and it stays.
    expect(deleted).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
    // The same answer as for an id that does not exist.
    const none = await read(await served.json("PATCH", "/collections/posts/records/no-such-id", { title: "x" }, as(caller)));
    const same = (body: unknown) => ({ ...(body as object), detail: "", requestId: "", id: "" });
    expect(same(none.body)).toEqual(same(patched.body));
    expect(await served.backend.system.data.posts.get(draft.id)).toMatchObject({ title: "Bob's draft" });
  });

  test("its owner sees and changes it", async () => {
    const url = `/collections/posts/records/${draft.id}`;
    expect(await read(await served.request(url, { headers: as(bob) }))).toMatchObject({ status: 200, body: { id: draft.id } });
    expect(await read(await served.json("PATCH", url, { title: "Bob's draft, v2" }, as(bob)))).toMatchObject({
      status: 200,
      body: { title: "Bob's draft, v2" },
    });
  });

  test("a record the caller sees but may not change is 403 FORBIDDEN", async () => {
    const url = `/collections/posts/records/${post.id}`;
    const caller = await cy();
    const named = { collection: "posts", id: post.id };
    expect(await read(await served.json("PATCH", url, { title: "Cy's now" }, as(caller)))).toEqual(
      problem(403, "Forbidden", "FORBIDDEN", expect.any(String), named),
    );
    expect(await read(await served.request(url, { method: "DELETE", headers: as(bob) }))).toEqual(
      problem(403, "Forbidden", "FORBIDDEN", expect.any(String), named),
    );
    expect(await served.backend.system.data.posts.get(post.id)).toMatchObject({ title: "Bob's post" });
  });

  test("an anonymous caller is 401 UNAUTHORIZED where a rule needs a user", async () => {
    const url = `/collections/posts/records/${post.id}`;
    const unauthorized = problem(401, "Unauthorized", "UNAUTHORIZED", expect.any(String));
    expect(await read(await served.json("PATCH", url, { title: "Anonymous" }))).toEqual(unauthorized);
    expect(await read(await served.request(url, { method: "DELETE" }))).toEqual(unauthorized);
    expect(await read(await served.json("POST", "/collections/posts/records", { title: "Anonymous" }))).toEqual(unauthorized);
    expect(await read(await served.request("/collections/users/records"))).toEqual(unauthorized);
    // ...and reads what anonymous callers may read.
    const listed = await read(await served.request("/collections/posts/records"));
    expect((listed.body as { items: { id: string }[] }).items.map((item) => item.id)).toEqual([post.id]);
  });

  test("a signed-in caller an action's rule refuses is 403 FORBIDDEN", async () => {
    expect(await read(await served.request("/actions/adminOnly", { method: "POST", headers: as(bob) }))).toEqual(
      problem(403, "Forbidden", "FORBIDDEN", "You may not call adminOnly."),
    );
    expect(await read(await served.request("/actions/adminOnly", { method: "POST", headers: as(ada) }))).toMatchObject({ status: 200, body: "ok" });
  });

  test("hidden fields are in no response: list, get, create, update, includes", async () => {
    const responses = [
      await served.request("/collections/users/records", { headers: as(ada) }),
      await served.request(`/collections/users/records/${bob.id}`, { headers: as(ada) }),
      await served.request(`/collections/users/records/${bob.id}?include=posts`, { headers: as(bob) }),
      await served.json("PATCH", `/collections/users/records/${bob.id}`, { name: "Bobby" }, as(bob)),
      await served.request("/collections/posts/records?include=author", { headers: as(bob) }),
      await served.request(`/collections/posts/records/${post.id}?include=author,comments.author`),
      await served.json("POST", "/collections/posts/records?include=author", { title: "Ada's" }, as(ada)),
      await served.json("PATCH", `/collections/posts/records/${post.id}?include=author`, { title: "Bob's post!" }, as(bob)),
      await served.request("/collections/comments/records?include=post.author", { headers: as(ada) }),
      await served.request(`/collections/comments/records/${comment.id}?include=post.author`, { headers: as(ada) }),
    ];
    for (const response of responses) {
      expect(response.status, response.url).toBeLessThan(300);
      const text = await response.text();
      expect(text).not.toContain("passwordHash");
      expect(text).not.toContain(PASSWORD_HASH);
      expect(text).not.toContain('"note"');
      expect(text).not.toContain(NOTE);
    }
    // They are there, for the system scope.
    expect(await served.backend.system.data.users.get(bob.id)).toMatchObject({ passwordHash: PASSWORD_HASH });
    expect(await served.backend.system.data.posts.get(post.id)).toMatchObject({ note: NOTE });
  });

  test("an action's result is sent as it is: a record it read through system has its hidden fields", async () => {
    const response = await served.json("POST", "/actions/rawUser", { id: bob.id }, as(ada));
    expect(await read(response)).toMatchObject({ status: 200, body: { id: bob.id, passwordHash: PASSWORD_HASH } });
  });

  test("a field the caller may not read is left out; one who may reads it", async () => {
    const forBob = await read(await served.request(`/collections/users/records/${ada.id}`, { headers: as(bob) }));
    expect(forBob.body).not.toHaveProperty("email");
    const forAda = await read(await served.request(`/collections/users/records/${bob.id}`, { headers: as(ada) }));
    expect(forAda.body).toMatchObject({ email: "bob@example.com" });
  });

  test("a hidden field cannot be filtered, sorted or selected on: 400 INVALID_QUERY, worded as for no such field", async () => {
    const where = encodeURIComponent(JSON.stringify({ passwordHash: PASSWORD_HASH }));
    expect(await read(await served.request(`/collections/users/records?where=${where}`, { headers: as(ada) }))).toEqual(
      problem(400, "Bad Request", "INVALID_QUERY", 'where.passwordHash: "passwordHash" is not a field of "users"', { path: "where.passwordHash" }),
    );
    expect(await read(await served.request("/collections/users/records?orderBy=passwordHash", { headers: as(ada) }))).toMatchObject({
      status: 400,
      body: { code: "INVALID_QUERY", path: "orderBy[0].passwordHash" },
    });
    expect(await read(await served.request(`/collections/posts/records/${post.id}?select=note`))).toMatchObject({
      status: 400,
      body: { code: "INVALID_QUERY", detail: 'select: "note" is not a field of "posts"' },
    });
  });

  test("a hidden field cannot be written: 422, reported as an unknown field", async () => {
    const response = await served.json("PATCH", `/collections/users/records/${bob.id}`, { passwordHash: "mine" }, as(bob));
    expect(await read(response)).toEqual(
      problem(422, "Unprocessable Content", "VALIDATION_FAILED", expect.any(String), {
        issues: [{ path: ["passwordHash"], code: "unrecognized_keys", message: 'Unknown field "passwordHash"' }],
      }),
    );
    const readOnly = await served.json("PATCH", `/collections/users/records/${bob.id}`, { role: "admin" }, as(bob));
    expect(await read(readOnly)).toMatchObject({
      status: 422,
      body: { code: "VALIDATION_FAILED", issues: [{ path: ["role"], code: "read_only", message: "This field is read-only" }] },
    });
    expect(await served.backend.system.data.users.get(bob.id)).toMatchObject({ passwordHash: PASSWORD_HASH, role: "member" });
  });
});
