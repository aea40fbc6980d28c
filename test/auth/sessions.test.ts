/**
 * Sessions over HTTP, on every database and through fetch, Express and Hono: the shape and
 * randomness of tokens, a new token at every sign-in, the header schemes, sign-out, expiry,
 * sliding, revoke-all and password changes, each refusing the tokens they end.
 */
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, cookieNamed, fastHasher, PASSWORD, recordingLogger, TOKEN_SHAPE, uniqueEmail } from "./support.js";

const notes = collection("notes", {
  fields: { body: field.text(z.string().min(1)), owner: field.belongsTo("users").readOnly() },
  access: {
    list: ({ user }) => (user ? { owner: user.id } : false),
    create: ({ user }) => user !== null,
  },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, owner: user!.id }) },
});

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: { notes },
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      sessions: { schemes: ["Bearer", "Token"] },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
    },
  });
}

type B = ReturnType<typeof makeBackend>;
type Served = ServedBackend<B>;

const db = (served: Served) => served.backend.db as unknown as Kysely<any>;

async function signUp(served: Served, email = uniqueEmail()) {
  const response = await served.json("POST", "/auth/sign-up", { email, password: PASSWORD });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { user: { id: string; email: string }; token: string };
  return { email, id: body.user.id, token: body.token };
}

async function signIn(served: Served, email: string, password = PASSWORD) {
  const response = await served.json("POST", "/auth/sign-in", { email, password });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = (await response.json()) as { user: { id: string }; token: string; session: { id: string; expiresAt: string } };
  return { ...body, response };
}

/** GET /auth/session with headers: the status, and the user id when signed in. */
async function whoAmI(served: Served, headers: Record<string, string>) {
  const response = await served.request("/auth/session", { headers });
  const body = (await response.json()) as { user?: { id: string }; code?: string };
  return { status: response.status, id: body.user?.id, code: body.code, response };
}

