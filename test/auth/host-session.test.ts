/**
 * `backend.auth.session(request)`: the caller of a host's own route, on every database, in a
 * real Express route (given `req`) and a real Hono route (given `c.req.raw`) beside the backend:
 * by the session cookie, a Bearer session token or an API key; `null` without a credential or
 * with a revoked, expired or unknown one; a cross-site cookie write refused as the backend's own
 * routes refuse it; a slid session's cookie handed to the route to send; and `backend.as(caller)`
 * as the caller's scope.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import express, { type NextFunction, type Request as ExpressRequest, type Response as ExpressResponse } from "express";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { ApiError, collection, createBackend, field, type RequestCaller } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { sqlite } from "cimiento/sqlite";
import { testClock, type TestClock } from "cimiento/testing";
import { listening, type Listening } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, cookieNamed, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

const notes = collection("notes", {
  fields: { body: field.text(z.string().min(1)), owner: field.belongsTo("users") },
  access: { list: ({ user }) => ({ owner: user?.id ?? "" }) },
});

const TRUSTED = "https://app.example.com";
const HOUR = 3_600_000;
const START = Math.floor(Date.now() / 1000) * 1000;

function makeBackend(database: Parameters<typeof createBackend>[0]["database"], clock: TestClock) {
  return createBackend({
    database,
    collections: { notes },
    clock,
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      sessions: { ttl: "1h" },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
      trustedOrigins: [TRUSTED],
    },
  });
}

type Backend = ReturnType<typeof makeBackend>;

/** What the host's route answers: who called, and what the caller's scope lists. */
interface Answer {
  readonly user: { id: string; role: string } | null;
  readonly session: { id: string; expiresAt: string } | null;
  readonly apiKey: string | null;
  readonly notes: string[];
}

/** The host's route, the same for both hosts: who calls, and the notes its scope lists. */
async function answer(backend: Backend, caller: RequestCaller | null): Promise<Answer> {
  const page = await backend.as(caller).data.notes.list({ orderBy: [{ body: "asc" }] });
  return {
    user: caller === null ? null : { id: caller.user.id, role: caller.user.role },
    session: caller?.session === undefined ? null : { id: caller.session.id, expiresAt: caller.session.expiresAt.toISOString() },
    apiKey: caller?.apiKey?.id ?? null,
    notes: page.items.map((note) => note.body),
  };
}

/** An Express 5 app: the backend under /api, and a host route `/me` that reads `req`. */
function expressHost(backend: Backend): Server {
  const app = express();
  app.use("/api", toNodeHandler(backend));
  app.all("/me", async (req, res) => {
    const caller = await backend.auth.session(req);
    if (caller?.setCookie !== undefined) res.append("Set-Cookie", caller.setCookie);
    res.json(await answer(backend, caller));
  });
  app.use((error: unknown, _req: ExpressRequest, res: ExpressResponse, _next: NextFunction) => {
    if (error instanceof ApiError) res.status(error.status).json({ code: error.code });
    else res.status(500).json({ code: "INTERNAL" });
  });
  return app.listen(0, "127.0.0.1");
}

/** A Hono app (`@hono/node-server`): the backend under /api, and a host route `/me` that reads `c.req.raw`. */
function honoHost(backend: Backend): Server {
  const app = new Hono();
  app.all("/me", async (c) => {
    const caller = await backend.auth.session(c.req.raw);
    if (caller?.setCookie !== undefined) c.header("Set-Cookie", caller.setCookie, { append: true });
    return c.json(await answer(backend, caller));
  });
  app.route("/api", toHono(backend));
  app.onError((error, c) => (error instanceof ApiError ? c.json({ code: error.code }, error.status as 403) : c.json({ code: "INTERNAL" }, 500)));
  return serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
}

