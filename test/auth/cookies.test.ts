/**
 * The session cookie and CSRF over HTTP, on every database and through fetch, Express and
 * Hono: the cookie's attributes by default and as configured; a write carrying the session
 * cookie from another origin is refused (403 CROSS_ORIGIN_REQUEST), while a same-origin one, a
 * trusted origin's, a non-browser one and a header-token one from any origin are accepted.
 */
import { expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field } from "cimiento";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, cookieNamed, fastHasher, PASSWORD, recordingLogger, setCookies, uniqueEmail } from "./support.js";

const notes = collection("notes", {
  fields: { body: field.text(z.string().min(1)), owner: field.belongsTo("users").readOnly() },
  access: { list: ({ user }) => (user ? { owner: user.id } : false), create: ({ user }) => user !== null },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, owner: user!.id }) },
});

const TRUSTED = "https://app.example.com";

type Database = Parameters<typeof createBackend>[0]["database"];

function backendWith(database: Database, cookie: { name?: string; domain?: string; path?: string; secure?: boolean | "auto"; sameSite?: "lax" | "strict" | "none" } | false | undefined) {
  return createBackend({
    database,
    collections: { notes },
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      sessions: cookie === undefined ? { ttl: "7d" } : { ttl: "7d", cookie },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
      trustedOrigins: [TRUSTED],
    },
  });
}

type Served = ServedBackend<ReturnType<typeof backendWith>>;

async function signUp(served: Served) {
  const email = uniqueEmail();
  const response = await served.json("POST", "/auth/sign-up", { email, password: PASSWORD });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { token: string; session: { expiresAt: string } };
  return { email, response, ...body };
}

/** The origin the backend sees itself at in this run. */
const ownOrigin = (served: Served) => served.origin ?? "http://localhost";

