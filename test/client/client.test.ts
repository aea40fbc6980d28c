/**
 * `cimiento/client` against a real server (`node:http` + `toNodeHandler`, on a random loopback
 * port), on every database: every collection route, actions at `/actions/:name` and at their own
 * bindings, every auth route with a kept token and with cookies, errors as `ApiError`, and
 * `all()` across cursor pages.
 */
import { createServer } from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { toNodeHandler } from "cimiento/node";
import { ApiError, createClient, isApiError } from "cimiento/client";
import { describeEachDatabase } from "../setup/dialects.js";
import { listening, type Listening } from "../http/support.js";
import { startMailbox, tokenIn, PASSWORD, uniqueEmail, type Mailbox } from "../auth/support.js";
import { clientBackend, type ClientBackend } from "./backend.js";
import { cookieJar } from "./cookie-jar.js";

/** A fetch that records each request's method and path, for the tests of which route was used. */
function recording() {
  const sent: string[] = [];
  const send = (input: string, init: RequestInit) => {
    const url = new URL(input);
    sent.push(`${init.method} ${url.pathname}${url.search}`);
    return fetch(input, init);
  };
  return { sent, fetch: send };
}

/** What a test throws, or a failure when it does not. */
async function thrown(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describeEachDatabase("cimiento/client over HTTP", (db) => {
  let backend: ClientBackend;
  let server: Listening;
  let mailbox: Mailbox;
  let drop: () => Promise<void>;
  let baseUrl: string;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    mailbox = await startMailbox();
    backend = clientBackend(fresh.database as never, mailbox.mailer) as ClientBackend;
    await backend.migrate();
    server = await listening(createServer(toNodeHandler(backend)).listen(0, "127.0.0.1"));
    baseUrl = `${server.origin}/`;
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
    await mailbox?.close();
    await drop?.();
  });

  /** A client signed up as a new user, keeping its token. */
  async function signedUp(name = "Ada") {
    const client = createClient<ClientBackend>({ baseUrl, keepToken: true });
    const email = uniqueEmail(name.toLowerCase());
    const result = await client.auth.signUp({ email, password: PASSWORD, name });
    if (!("token" in result)) throw new Error("sign-up did not sign in");
    return { client, email, user: result.user };
  }

  test("collections: create, get, list, update and delete round-trip, with select, include and count", async () => {
    const { client, user } = await signedUp();
    const posts = client.collections.posts;
    const at = new Date("2026-01-02T03:04:05.000Z");
    const created = await posts.create({ title: "Hello", slug: `hello-${user.id}`, tags: ["a"], publishedAt: at, published: true });
    expect(created).toMatchObject({ title: "Hello", tags: ["a"], publishedAt: at.toISOString(), author: user.id, published: true, rank: 0 });
    expect(typeof created.createdAt).toBe("string");

    const fetched = await posts.get(created.id, { select: ["title"], include: { author: { select: ["name"] } } });
    expect(fetched).toEqual({ id: created.id, title: "Hello", author: { id: user.id, name: "Ada" } });

    await posts.create({ title: "Second", slug: `second-${user.id}`, rank: 5, published: true });
    const page = await posts.list({
      where: { author: user.id, publishedAt: { isNull: false }, title: { startsWith: "He" } },
      orderBy: [{ rank: "desc" }, { title: "asc" }],
      select: ["title", "rank"],
      count: true,
      limit: 1,
    });
    expect(page).toEqual({ items: [{ id: created.id, title: "Hello", rank: 0 }], nextCursor: null, total: 1 });

    const sorted = await posts.list({ where: { author: user.id }, orderBy: [{ rank: "desc" }], select: ["title"] });
    expect(sorted.items.map((post) => post.title)).toEqual(["Second", "Hello"]);

    const updated = await posts.update(created.id, { body: "Body" }, { select: ["body"] });
    expect(updated).toEqual({ id: created.id, body: "Body" });

    await expect(posts.delete(created.id)).resolves.toBeUndefined();
    await expect(posts.get(created.id)).resolves.toBeNull();
  });

  test("include of a to-many relation with options, and comments written by the caller", async () => {
    const { client, user } = await signedUp("Linus");
    const post = await client.collections.posts.create({ title: "With comments", slug: `c-${user.id}`, published: true });
    await client.collections.comments.create({ post: post.id, body: "First" });
    await client.collections.comments.create({ post: post.id, body: "Second" });
    const read = await client.collections.posts.get(post.id, {
      include: { comments: { orderBy: { body: "desc" }, select: ["body"], include: { author: { select: ["name"] } } } },
    });
    expect(read!.comments.map((comment) => [comment.body, comment.author?.name])).toEqual([
      ["Second", "Linus"],
      ["First", "Linus"],
    ]);
  });

  test("hidden fields never reach the client", async () => {
    const { client, user } = await signedUp();
    await backend.system.data.users.update(user.id, { secret: "s3cret" });
    const read = await client.collections.users.get(user.id);
    expect(read).not.toHaveProperty("secret");
    expect(read).toMatchObject({ id: user.id, name: "Ada" });
    const session = await client.auth.session();
    expect(session!.user).not.toHaveProperty("secret");
  });

  test("all() follows the cursor to the last page, each record once", async () => {
    const { client, user } = await signedUp();
    for (let i = 0; i < 5; i++) await client.collections.posts.create({ title: `P${i}`, slug: `p${i}-${user.id}`, rank: i % 2 });
    const { sent, fetch } = recording();
    const reader = createClient<ClientBackend>({ baseUrl, fetch, token: client.token });
    const titles: string[] = [];
    for await (const post of reader.collections.posts.all({ where: { author: user.id }, orderBy: [{ rank: "asc" }, { title: "asc" }], limit: 2, select: ["title"] })) {
      titles.push(post.title);
    }
    expect(titles).toEqual(["P0", "P2", "P4", "P1", "P3"]);
    expect(sent).toHaveLength(3);
    expect(sent[0]).not.toContain("cursor");
    expect(sent[1]).toContain("cursor=");
  });

  test("actions: POST /actions/:name, and their own bindings when told (path, query, status, 204)", async () => {
    const { client, user } = await signedUp();
    const { sent, fetch } = recording();
    const plain = createClient<ClientBackend>({ baseUrl, fetch, token: client.token });
    await expect(plain.actions.double({ n: 21 })).resolves.toEqual({ n: 21, doubled: 42, by: user.id });

    const post = await client.collections.posts.create({ title: "Draft", slug: `draft-${user.id}`, tags: ["x"], rank: 3 });
    const bound = createClient<ClientBackend>({
      baseUrl,
      fetch,
      token: client.token,
      actionRoutes: {
        publish: { method: "POST", path: "/posts/:id/publish" },
        stats: { method: "GET", path: "/stats/:published" },
        clearTags: { method: "DELETE", path: "/posts/:id/tags" },
      },
    });
    const at = new Date("2026-03-04T05:06:07.000Z");
    await expect(bound.actions.publish({ id: post.id, at })).resolves.toEqual({ id: post.id, published: true, publishedAt: at.toISOString() });
    const stats = await bound.actions.stats({ published: "true", minRank: 3, tag: ["a", "b"] });
    expect(stats.tags).toEqual(["a", "b"]);
    expect(stats.count).toBeGreaterThanOrEqual(1);
    await expect(bound.actions.clearTags({ id: post.id })).resolves.toBeUndefined();
    expect((await client.collections.posts.get(post.id))!.tags).toEqual([]);
    await expect(plain.actions.publish({ id: post.id })).resolves.toMatchObject({ published: true });

    expect(sent).toEqual([
      "POST /actions/double",
      `POST /posts/${post.id}/publish`,
      "GET /stats/true?minRank=3&tag=a&tag=b",
      `DELETE /posts/${post.id}/tags`,
      "POST /actions/publish",
    ]);
  });

  test("errors are ApiErrors with status, code, title, detail, issues and the problem's members", async () => {
    const { client } = await signedUp();
    const invalid = await thrown(client.collections.posts.create({ title: "", slug: "Not A Slug" }));
    expect(invalid).toMatchObject({ status: 422, code: "VALIDATION_FAILED", title: "Unprocessable Content" });
    expect(invalid.issues.map((issue) => issue.path.join("."))).toEqual(["title", "slug"]);
    expect(typeof invalid.requestId).toBe("string");

    const anonymous = createClient<ClientBackend>({ baseUrl });
    const denied = await thrown(anonymous.collections.posts.create({ title: "T", slug: "t" }));
    expect([denied.status, denied.code]).toEqual([401, "UNAUTHORIZED"]);

    const query = await thrown(anonymous.collections.posts.list({ where: { titel: "x" } as never }));
    expect([query.status, query.code, query.details["path"]]).toEqual([400, "INVALID_QUERY", "where.titel"]);

    const own = await thrown(anonymous.actions.refuse({}));
    expect(isApiError(own, "ALREADY_DONE")).toBe(true);
    expect([own.status, own.message, own.details["when"]]).toEqual([409, "This was done already.", "yesterday"]);

    const missing = await thrown(createClient<ClientBackend>({ baseUrl: `${server.origin}/nowhere` }).collections.posts.list());
    expect([missing.status, missing.code]).toEqual([404, "ROUTE_NOT_FOUND"]);

    const wrong = await thrown(anonymous.auth.signIn({ email: "nobody@example.com", password: "wrong password" }));
    expect([wrong.status, wrong.code]).toEqual([401, "INVALID_CREDENTIALS"]);
  });

  test("auth with a kept token: sign-in, session, change password, revoke-all, sign-out", async () => {
    const { email } = await signedUp("Grace");
    const client = createClient<ClientBackend>({ baseUrl, keepToken: true });
    const signed = await client.auth.signIn({ email, password: PASSWORD });
    expect(client.token).toBe(signed.token);
    expect(signed.user).toMatchObject({ email, name: "Grace", emailVerified: false });
    const current = await client.auth.session();
    expect(current!.session.id).toBe(signed.session.id);

    const other = createClient<ClientBackend>({ baseUrl, keepToken: true });
    await other.auth.signIn({ email, password: PASSWORD });
    await client.auth.changePassword({ currentPassword: PASSWORD, newPassword: "another long password" });
    // The other session ended; this one goes on.
    expect((await thrown(other.auth.session())).code).toBe("INVALID_SESSION");
    expect(await client.auth.session()).not.toBeNull();

    const again = createClient<ClientBackend>({ baseUrl, keepToken: true });
    await again.auth.signIn({ email, password: "another long password" });
    await expect(client.auth.revokeAll()).resolves.toEqual({ revoked: 2 });
    expect(client.token).toBeNull();
    expect(await client.auth.session()).toBeNull();

    await again.auth.signIn({ email, password: "another long password" });
    await again.auth.signOut();
    expect(again.token).toBeNull();
    expect(await again.auth.session()).toBeNull();

    // A token the server no longer knows is forgotten at sign-out too, though the server refuses it.
    const stale = createClient<ClientBackend>({ baseUrl, keepToken: true, token: signed.token });
    expect((await thrown(stale.auth.signOut())).code).toBe("INVALID_SESSION");
    expect(stale.token).toBeNull();
  });

  test("auth with cookies: the session cookie signs the client in and out; no token is kept", async () => {
    const { email } = await signedUp("Barbara");
    const jar = cookieJar();
    const client = createClient<ClientBackend>({ baseUrl, fetch: jar.fetch, credentials: "include" });
    expect(await client.auth.session()).toBeNull();
    const signed = await client.auth.signIn({ email, password: PASSWORD });
    expect(client.token).toBeNull();
    expect(jar.cookies.get("cimiento_session")).toBe(signed.token);
    const post = await client.collections.posts.create({ title: "By cookie", slug: `cookie-${signed.user.id}` });
    expect(post.author).toBe(signed.user.id);
    expect((await client.auth.session())!.user.id).toBe(signed.user.id);
    await client.auth.signOut();
    expect(jar.cookies.has("cimiento_session")).toBe(false);
    expect(await client.auth.session()).toBeNull();
    expect((await thrown(client.collections.posts.create({ title: "T", slug: "after-sign-out" }))).code).toBe("UNAUTHORIZED");
  });

  test("auth: password reset and e-mail verification with the mailed tokens", async () => {
    const { email, user } = await signedUp("Edsger");
    const client = createClient<ClientBackend>({ baseUrl, keepToken: true });
    await expect(client.auth.requestPasswordReset({ email })).resolves.toMatchObject({ status: "email-sent" });
    await expect(client.auth.resetPassword({ token: tokenIn(await mailbox.next(email)), password: "a brand new password" })).resolves.toBeUndefined();
    await client.auth.signIn({ email, password: "a brand new password" });

    await backend.auth.sendVerificationEmail(user.id);
    const verified = await client.auth.verifyEmail({ token: tokenIn(await mailbox.next(email)) });
    expect(verified.user).toMatchObject({ id: user.id, emailVerified: true });
    expect(client.token).toBe(verified.token);
  });

  test("auth: API keys are made, listed, used as the token, and revoked", async () => {
    const { client, user } = await signedUp();
    const { key, apiKey } = await client.auth.apiKeys.create({ name: "ci", collections: ["posts"] });
    expect(apiKey).toMatchObject({ name: "ci", userId: user.id, collections: ["posts"], expiresAt: null });
    expect((await client.auth.apiKeys.list()).map((listed) => listed.id)).toEqual([apiKey.id]);

    const server2server = createClient<ClientBackend>({ baseUrl, token: key });
    const created = await server2server.collections.posts.create({ title: "By key", slug: `key-${user.id}` });
    expect(created.author).toBe(user.id);
    expect((await thrown(server2server.collections.comments.list())).code).toBe("FORBIDDEN");

    await expect(client.auth.apiKeys.revoke(apiKey.id)).resolves.toBeUndefined();
    expect(await client.auth.apiKeys.list()).toEqual([]);
    expect((await thrown(server2server.collections.posts.list())).code).toBe("INVALID_SESSION");
  });

  test("an action route whose path parameter is missing from the input rejects with a TypeError, and sends nothing", async () => {
    const { sent, fetch } = recording();
    const bound = createClient<ClientBackend>({ baseUrl, fetch, actionRoutes: { publish: { path: "/posts/:id/publish" } } });
    await expect(bound.actions.publish({} as { id: string })).rejects.toThrow(new TypeError('The input has no "id" for the path /posts/:id/publish.'));
    // Awaiting the actions calls no action named "then".
    expect(await (bound.actions as unknown as Promise<unknown>)).toBe(bound.actions);
    expect(sent).toEqual([]);
  });

  test("ids and names are URL-encoded in paths", async () => {
    const { sent, fetch } = recording();
    const client = createClient<ClientBackend>({ baseUrl, fetch });
    await expect(client.collections.posts.get("a/b?c")).resolves.toBeNull();
    expect(sent).toEqual(["GET /collections/posts/records/a%2Fb%3Fc"]);
  });

  test("an answer that is not a problem document (a proxy's page) is an ApiError HTTP_<status>", async () => {
    const proxy = await listening(
      createServer((_req, res) => {
        res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad Gateway</h1>");
      }).listen(0, "127.0.0.1"),
    );
    try {
      const error = await thrown(createClient<ClientBackend>({ baseUrl: proxy.origin }).collections.posts.list());
      expect([error.status, error.code, error.message, error.issues]).toEqual([502, "HTTP_502", "502 Bad Gateway", []]);
    } finally {
      await proxy.close();
    }
  });

  test("headers: given once or by a function called per request", async () => {
    const { client } = await signedUp();
    let calls = 0;
    const byFunction = createClient<ClientBackend>({
      baseUrl,
      headers: () => {
        calls++;
        return { authorization: `Bearer ${client.token}` };
      },
    });
    expect(await byFunction.auth.session()).not.toBeNull();
    await byFunction.collections.posts.list();
    expect(calls).toBe(2);
    const fixed = createClient<ClientBackend>({ baseUrl, headers: { authorization: `Bearer ${client.token}` } });
    expect(await fixed.auth.session()).not.toBeNull();
  });
});