describeEachDatabase("auth: backend.auth.session(request) in a host's route", (db) => {
  for (const [host, start] of [
    ["express", expressHost],
    ["hono", honoHost],
  ] as const) {
    describe(host, () => {
      const clock = testClock(START);
      let backend: Backend;
      let server: Listening;
      let drop: () => Promise<void>;
      let ada: { id: string; token: string };

      beforeAll(async () => {
        const fresh = await db.fresh();
        drop = fresh.drop;
        backend = makeBackend(fresh.database, clock);
        await backend.migrate();
        server = await listening(start(backend));
        ada = await signUp();
        const bob = await backend.auth.createUser({ email: uniqueEmail("bob"), password: PASSWORD });
        await backend.system.data.notes.createMany([
          { body: "ada's note", owner: ada.id },
          { body: "bob's note", owner: bob.id },
        ]);
      });
      afterAll(async () => {
        await server?.close();
        await backend?.close();
        await drop?.();
      });

      /** Signs up through the backend's own route: the user id and its session token (also its cookie). */
      async function signUp(): Promise<{ id: string; token: string }> {
        const response = await fetch(`${server.origin}/api/auth/sign-up`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: uniqueEmail("ada"), password: PASSWORD }),
        });
        expect(response.status).toBe(201);
        const body = (await response.json()) as { user: { id: string }; token: string };
        expect(cookieNamed(response, "cimiento_session")?.value).toBe(body.token);
        return { id: body.user.id, token: body.token };
      }

      async function me(init: { method?: string; headers?: Record<string, string> } = {}) {
        const response = await fetch(`${server.origin}/me`, init);
        const body = (await response.json()) as Answer & { code?: string };
        return { status: response.status, body, response };
      }

      const cookie = (token: string) => ({ cookie: `cimiento_session=${token}` });

      test("without a credential the caller is null, and backend.as(null) is the anonymous scope", async () => {
        clock.set(START);
        expect(await me()).toMatchObject({ status: 200, body: { user: null, session: null, apiKey: null, notes: [] } });
        expect(await me({ headers: { cookie: "other=1" } })).toMatchObject({ status: 200, body: { user: null } });
      });

      test("signed in by the session cookie: the user and the session, and backend.as(caller) sees what the user's rules let it", async () => {
        clock.set(START);
        const { status, body, response } = await me({ headers: cookie(ada.token) });
        expect(status).toBe(200);
        expect(body.user).toEqual({ id: ada.id, role: "user" });
        expect(body.session).toMatchObject({ id: expect.any(String) });
        expect(body.apiKey).toBeNull();
        expect(body.notes).toEqual(["ada's note"]);
        // Not due for a refresh: nothing to send.
        expect(cookieNamed(response, "cimiento_session")).toBeUndefined();
      });

      test("signed in by a Bearer session token: the user and its session, from any origin", async () => {
        clock.set(START);
        for (const method of ["GET", "POST"]) {
          const { status, body } = await me({ method, headers: { ...bearer(ada.token), origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
          expect([method, status, body.user?.id, body.notes]).toEqual([method, 200, ada.id, ["ada's note"]]);
          expect(body.session?.id).toEqual(expect.any(String));
        }
      });

      test("by an API key: the key's principal (the owner's, or the system key's { id, role }), with no session", async () => {
        clock.set(START);
        const owned = await backend.auth.apiKeys.create({ name: "ada's sync", userId: ada.id });
        expect((await me({ headers: bearer(owned.key) })).body).toEqual({ user: { id: ada.id, role: "user" }, session: null, apiKey: owned.apiKey.id, notes: ["ada's note"] });
        const system = await backend.auth.apiKeys.create({ name: "reports", role: "reporter" });
        expect((await me({ headers: bearer(system.key) })).body).toEqual({ user: { id: system.apiKey.id, role: "reporter" }, session: null, apiKey: system.apiKey.id, notes: [] });
        await backend.auth.apiKeys.revoke(owned.apiKey.id);
        expect((await me({ headers: bearer(owned.key) })).body.user).toBeNull();
      });

      test("a cookie write from another origin is refused (403 CROSS_ORIGIN_REQUEST) exactly where the backend's own routes refuse it", async () => {
        clock.set(START);
        const own = server.origin;
        const cases: { headers: Record<string, string>; refused: boolean }[] = [
          { headers: { origin: "https://evil.example" }, refused: true },
          { headers: { origin: "null" }, refused: true },
          { headers: { origin: `${own}.evil.example` }, refused: true },
          { headers: { "sec-fetch-site": "cross-site" }, refused: true },
          { headers: { "sec-fetch-site": "same-site" }, refused: true },
          { headers: { "sec-fetch-site": "cross-site", origin: own }, refused: true },
          { headers: { origin: own }, refused: false },
          { headers: { origin: TRUSTED }, refused: false },
          { headers: { origin: TRUSTED, "sec-fetch-site": "cross-site" }, refused: false },
          { headers: { "sec-fetch-site": "same-origin" }, refused: false },
          { headers: { "sec-fetch-site": "none" }, refused: false },
          { headers: {}, refused: false },
        ];
        for (const { headers, refused } of cases) {
          for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
            const hosted = await me({ method, headers: { ...cookie(ada.token), ...headers } });
            expect([method, headers, hosted.status, hosted.body.code ?? hosted.body.user?.id]).toEqual([
              method,
              headers,
              refused ? 403 : 200,
              refused ? "CROSS_ORIGIN_REQUEST" : ada.id,
            ]);
          }
          // The backend's own write route, with the same request: the same verdict.
          const backendAnswer = await fetch(`${server.origin}/api/collections/notes/records`, {
            method: "POST",
            headers: { ...cookie(ada.token), ...headers, "content-type": "application/json" },
            body: JSON.stringify({ body: "x", owner: ada.id }),
          });
          const code = ((await backendAnswer.json()) as { code?: string }).code;
          expect([headers, backendAnswer.status === 403 && code === "CROSS_ORIGIN_REQUEST"]).toEqual([headers, refused]);
        }
      });

      if (host === "express") {
        test("without an error handler of the host's, Express answers the refusal with its status (403)", async () => {
          const bare = express();
          bare.post("/write", async (req, res) => {
            res.json({ caller: (await backend.auth.session(req))?.user.id ?? null });
          });
          const running = await listening(bare.listen(0, "127.0.0.1"));
          try {
            const refused = await fetch(`${running.origin}/write`, { method: "POST", headers: { ...cookie(ada.token), origin: "https://evil.example" } });
            expect(refused.status).toBe(403);
            const accepted = await fetch(`${running.origin}/write`, { method: "POST", headers: { ...cookie(ada.token), origin: running.origin } });
            expect(await accepted.json()).toEqual({ caller: ada.id });
          } finally {
            await running.close();
          }
        });
      }

      test("a cross-site GET with the cookie is the user (reads are not CSRF), as the backend's collection reads serve it", async () => {
        clock.set(START);
        for (const method of ["GET", "HEAD", "OPTIONS"]) {
          const response = await fetch(`${server.origin}/me`, { method, headers: { ...cookie(ada.token), origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
          expect([method, response.status]).toEqual([method, 200]);
        }
        const { body } = await me({ headers: { ...cookie(ada.token), origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
        expect(body.user?.id).toBe(ada.id);
      });

      test("a revoked session is null, by the cookie and by the header", async () => {
        clock.set(START);
        const other = await signUp();
        expect((await me({ headers: cookie(other.token) })).body.user?.id).toBe(other.id);
        await backend.auth.revokeSession(other.token);
        expect((await me({ headers: cookie(other.token) })).body).toMatchObject({ user: null, session: null, notes: [] });
        expect((await me({ headers: bearer(other.token) })).body.user).toBeNull();
        const third = await signUp();
        await backend.auth.revokeSessions(third.id);
        expect((await me({ headers: cookie(third.token) })).body.user).toBeNull();
      });

      test("an expired session is null; an unknown header token is null and the cookie is not tried instead (the header is the credential)", async () => {
        clock.set(START);
        const other = await signUp();
        clock.set(START + HOUR);
        expect((await me({ headers: cookie(other.token) })).body.user).toBeNull();
        expect((await me({ headers: bearer(other.token) })).body.user).toBeNull();
        clock.set(START);
        expect((await me({ headers: { ...bearer("x".repeat(43)), ...cookie(ada.token) } })).body.user).toBeNull();
        expect((await me({ headers: { ...bearer("ck_unknown"), ...cookie(ada.token) } })).body.user).toBeNull();
      });

      test("a session due for a refresh slides, and the route is given the cookie to send with the new expiry (cookie only)", async () => {
        clock.set(START);
        const other = await signUp();
        // Half the ttl later (refreshAfter is ttl / 2 for a 1h ttl): the session is extended.
        clock.set(START + HOUR / 2);
        const slid = await me({ headers: cookie(other.token) });
        const expiresAt = START + HOUR / 2 + HOUR;
        expect(slid.body.session?.expiresAt).toBe(new Date(expiresAt).toISOString());
        const sent = cookieNamed(slid.response, "cimiento_session");
        expect(sent?.value).toBe(other.token);
        expect(sent?.attributes).toMatchObject({ httponly: true, samesite: "Lax", path: "/" });
        expect(Date.parse(String(sent?.attributes["expires"]))).toBe(Math.floor(expiresAt / 1000) * 1000);
        // As the backend's own routes decide it: Express gives the route its socket (loopback,
        // not production: no Secure); a Fetch Request has none, and the cookie is Secure.
        if (host === "express") expect(sent?.attributes).not.toHaveProperty("secure");
        else expect(sent?.attributes["secure"]).toBe(true);
        // The next use is not due: nothing to send. The session lives past its first expiry.
        expect(cookieNamed((await me({ headers: cookie(other.token) })).response, "cimiento_session")).toBeUndefined();
        clock.set(START + HOUR + 1);
        expect((await me({ headers: cookie(other.token) })).body.user?.id).toBe(other.id);
        // By the header, the session slides too, and there is no cookie to send.
        clock.set(START + 2 * HOUR);
        const byHeader = await me({ headers: bearer(other.token) });
        expect(byHeader.body.session?.expiresAt).toBe(new Date(START + 3 * HOUR).toISOString());
        expect(cookieNamed(byHeader.response, "cimiento_session")).toBeUndefined();
      });
    });
  }
});

describeEachDatabase("auth: what backend.auth.session(request) takes", (db) => {
  const clock = testClock(START);
  let backend: Backend;
  let drop: () => Promise<void>;
  let ada: { id: string; token: string };

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = makeBackend(fresh.database, clock);
    await backend.migrate();
    const user = await backend.auth.createUser({ email: uniqueEmail("ada"), password: PASSWORD });
    ada = { id: user.id, token: (await backend.auth.createSession(user.id)).token };
  });
  afterAll(async () => {
    await backend?.close();
    await drop?.();
  });

  const who = async (...args: Parameters<Backend["auth"]["session"]>) => (await backend.auth.session(...args))?.user.id ?? null;
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => "accepted",
      (error: unknown) => (error instanceof ApiError ? `${error.status} ${error.code}` : String(error)),
    );

  test("a Fetch Request, Headers, and a record of headers (any case, strings or lists of strings)", async () => {
    const session = `cimiento_session=${ada.token}`;
    expect(await who(new Request("http://api.example/x", { headers: { cookie: session } }))).toBe(ada.id);
    expect(await who(new Request("http://api.example/x", { headers: bearer(ada.token) }))).toBe(ada.id);
    expect(await who(new Headers({ Cookie: session }))).toBe(ada.id);
    expect(await who(new Headers(bearer(ada.token)))).toBe(ada.id);
    expect(await who({ Cookie: session, "X-Other": ["a", "b"], Absent: undefined })).toBe(ada.id);
    expect(await who({ AUTHORIZATION: `bearer ${ada.token}` })).toBe(ada.id);
    expect(await who({ cookie: ["theme=dark", session] })).toBe(ada.id);
    expect(await who(Object.assign(Object.create(null) as Record<string, string>, { cookie: session }))).toBe(ada.id);
    expect(await who({})).toBeNull();
    expect(await who(new Headers())).toBeNull();
  });

  test("a Node request: an object with its method and its headers record", async () => {
    const headers = { cookie: `cimiento_session=${ada.token}`, host: "api.example" };
    expect(await who({ method: "GET", headers })).toBe(ada.id);
    expect(await who({ method: "POST", headers: { ...headers, origin: "http://api.example" } })).toBe(ada.id);
    // HTTP/2 (Node's Http2ServerRequest): the host is the ":authority" pseudo-header.
    const h2 = { ":authority": "api.example", ":method": "POST", cookie: headers.cookie };
    expect(await who({ method: "POST", headers: { ...h2, origin: "http://api.example" } })).toBe(ada.id);
    expect(await refusal(backend.auth.session({ method: "POST", headers: { ...h2, origin: "http://other.example" } }))).toBe("403 CROSS_ORIGIN_REQUEST");
    expect(await refusal(backend.auth.session({ method: "POST", headers: { ...headers, origin: "https://evil.example" } }))).toBe("403 CROSS_ORIGIN_REQUEST");
    expect(await refusal(backend.auth.session(new Request("http://api.example/x", { method: "DELETE", headers: { ...headers, origin: "https://evil.example" } })))).toBe(
      "403 CROSS_ORIGIN_REQUEST",
    );
  });

  test("headers alone are a GET unless { method } says otherwise: a cookie write from another origin is then refused", async () => {
    const headers = { cookie: `cimiento_session=${ada.token}`, origin: "https://evil.example", host: "api.example" };
    expect(await who(headers)).toBe(ada.id);
    expect(await who(new Headers(headers), { method: "HEAD" })).toBe(ada.id);
    for (const method of ["POST", "post", "PUT", "PATCH", "DELETE"]) {
      expect([method, await refusal(backend.auth.session(headers, { method }))]).toEqual([method, "403 CROSS_ORIGIN_REQUEST"]);
      expect([method, await refusal(backend.auth.session(new Headers(headers), { method }))]).toEqual([method, "403 CROSS_ORIGIN_REQUEST"]);
    }
    expect(await who({ ...headers, origin: "http://api.example" }, { method: "POST" })).toBe(ada.id);
    expect(await who({ ...headers, origin: TRUSTED }, { method: "POST" })).toBe(ada.id);
    expect(await who({ ...bearer(ada.token), origin: "https://evil.example" }, { method: "POST" })).toBe(ada.id);
  });

  test("anything else is a TypeError that says what is taken", async () => {
    const session = backend.auth.session as (request: unknown, options?: unknown) => Promise<unknown>;
    class HonoRequest {
      readonly raw = new Request("http://api.example/");
    }
    const cases: [unknown, unknown, RegExp][] = [
      [undefined, undefined, /takes a Fetch Request .*, not undefined\.$/],
      [null, undefined, /, not null\.$/],
      ["Bearer token", undefined, /, not string\.$/],
      [42, undefined, /, not number\.$/],
      [[], undefined, /, not an array\.$/],
      [new Map([["cookie", "x"]]), undefined, /, not a Map\.$/],
      [new HonoRequest(), undefined, /in Hono, c\.req\.raw.*, not a HonoRequest\.$/],
      [{ cookie: 5 }, undefined, /the header "cookie" of the record is number, not a string or strings\.$/],
      [{ cookie: ["a=1", 2] }, undefined, /the header "cookie" of the record is an array/],
      [{ method: "GET", headers: { authorization: { token: "x" } } }, undefined, /the header "authorization" of the request is an object/],
      [{ cookie: "a=1\nb=2" }, undefined, /the header "cookie" of the record has a value no HTTP header can have\.$/],
      [new Request("http://api.example/"), { method: "POST" }, /a request has its own method; \{ method \} is for headers given alone\.$/],
      [{ method: "GET", headers: {} }, { method: "GET" }, /a request has its own method/],
      [{ cookie: "a=1" }, { method: "GET /" }, /method must be an HTTP method such as "POST", not "GET \/"\.$/],
      [{ cookie: "a=1" }, { method: 1 }, /not number\.$/],
      [{ cookie: "a=1" }, "POST", /options is string, not \{ method \}\.$/],
    ];
    for (const [request, options, message] of cases) {
      const error = await session(request, options).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error, String(message)).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toMatch(message);
    }
  });

  test("backend.as(caller) is the caller's scope: what session() and verifyToken() return, a principal, or null; anything else is a TypeError", async () => {
    const caller = await backend.auth.session(bearer(ada.token));
    expect(backend.as(caller).user).toEqual(caller!.user);
    const identity = await backend.auth.verifyToken(ada.token);
    expect(backend.as(identity).user?.id).toBe(ada.id);
    expect(backend.as(null).user).toBeNull();
    expect(backend.as(await backend.auth.session({})).user).toBeNull();
    for (const wrong of [undefined, {}, { user: null }, { user: { id: 1, role: "user" } }, { id: ada.id }, "ada"]) {
      expect(() => backend.as(wrong as never)).toThrow(/backend\.as\(user\) takes null, a principal .* or a caller that holds one as user/);
    }
  });

  test("with the cookie off (sessions.cookie: false) only a header token is a credential", async () => {
    const fresh = await db.fresh();
    const cookieless = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, sessions: { cookie: false } },
    });
    try {
      await cookieless.migrate();
      const user = await cookieless.auth.createUser({ email: uniqueEmail("lin"), password: PASSWORD });
      const { token } = await cookieless.auth.createSession(user.id);
      expect(await cookieless.auth.session({ cookie: `cimiento_session=${token}` })).toBeNull();
      expect((await cookieless.auth.session(bearer(token)))?.user.id).toBe(user.id);
    } finally {
      await cookieless.close();
      await fresh.drop();
    }
  });
});

test("a backend without built-in auth says how to turn it on", async () => {
  const plain = createBackend({ database: sqlite({ file: ":memory:" }), collections: { notes: collection("notes", { fields: { body: field.text() } }) } });
  try {
    await expect(plain.auth.session(new Headers())).rejects.toThrow(/backend\.auth needs built-in auth/);
  } finally {
    await plain.close();
  }
});