describeEachServer("auth: default cookie", (database) => backendWith(database, undefined), (served) => {
  test("sign-in sets cimiento_session: HttpOnly, SameSite=Lax, Path=/, no Domain, expiring with the session; Secure but over a loopback socket in development", async () => {
    const { email } = await signUp(served);
    const response = await served.json("POST", "/auth/sign-in", { email, password: PASSWORD });
    const body = (await response.json()) as { token: string; session: { expiresAt: string } };
    const all = setCookies(response);
    expect(all.map((cookie) => cookie.name)).toEqual(["cimiento_session"]);
    const cookie = all[0]!;
    expect(cookie.value).toBe(body.token);
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: "Lax", path: "/" });
    expect(cookie.attributes).not.toHaveProperty("domain");
    // The servers are reached from 127.0.0.1 under vitest (NODE_ENV "test"); backend.fetch has
    // no socket to tell a development server by, and keeps Secure.
    if (served.way === "fetch") expect(cookie.attributes["secure"]).toBe(true);
    else expect(cookie.attributes).not.toHaveProperty("secure");
    const expires = Date.parse(String(cookie.attributes["expires"]));
    expect(Math.abs(expires - Date.parse(body.session.expiresAt))).toBeLessThan(1000);
    expect(expires - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
  });

  test("sign-out clears the cookie with the same name and path", async () => {
    const { token } = await signUp(served);
    const out = await served.request("/auth/sign-out", { method: "POST", headers: { cookie: `cimiento_session=${token}` } });
    const cleared = cookieNamed(out, "cimiento_session");
    expect(cleared).toMatchObject({ value: "", attributes: { path: "/", "max-age": "0" } });
  });

  test("a cookie POST from another origin is refused (403 CROSS_ORIGIN_REQUEST) and writes nothing", async () => {
    const { token } = await signUp(served);
    const cookie = `cimiento_session=${token}`;
    const hostile: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: `${ownOrigin(served)}.evil.example` },
      { origin: ownOrigin(served).replace(/(:\d+)?$/, ":1") },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      // Fetch Metadata wins over a forged-looking same Origin.
      { "sec-fetch-site": "cross-site", origin: ownOrigin(served) },
    ];
    for (const headers of hostile) {
      const response = await served.json("POST", "/collections/notes/records", { body: "csrf" }, { cookie, ...headers });
      expect([JSON.stringify(headers), response.status]).toEqual([JSON.stringify(headers), 403]);
      expect(await response.json()).toMatchObject({ code: "CROSS_ORIGIN_REQUEST" });
    }
    const list = (await (await served.request("/collections/notes/records", { headers: bearer(token) })).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
  });

  test("cross-origin cookie writes to auth routes are refused too (sign-out, revoke-all, change-password, api-keys)", async () => {
    const { token } = await signUp(served);
    const headers = { cookie: `cimiento_session=${token}`, origin: "https://evil.example" };
    for (const [path, body] of [
      ["/auth/sign-out", {}],
      ["/auth/revoke-all", {}],
      ["/auth/change-password", { currentPassword: PASSWORD, newPassword: "hijacked passphrase" }],
      ["/auth/api-keys", { name: "stolen" }],
      ["/auth/sign-in", { email: "attacker@example.com", password: PASSWORD }],
    ] as const) {
      const response = await served.json("POST", path, body, headers);
      expect([path, response.status]).toEqual([path, 403]);
    }
    expect((await served.request("/auth/session", { headers: bearer(token) })).status).toBe(200);
  });

  test("a same-origin cookie POST, a trusted origin's, a non-browser one and Sec-Fetch-Site same-origin/none are accepted", async () => {
    const { token } = await signUp(served);
    const cookie = `cimiento_session=${token}`;
    const friendly: Record<string, string>[] = [
      { origin: ownOrigin(served) },
      { origin: TRUSTED },
      { origin: TRUSTED, "sec-fetch-site": "cross-site" },
      {},
      { "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
    ];
    for (const headers of friendly) {
      const response = await served.json("POST", "/collections/notes/records", { body: "ok" }, { cookie, ...headers });
      expect([JSON.stringify(headers), response.status]).toEqual([JSON.stringify(headers), 201]);
    }
  });

  test("a header token is accepted from any origin (it cannot be sent by a browser on its own)", async () => {
    const { token } = await signUp(served);
    const response = await served.json("POST", "/collections/notes/records", { body: "api" }, { ...bearer(token), origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(201);
  });

  test("a cross-origin GET with the cookie is served (reads are not CSRF)", async () => {
    const { token } = await signUp(served);
    const response = await served.request("/auth/session", { headers: { cookie: `cimiento_session=${token}`, origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
    expect(response.status).toBe(200);
  });
});

const CUSTOM = { name: "sid", domain: "example.test", path: "/", sameSite: "strict", secure: true } as const;

describeEachServer("auth: custom cookie", (database) => backendWith(database, CUSTOM), (served) => {
  test("the cookie has the configured name, Domain, SameSite and Secure; the default name is not used", async () => {
    const { response, token } = await signUp(served);
    const all = setCookies(response);
    expect(all.map((cookie) => cookie.name)).toEqual(["sid"]);
    expect(all[0]).toMatchObject({ value: token, attributes: { httponly: true, samesite: "Strict", path: "/", domain: "example.test", secure: true } });
  });

  test("the session is read from the configured cookie name only, and cleared with its Domain", async () => {
    const { token } = await signUp(served);
    expect((await served.request("/auth/session", { headers: { cookie: `sid=${token}` } })).status).toBe(200);
    expect((await served.request("/auth/session", { headers: { cookie: `cimiento_session=${token}` } })).status).toBe(401);
    const out = await served.request("/auth/sign-out", { method: "POST", headers: { cookie: `sid=${token}` } });
    expect(cookieNamed(out, "sid")).toMatchObject({ value: "", attributes: { domain: "example.test", "max-age": "0" } });
  });
});

describeEachDatabase("auth: cookie settings through backend.fetch", (db) => {
  async function withBackend(cookie: Parameters<typeof backendWith>[1], run: (backend: ReturnType<typeof backendWith>) => Promise<void>) {
    const fresh = await db.fresh();
    const backend = backendWith(fresh.database, cookie);
    try {
      await backend.migrate();
      await run(backend);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  }
  const signUpAt = (backend: ReturnType<typeof backendWith>, url: string) =>
    backend.fetch(new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }) }));

  test('secure "auto" (the default) without a socket: Secure whatever the URL says, localhost too', async () => {
    await withBackend(undefined, async (backend) => {
      for (const url of ["https://api.example.com", "http://api.example.com", "http://localhost:3000", "http://app.localhost", "http://127.0.0.1:3000"]) {
        const secure = setCookies(await signUpAt(backend, `${url}/auth/sign-up`))[0]?.attributes["secure"];
        expect([url, secure]).toEqual([url, true]);
      }
    });
  });

  test("secure: false and a path are honoured; SameSite=None forces Secure", async () => {
    await withBackend({ secure: false, path: "/api" }, async (backend) => {
      const cookie = setCookies(await signUpAt(backend, "https://api.example.com/auth/sign-up"))[0]!;
      expect(cookie.attributes).not.toHaveProperty("secure");
      expect(cookie.attributes["path"]).toBe("/api");
    });
    await withBackend({ sameSite: "none", secure: false }, async (backend) => {
      const cookie = setCookies(await signUpAt(backend, "http://localhost/auth/sign-up"))[0]!;
      expect(cookie.attributes).toMatchObject({ samesite: "None", secure: true });
    });
  });

  test("cookie: false sets no cookie and ignores one sent", async () => {
    await withBackend(false, async (backend) => {
      const response = await signUpAt(backend, "http://localhost/auth/sign-up");
      expect(response.status).toBe(201);
      const { token } = (await response.json()) as { token: string };
      expect(response.headers.getSetCookie()).toEqual([]);
      const byCookie = await backend.fetch(new Request("http://localhost/auth/session", { headers: { cookie: `cimiento_session=${token}` } }));
      expect(byCookie.status).toBe(401);
      const byHeader = await backend.fetch(new Request("http://localhost/auth/session", { headers: bearer(token) }));
      expect(byHeader.status).toBe(200);
    });
  });

  test("__Host- and __Secure- names: always Secure (localhost too), and sign-out clears them with the same attributes", async () => {
    for (const name of ["__Host-session", "__Secure-session"]) {
      await withBackend({ name }, async (backend) => {
        for (const origin of ["http://localhost", "https://api.example.com"]) {
          const response = await signUpAt(backend, `${origin}/auth/sign-up`);
          expect([name, origin, response.status]).toEqual([name, origin, 201]);
          const { token } = (await response.json()) as { token: string };
          const cookie = setCookies(response)[0]!;
          expect(cookie).toMatchObject({ name, value: token, attributes: { secure: true, httponly: true, path: "/" } });
          const out = await backend.fetch(new Request(`${origin}/auth/sign-out`, { method: "POST", headers: { cookie: `${name}=${token}` } }));
          expect([name, origin, out.status]).toEqual([name, origin, 204]);
          expect(setCookies(out)[0]).toMatchObject({ name, value: "", attributes: { secure: true, path: "/", "max-age": "0" } });
        }
      });
    }
  });

  test("the cookie that clears a SameSite=None cookie is Secure and SameSite=None too", async () => {
    await withBackend({ sameSite: "none", domain: "example.test" }, async (backend) => {
      const response = await signUpAt(backend, "https://api.example.com/auth/sign-up");
      const { token } = (await response.json()) as { token: string };
      const out = await backend.fetch(new Request("https://api.example.com/auth/sign-out", { method: "POST", headers: { cookie: `cimiento_session=${token}` } }));
      expect(setCookies(out)[0]).toMatchObject({ value: "", attributes: { secure: true, samesite: "None", domain: "example.test", "max-age": "0" } });
    });
  });

  test("a __Host- cookie with a domain or another path is refused at start-up", async () => {
    const fresh = await db.fresh();
    try {
      expect(() => backendWith(fresh.database, { name: "__Host-s", domain: "example.test" })).toThrow(/__Host-/);
      expect(() => backendWith(fresh.database, { name: "__Host-s", path: "/api" })).toThrow(/__Host-/);
    } finally {
      await fresh.drop();
    }
  });
});
