/**
 * API keys over HTTP, on every database and through fetch, Express and Hono: shown once,
 * stored as a hash, revocable, limited to their listed collections and actions (403 otherwise),
 * unable to manage API keys or sessions; system keys act with their role.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { API_KEY_SHAPE, bearer, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

const posts = collection("posts", {
  fields: { title: field.text(z.string().min(1)), owner: field.belongsTo("users").optional().readOnly() },
  access: {
    list: ({ user }) => user !== null,
    get: ({ user }) => user !== null,
    create: ({ user }) => user !== null,
  },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, owner: user?.role === "user" ? user.id : null }) },
});
const notes = collection("notes", {
  fields: { body: field.text() },
  access: { list: ({ user }) => user !== null, create: ({ user }) => user !== null },
});
const whoami = action({
  input: z.object({}),
  access: ({ user }) => user !== null,
  handler: ({ user }) => ({ id: user!.id, role: user!.role }),
});
const other = action({ input: z.object({}), access: ({ user }) => user !== null, handler: () => ({ ok: true }) });

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: { posts, notes },
    actions: { whoami, other },
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
    },
  });
}
type Served = ServedBackend<ReturnType<typeof makeBackend>>;

const db = (served: Served) => served.backend.db as unknown as Kysely<any>;
const sha256 = (token: string) => createHash("sha256").update(token).digest("base64url");

async function user(served: Served) {
  const email = uniqueEmail();
  const created = await served.backend.auth.createUser({ email, password: PASSWORD });
  const { token } = await served.backend.auth.createSession(created.id);
  return { id: created.id, email, session: token };
}

async function createKey(served: Served, session: string, body: Record<string, unknown>) {
  const response = await served.json("POST", "/auth/api-keys", body, bearer(session));
  const json = (await response.json()) as { key: string; apiKey: Record<string, unknown>; code?: string };
  return { status: response.status, ...json };
}

describeEachServer("auth: API keys", makeBackend, (served) => {
  test("a key is shown once (201 with key and its info); listing shows its info and start, never the key", async () => {
    const owner = await user(served);
    const created = await createKey(served, owner.session, { name: " deploy bot ", collections: ["posts"], actions: ["whoami"] });
    expect(created.status).toBe(201);
    expect(created.key).toMatch(API_KEY_SHAPE);
    expect(created.apiKey).toMatchObject({ id: expect.any(String), name: "deploy bot", start: created.key.slice(0, 8), userId: owner.id, collections: ["posts"], actions: ["whoami"] });
    expect(JSON.stringify(created.apiKey)).not.toContain(created.key);

    const listed = await served.request("/auth/api-keys", { headers: bearer(owner.session) });
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(sha256(created.key));
    const { items } = JSON.parse(text) as { items: Record<string, unknown>[] };
    expect(items).toEqual([expect.objectContaining({ id: created.apiKey["id"], name: "deploy bot", start: created.key.slice(0, 8) })]);
    expect(Object.keys(items[0]!)).not.toContain("key");
    expect(Object.keys(items[0]!)).not.toContain("keyHash");
    // Another user does not see it.
    const stranger = await user(served);
    const theirs = (await (await served.request("/auth/api-keys", { headers: bearer(stranger.session) })).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
  });

  test("a key is stored as its SHA-256 only; keys are distinct", async () => {
    const owner = await user(served);
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push((await createKey(served, owner.session, { name: `k${i}` })).key);
    expect(new Set(keys).size).toBe(5);
    const rows = await db(served).selectFrom("cimiento_api_keys").selectAll().where("user", "=", owner.id).execute();
    expect(rows).toHaveLength(5);
    for (const key of keys) {
      const row = rows.find((r) => r.keyHash === sha256(key));
      expect(row).toBeDefined();
      expect(JSON.stringify(row)).not.toContain(key);
      expect(JSON.stringify(row)).not.toContain(key.slice(8));
    }
  });

  test("a key acts as its owner: rules and hooks see the owner", async () => {
    const owner = await user(served);
    const { key } = await createKey(served, owner.session, { name: "full" });
    expect(await (await served.json("POST", "/actions/whoami", {}, bearer(key))).json()).toEqual({ id: owner.id, role: "user" });
    const created = await served.json("POST", "/collections/posts/records", { title: "by key" }, bearer(key));
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ owner: owner.id });
    expect((await served.request("/collections/notes/records", { headers: bearer(key) })).status).toBe(200);
  });

  test("a key limited to collections and actions gets 403 FORBIDDEN for any other", async () => {
    const owner = await user(served);
    const { key } = await createKey(served, owner.session, { name: "limited", collections: ["posts"], actions: ["whoami"] });
    expect((await served.request("/collections/posts/records", { headers: bearer(key) })).status).toBe(200);
    expect((await served.json("POST", "/collections/posts/records", { title: "ok" }, bearer(key))).status).toBe(201);
    expect((await served.json("POST", "/actions/whoami", {}, bearer(key))).status).toBe(200);
    for (const [method, path] of [
      ["GET", "/collections/notes/records"],
      ["POST", "/collections/notes/records"],
      ["GET", "/collections/users/records"],
      ["POST", "/actions/other"],
    ] as const) {
      const response = method === "GET" ? await served.request(path, { headers: bearer(key) }) : await served.json(method, path, { body: "x" }, bearer(key));
      expect([path, method, response.status]).toEqual([path, method, 403]);
      expect(await response.json()).toMatchObject({ code: "FORBIDDEN" });
    }
    // An empty list allows nothing.
    const { key: none } = await createKey(served, owner.session, { name: "nothing", collections: [], actions: [] });
    expect((await served.request("/collections/posts/records", { headers: bearer(none) })).status).toBe(403);
    expect((await served.json("POST", "/actions/whoami", {}, bearer(none))).status).toBe(403);
  });

  test("a key cannot manage API keys nor sessions (403), even a key without limits", async () => {
    const owner = await user(served);
    const { key, apiKey } = await createKey(served, owner.session, { name: "full" });
    const attempts: [string, string, unknown][] = [
      ["GET", "/auth/api-keys", undefined],
      ["POST", "/auth/api-keys", { name: "child" }],
      ["DELETE", `/auth/api-keys/${apiKey["id"] as string}`, undefined],
      ["POST", "/auth/revoke-all", {}],
      ["POST", "/auth/change-password", { currentPassword: PASSWORD, newPassword: "taken over passphrase" }],
      ["GET", "/auth/session", undefined],
    ];
    for (const [method, path, body] of attempts) {
      const response =
        body === undefined ? await served.request(path, { method, headers: bearer(key) }) : await served.json(method, path, body, bearer(key));
      expect([method, path, response.status]).toEqual([method, path, 403]);
    }
    expect(await served.backend.auth.apiKeys.list(owner.id)).toHaveLength(1);
    expect((await served.request("/auth/session", { headers: bearer(owner.session) })).status).toBe(200);
    expect((await served.json("POST", "/auth/sign-in", { email: owner.email, password: PASSWORD })).status).toBe(200);
  });

  test("creating a key for someone else, with a role, or with unknown fields is refused (422)", async () => {
    const owner = await user(served);
    const victim = await user(served);
    for (const extra of [{ userId: victim.id }, { role: "admin" }, { user: victim.id }, { key: "ck_chosen" }]) {
      const created = await createKey(served, owner.session, { name: "sneaky", ...extra });
      expect([JSON.stringify(extra), created.status, created.code]).toEqual([JSON.stringify(extra), 422, "VALIDATION_FAILED"]);
    }
    expect(await served.backend.auth.apiKeys.list(victim.id)).toEqual([]);
    expect((await createKey(served, owner.session, { name: "" })).status).toBe(422);
    expect((await createKey(served, owner.session, { name: "x", collections: "posts" })).status).toBe(422);
  });

  test("a revoked key is refused (401 INVALID_SESSION); only its owner may revoke it", async () => {
    const owner = await user(served);
    const stranger = await user(served);
    const { key, apiKey } = await createKey(served, owner.session, { name: "soon gone" });
    const id = apiKey["id"] as string;
    expect((await served.request(`/auth/api-keys/${id}`, { method: "DELETE", headers: bearer(stranger.session) })).status).toBe(404);
    expect((await served.request("/collections/posts/records", { headers: bearer(key) })).status).toBe(200);

    expect((await served.request(`/auth/api-keys/${id}`, { method: "DELETE", headers: bearer(owner.session) })).status).toBe(204);
    const refused = await served.request("/collections/posts/records", { headers: bearer(key) });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: "INVALID_SESSION" });
    expect((await served.request(`/auth/api-keys/${id}`, { method: "DELETE", headers: bearer(owner.session) })).status).toBe(404);
  });

  test("an expired key is refused", async () => {
    const owner = await user(served);
    const { key, apiKey } = await createKey(served, owner.session, { name: "short", expiresIn: "1h" });
    expect((await served.request("/collections/posts/records", { headers: bearer(key) })).status).toBe(200);
    await db(served).updateTable("cimiento_api_keys").set({ expiresAt: Date.now() - 1 }).where("id", "=", apiKey["id"] as string).execute();
    expect((await served.request("/collections/posts/records", { headers: bearer(key) })).status).toBe(401);
  });

  test("a system key (backend.auth.apiKeys.create) acts with its role; revoking it in-process ends it", async () => {
    const { key, apiKey } = await served.backend.auth.apiKeys.create({ name: "cron", role: "service", actions: ["whoami"], collections: ["posts"] });
    expect(apiKey).toMatchObject({ userId: null, role: "service" });
    const me = await served.json("POST", "/actions/whoami", {}, bearer(key));
    expect(await me.json()).toEqual({ id: apiKey.id, role: "service" });
    expect((await served.backend.auth.apiKeys.list(null)).map((k) => k.id)).toContain(apiKey.id);
    expect(await served.backend.auth.apiKeys.revoke(apiKey.id)).toBe(true);
    expect((await served.json("POST", "/actions/whoami", {}, bearer(key))).status).toBe(401);
  });

  test("revoke-all ends sessions, not API keys (they are listed and revoked on their own)", async () => {
    const owner = await user(served);
    const { key } = await createKey(served, owner.session, { name: "survives" });
    expect((await served.request("/auth/revoke-all", { method: "POST", headers: bearer(owner.session) })).status).toBe(200);
    expect((await served.request("/collections/posts/records", { headers: bearer(key) })).status).toBe(200);
  });

  // The collection limit covers relations too (include and relation filters; fixed in 94a000f).
  test("a key limited to collections cannot read another collection through include", async () => {
    const owner = await user(served);
    const { key } = await createKey(served, owner.session, { name: "posts only", collections: ["posts"] });
    expect((await served.json("POST", "/collections/posts/records", { title: "mine" }, bearer(key))).status).toBe(201);
    const response = await served.request("/collections/posts/records?include=owner", { headers: bearer(key) });
    expect(response.status).toBe(403);
  });
});

describeEachDatabase("auth: API keys per user", (database) => {
  test("a user holds at most auth.apiKeys.maxPerUser keys: past it 400 LIMIT_EXCEEDED (over HTTP and in-process) until one is revoked; another user's key answers 404 as a missing one", async () => {
    const fresh = await database.fresh();
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, rateLimit: false, apiKeys: { maxPerUser: 3 } },
    });
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const response = await backend.fetch(
        new Request(`http://localhost${path}`, {
          method,
          headers: { ...bearer(token), ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
      const text = await response.text();
      return { status: response.status, body: text === "" ? null : (JSON.parse(text) as Record<string, any>) };
    };
    try {
      await backend.migrate();
      const ada = await backend.auth.createUser({ email: uniqueEmail(), password: PASSWORD });
      const bob = await backend.auth.createUser({ email: uniqueEmail(), password: PASSWORD });
      const adaSession = (await backend.auth.createSession(ada.id)).token;
      const bobSession = (await backend.auth.createSession(bob.id)).token;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const made = await call("POST", "/auth/api-keys", adaSession, { name: `key ${i}` });
        expect(made.status).toBe(201);
        ids.push(made.body!["apiKey"]["id"] as string);
      }
      const refused = await call("POST", "/auth/api-keys", adaSession, { name: "one too many" });
      expect(refused).toMatchObject({ status: 400, body: { code: "LIMIT_EXCEEDED", limit: "apiKeys.maxPerUser", max: 3 } });
      await expect(backend.auth.apiKeys.create({ name: "in-process", userId: ada.id })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
      expect((await call("GET", "/auth/api-keys", adaSession)).body!["items"]).toHaveLength(3);
      // Bob's keys are his own count.
      expect((await call("POST", "/auth/api-keys", bobSession, { name: "bob's" })).status).toBe(201);

      // Bob cannot revoke Ada's key, and learns nothing: the answer is a missing key's.
      const missing = await call("DELETE", "/auth/api-keys/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", bobSession);
      const others = await call("DELETE", `/auth/api-keys/${ids[0]}`, bobSession);
      expect(missing.status).toBe(404);
      expect(others.status).toBe(404);
      expect(others.body!["code"]).toBe(missing.body!["code"]);
      expect(others.body!["detail"] ?? others.body!["message"]).toBe((missing.body!["detail"] ?? missing.body!["message"]).replace("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", ids[0]));
      expect((await call("GET", "/auth/api-keys", adaSession)).body!["items"]).toHaveLength(3);

      expect((await call("DELETE", `/auth/api-keys/${ids[0]}`, adaSession)).status).toBe(204);
      expect((await call("POST", "/auth/api-keys", adaSession, { name: "after revoking one" })).status).toBe(201);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });

  test("auth.apiKeys.maxPerUser other than a positive integer is refused at start-up", () => {
    for (const maxPerUser of [0, -1, 2.5, Number.NaN]) {
      expect(() => createBackend({ database: sqlite({ file: ":memory:" }), collections: {}, auth: { password: {}, apiKeys: { maxPerUser } } })).toThrow(
        /auth\.apiKeys\.maxPerUser must be a positive integer/,
      );
    }
  });
});