describeEachServer("auth: sessions", makeBackend, (served) => {
  test("sign-up answers 201 with the user, a session and a token of 32 random bytes (base64url), also set as the cookie", async () => {
    const email = uniqueEmail("New.Person");
    const response = await served.json("POST", "/auth/sign-up", { email: `  ${email.toUpperCase()} `, password: PASSWORD });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { user: Record<string, unknown>; token: string; session: Record<string, unknown> };
    expect(body.user).toMatchObject({ email: email.toLowerCase(), role: "user", emailVerified: false });
    expect(body.user).not.toHaveProperty("password");
    expect(body.user).not.toHaveProperty("passwordHash");
    expect(body.token).toMatch(TOKEN_SHAPE);
    expect(Buffer.from(body.token, "base64url")).toHaveLength(32);
    expect(body.session).toMatchObject({ id: expect.any(String), userId: body.user["id"] });
    expect(cookieNamed(response, "cimiento_session")?.value).toBe(body.token);
  });

  test("tokens are distinct across many sign-ins and use the whole base64url alphabet (≥128 bits each)", async () => {
    const { email } = await signUp(served);
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push((await signIn(served, email)).token);
    // Many more, the same way sign-in makes them (in-process, once per database).
    const { id } = (await served.backend.auth.verifyToken(tokens[0]!))!.user;
    for (let i = 0; i < (served.way === "fetch" ? 150 : 0); i++) tokens.push((await served.backend.auth.createSession(id)).token);
    for (const token of tokens) {
      expect(token).toMatch(TOKEN_SHAPE);
      expect(Buffer.from(token, "base64url").length * 8).toBeGreaterThanOrEqual(128);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    // 160 × 43 characters from a 64-letter alphabet: a real random source uses all of it.
    if (served.way === "fetch") expect(new Set(tokens.join("")).size).toBe(64);
    else expect(new Set(tokens.join("")).size).toBeGreaterThan(50);
    // No two tokens share a long prefix (no counter, no timestamp in front).
    const prefixes = new Set(tokens.map((token) => token.slice(0, 6)));
    expect(prefixes.size).toBe(tokens.length);
  });

  test("every sign-in gives a new token (and a new session); the body's token is the cookie's", async () => {
    const { email, token: first } = await signUp(served);
    const seen = new Set([first]);
    const sessions = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { token, session, response } = await signIn(served, email);
      expect(seen.has(token)).toBe(false);
      seen.add(token);
      sessions.add(session.id);
      expect(cookieNamed(response, "cimiento_session")?.value).toBe(token);
    }
    expect(sessions.size).toBe(3);
    // Each is its own session: all of them work.
    for (const token of seen) expect((await whoAmI(served, bearer(token))).status).toBe(200);
  });

  test("a session works through the header (any configured scheme, any case) and the cookie", async () => {
    const { id, token } = await signUp(served);
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `Token ${token}`, `TOKEN ${token}`]) {
      const answer = await whoAmI(served, { authorization: header });
      expect([header, answer.status, answer.id]).toEqual([header, 200, id]);
    }
    expect(await whoAmI(served, { cookie: `cimiento_session=${token}` })).toMatchObject({ status: 200, id });
    // A scheme not configured carries nothing: the call is anonymous.
    expect(await whoAmI(served, { authorization: `Basic ${token}` })).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  test("an unknown header token is refused with 401 INVALID_SESSION, on every route", async () => {
    const unknown = Buffer.alloc(32, 7).toString("base64url");
    for (const [method, path] of [
      ["GET", "/auth/session"],
      ["GET", "/collections/notes/records"],
      ["POST", "/auth/sign-out"],
    ] as const) {
      const response = await served.request(path, { method, headers: bearer(unknown) });
      expect([path, response.status]).toEqual([path, 401]);
      expect(await response.json()).toMatchObject({ code: "INVALID_SESSION" });
    }
  });

  test("sign-out ends the session: its token is refused by header (401) and is anonymous by cookie (cleared)", async () => {
    const { email } = await signUp(served);
    const kept = await signIn(served, email);
    const ended = await signIn(served, email);
    const out = await served.request("/auth/sign-out", { method: "POST", headers: bearer(ended.token) });
    expect(out.status).toBe(204);
    const cleared = cookieNamed(out, "cimiento_session");
    expect(cleared?.value).toBe("");
    expect(cleared?.attributes["max-age"]).toBe("0");

    expect(await whoAmI(served, bearer(ended.token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });
    const byCookie = await whoAmI(served, { cookie: `cimiento_session=${ended.token}` });
    expect(byCookie).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(cookieNamed(byCookie.response, "cimiento_session")?.value).toBe("");
    const list = await served.request("/collections/notes/records", { headers: bearer(ended.token) });
    expect(list.status).toBe(401);
    // Other sessions of the user are untouched.
    expect((await whoAmI(served, bearer(kept.token))).status).toBe(200);
  });

  test("sign-out with the cookie ends that session too", async () => {
    const { token } = await signUp(served);
    const out = await served.request("/auth/sign-out", { method: "POST", headers: { cookie: `cimiento_session=${token}` } });
    expect(out.status).toBe(204);
    expect(await whoAmI(served, bearer(token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });
  });

  test("an expired session is refused (header 401, cookie anonymous) and is not revived", async () => {
    const { email } = await signUp(served);
    const { token, session } = await signIn(served, email);
    expect((await whoAmI(served, bearer(token))).status).toBe(200);
    await db(served).updateTable("cimiento_sessions").set({ expiresAt: Date.now() - 1 }).where("id", "=", session.id).execute();
    expect(await whoAmI(served, bearer(token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });
    expect(await whoAmI(served, { cookie: `cimiento_session=${token}` })).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect((await served.request("/collections/notes/records", { headers: bearer(token) })).status).toBe(401);
    // Refused again: looking at it did not extend it.
    expect(await whoAmI(served, bearer(token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });
  });

  test("a session slides: used after refreshAfter, its expiry moves ttl ahead (and the cookie is set again)", async () => {
    const { email } = await signUp(served);
    const { token, session } = await signIn(served, email);
    const now = Date.now();
    const soon = now + 60_000;
    await db(served)
      .updateTable("cimiento_sessions")
      .set({ expiresAt: soon, refreshedAt: now - 2 * 86_400_000 })
      .where("id", "=", session.id)
      .execute();
    const answer = await whoAmI(served, { cookie: `cimiento_session=${token}` });
    expect(answer.status).toBe(200);
    const row = await db(served).selectFrom("cimiento_sessions").select(["expiresAt"]).where("id", "=", session.id).executeTakeFirstOrThrow();
    expect(Number(row.expiresAt)).toBeGreaterThan(now + 29 * 86_400_000);
    const cookie = cookieNamed(answer.response, "cimiento_session");
    expect(cookie?.value).toBe(token);
    expect(Date.parse(String(cookie?.attributes["expires"]))).toBeGreaterThan(now + 29 * 86_400_000);
    // Used again at once: not due, nothing is written.
    const again = await whoAmI(served, { cookie: `cimiento_session=${token}` });
    expect(cookieNamed(again.response, "cimiento_session")).toBeUndefined();
  });

  test("revoke-all ends every session of the caller (this one too), not other users' sessions", async () => {
    const { email } = await signUp(served);
    const a = await signIn(served, email);
    const b = await signIn(served, email);
    const other = await signUp(served);
    const response = await served.request("/auth/revoke-all", { method: "POST", headers: bearer(a.token) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revoked: 3 }); // sign-up's session and two sign-ins
    for (const token of [a.token, b.token]) expect(await whoAmI(served, bearer(token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });
    expect((await whoAmI(served, bearer(other.token))).status).toBe(200);
    // Signing in again works.
    expect((await whoAmI(served, bearer((await signIn(served, email)).token))).status).toBe(200);
  });

  test("a password change ends the other sessions; the current one keeps working; the old password stops working", async () => {
    const { email, token: signUpToken } = await signUp(served);
    const current = await signIn(served, email);
    const other = await signIn(served, email);
    const NEW = "another long passphrase";
    const wrong = await served.json("POST", "/auth/change-password", { currentPassword: "not the password", newPassword: NEW }, bearer(current.token));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "INVALID_CREDENTIALS" });
    const tooShort = await served.json("POST", "/auth/change-password", { currentPassword: PASSWORD, newPassword: "short" }, bearer(current.token));
    expect(tooShort.status).toBe(422);
    expect((await whoAmI(served, bearer(other.token))).status).toBe(200); // failures changed nothing

    const changed = await served.json("POST", "/auth/change-password", { currentPassword: PASSWORD, newPassword: NEW }, bearer(current.token));
    expect(changed.status).toBe(204);
    expect((await whoAmI(served, bearer(current.token))).status).toBe(200);
    for (const token of [other.token, signUpToken]) expect(await whoAmI(served, bearer(token))).toMatchObject({ status: 401, code: "INVALID_SESSION" });

    const old = await served.json("POST", "/auth/sign-in", { email, password: PASSWORD });
    expect(old.status).toBe(401);
    expect((await signIn(served, email, NEW)).token).toMatch(TOKEN_SHAPE);
  });

  test("a password change needs a session: anonymous callers get 401", async () => {
    const response = await served.json("POST", "/auth/change-password", { currentPassword: PASSWORD, newPassword: "whatever long" });
    expect(response.status).toBe(401);
  });

  test("auth answers are never cached: Cache-Control: no-store (tokens, the session, API keys, errors)", async () => {
    const email = uniqueEmail();
    const up = await served.json("POST", "/auth/sign-up", { email, password: PASSWORD });
    const { token } = (await up.json()) as { token: string };
    const answers = [
      up,
      await served.json("POST", "/auth/sign-in", { email, password: PASSWORD }),
      await served.request("/auth/session", { headers: { cookie: `cimiento_session=${token}` } }),
      await served.request("/auth/session", { headers: bearer(token) }),
      await served.json("POST", "/auth/api-keys", { name: "k" }, bearer(token)),
      await served.request("/auth/api-keys", { headers: bearer(token) }),
      await served.json("POST", "/auth/sign-in", { email, password: "wrong password" }),
      await served.request("/auth/session"),
    ];
    for (const response of answers) {
      expect([new URL(response.url || "http://x/").pathname, response.status, response.headers.get("cache-control")]).toEqual([
        new URL(response.url || "http://x/").pathname,
        response.status,
        "no-store",
      ]);
    }
  });

  test("the principal of a session is its user: rules and hooks see it", async () => {
    const alice = await signUp(served);
    const bob = await signUp(served);
    const created = await served.json("POST", "/collections/notes/records", { body: "alice's" }, bearer(alice.token));
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ owner: alice.id });
    const mine = (await (await served.request("/collections/notes/records", { headers: bearer(alice.token) })).json()) as { items: unknown[] };
    const theirs = (await (await served.request("/collections/notes/records", { headers: bearer(bob.token) })).json()) as { items: unknown[] };
    expect(mine.items).toHaveLength(1);
    expect(theirs.items).toHaveLength(0);
  });
});

describeEachDatabase("auth: sliding sessions with a short ttl", (database) => {
  test('a session with ttl "1h" (and the default refreshAfter) slides when used: it is an idle timeout, not an absolute one', async () => {
    const fresh = await database.fresh();
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, sessions: { ttl: "1h" } },
    });
    try {
      await backend.migrate();
      const user = await backend.auth.createUser({ email: uniqueEmail(), password: PASSWORD });
      const { token, session } = await backend.auth.createSession(user.id);
      const now = Date.now();
      // Signed in 40 minutes ago and used since: 20 minutes left.
      await (backend.db as unknown as Kysely<any>)
        .updateTable("cimiento_sessions")
        .set({ expiresAt: now + 20 * 60_000, refreshedAt: now - 40 * 60_000 })
        .where("id", "=", session.id)
        .execute();
      const response = await backend.fetch(new Request("http://localhost/auth/session", { headers: bearer(token) }));
      expect(response.status).toBe(200);
      const row = await (backend.db as unknown as Kysely<any>).selectFrom("cimiento_sessions").select("expiresAt").where("id", "=", session.id).executeTakeFirstOrThrow();
      expect(Number(row.expiresAt)).toBeGreaterThan(now + 50 * 60_000);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });

  test("refreshAfter not shorter than ttl is refused at start-up (the session could never slide)", () => {
    expect(() =>
      createBackend({ database: sqlite({ file: ":memory:" }), collections: {}, auth: { password: {}, sessions: { ttl: "1h", refreshAfter: "2h" } } }),
    ).toThrow(/refreshAfter/);
  });
});

describeEachDatabase("auth: sessions longer than a cookie lasts", (database) => {
  test('with ttl "500d", sign-in answers 200; the session lasts 500 days, its cookie the 400 days browsers keep one', async () => {
    const fresh = await database.fresh();
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, sessions: { ttl: "500d" } },
    });
    try {
      await backend.migrate();
      const email = uniqueEmail();
      await backend.auth.createUser({ email, password: PASSWORD });
      const before = Date.now();
      const response = await backend.fetch(
        new Request("http://localhost/auth/sign-in", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) }),
      );
      expect(response.status).toBe(200);
      const { session } = (await response.json()) as { session: { expiresAt: string } };
      expect(Date.parse(session.expiresAt)).toBeGreaterThanOrEqual(before + 500 * 86_400_000);
      const expires = Date.parse(String(cookieNamed(response, "cimiento_session")?.attributes["expires"]));
      expect(expires).toBeGreaterThan(before + 399 * 86_400_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 400 * 86_400_000);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});

describeEachDatabase("auth: an unknown user id", (database) => {
  const sessionFor = action({
    input: z.object({ userId: z.string() }),
    http: { method: "POST", path: "/session-for" },
    transaction: false,
    access: () => true,
    async handler({ input, auth }) {
      return { token: (await auth.createSession(input.userId)).token };
    },
  });
  const passwordFor = action({
    input: z.object({ userId: z.string() }),
    http: { method: "POST", path: "/password-for" },
    transaction: false,
    access: () => true,
    async handler({ input, auth }) {
      await auth.setPassword(input.userId, "a brand new passphrase");
      return { ok: true };
    },
  });

  test("setPassword and createSession answer 404 NOT_FOUND, in-process and from an action, and write nothing", async () => {
    const fresh = await database.fresh();
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      actions: { sessionFor, passwordFor },
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false } },
    });
    try {
      await backend.migrate();
      const missing = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
      for (const id of [missing, "not-an-id"]) {
        await expect(backend.auth.setPassword(id, "a brand new passphrase")).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
        await expect(backend.auth.createSession(id)).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
        for (const path of ["/session-for", "/password-for"]) {
          const response = await backend.fetch(
            new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId: id }) }),
          );
          expect(response.status).toBe(404);
          expect(((await response.json()) as { code: string }).code).toBe("NOT_FOUND");
        }
      }
      const db = backend.db as unknown as Kysely<any>;
      expect(await db.selectFrom("cimiento_sessions").selectAll().execute()).toEqual([]);
      expect(await db.selectFrom("cimiento_credentials").selectAll().execute()).toEqual([]);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
