/**
 * Actions bound to GET and requests from other sites, on every database and through fetch,
 * Express and Hono. A link, a redirect or a GET form from another site carries the SameSite=Lax
 * session cookie; such a request (by Sec-Fetch-Site, or by Origin where the browser sends no
 * Fetch Metadata) reaches the action as an anonymous caller, so it cannot act, nor write, for
 * the user. From the API's own origin, a trusted origin, outside a browser, or with a header
 * token, the action runs as the user.
 */
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field } from "cimiento";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { bearer, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "../auth/support.js";

const TRUSTED = "https://app.example.com";

const marks = collection("marks", {
  fields: { label: field.text(), owner: field.belongsTo("users").readOnly() },
  access: { list: ({ user }) => (user ? { owner: user.id } : false), create: ({ user }) => user !== null },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, owner: user!.id }) },
});

/** A write bound to GET: what the HTTP rules must keep other sites from triggering. */
const mark = action({
  input: z.object({ label: z.string() }),
  http: { method: "GET", path: "/mark" },
  access: ({ user }) => user !== null,
  handler: ({ input, data }) => data.marks.create({ label: input.label }),
});

/** A public GET action: it runs for anyone, and says whom it ran for. */
const whoami = action({
  input: z.object({}),
  http: { method: "GET", path: "/whoami" },
  access: () => true,
  handler: ({ user }) => ({ user: user?.id ?? null }),
});

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: { marks },
    actions: { mark, whoami },
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
      trustedOrigins: [TRUSTED],
    },
  });
}
type Served = ServedBackend<ReturnType<typeof makeBackend>>;

async function signedUp(served: Served) {
  const response = await served.json("POST", "/auth/sign-up", { email: uniqueEmail(), password: PASSWORD });
  expect(response.status).toBe(201);
  const { token, user } = (await response.json()) as { token: string; user: { id: string } };
  return { token, id: user.id, cookie: `cimiento_session=${token}` };
}

/** The labels of the marks `owner` has, read as the system. */
async function marksOf(served: Served, owner: string): Promise<string[]> {
  const rows = await (served.backend.db as unknown as Kysely<any>).selectFrom("marks").select("label").where("owner", "=", owner).orderBy("label").execute();
  return rows.map((row) => row.label as string);
}

/** The origin the backend sees itself at in this run. */
const ownOrigin = (served: Served) => served.origin ?? "http://localhost";

describeEachServer("actions bound to GET, from other sites", makeBackend, (served) => {
  test("a cross-site GET or HEAD with the session cookie runs the action as anonymous: 401, and nothing is written", async () => {
    const { id, cookie } = await signedUp(served);
    const hostile: [string, Record<string, string>][] = [
      ["GET", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }],
      ["GET", { "sec-fetch-site": "same-site" }],
      ["GET", { origin: "https://evil.example" }],
      ["GET", { origin: "null" }],
      ["GET", { "sec-fetch-site": "cross-site", origin: ownOrigin(served) }],
      ["HEAD", { "sec-fetch-site": "cross-site" }],
    ];
    for (const [method, headers] of hostile) {
      const response = await served.request("/mark?label=forged", { method, headers: { cookie, ...headers } });
      expect([method, JSON.stringify(headers), response.status]).toEqual([method, JSON.stringify(headers), 401]);
      if (method === "GET") expect(await response.json()).toMatchObject({ code: "UNAUTHORIZED" });
    }
    expect(await marksOf(served, id)).toEqual([]);
  });

  test("a public GET action runs for a cross-site request as for nobody", async () => {
    const { cookie } = await signedUp(served);
    const response = await served.request("/whoami", { headers: { cookie, "sec-fetch-site": "cross-site" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: null });
  });

  test("from the API's own origin, a trusted origin, a typed-in address or outside a browser, it runs as the user and writes", async () => {
    const { id, cookie } = await signedUp(served);
    const friendly: Record<string, string>[] = [
      { "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
      { origin: ownOrigin(served) },
      { origin: TRUSTED, "sec-fetch-site": "cross-site" },
      {},
    ];
    for (const [i, headers] of friendly.entries()) {
      const response = await served.request(`/mark?label=ok-${i}`, { headers: { cookie, ...headers } });
      expect([JSON.stringify(headers), response.status]).toEqual([JSON.stringify(headers), 200]);
    }
    expect(await marksOf(served, id)).toEqual(["ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]);
    const who = await served.request("/whoami", { headers: { cookie, "sec-fetch-site": "same-origin" } });
    expect(await who.json()).toEqual({ user: id });
  });

  test("with a header token, a cross-site GET runs as the token's user (a browser does not send one on its own)", async () => {
    const { id, token, cookie } = await signedUp(served);
    const hostile = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
    expect((await served.request("/mark?label=by-token", { headers: { ...bearer(token), ...hostile } })).status).toBe(200);
    expect((await served.request("/mark?label=by-token-and-cookie", { headers: { ...bearer(token), cookie, ...hostile } })).status).toBe(200);
    expect(await marksOf(served, id)).toEqual(["by-token", "by-token-and-cookie"]);
  });

  test("a cross-site POST to the action with the cookie is refused as before (403 CROSS_ORIGIN_REQUEST)", async () => {
    const { id, cookie } = await signedUp(served);
    const response = await served.json("POST", "/actions/mark", { label: "posted" }, { cookie, "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "CROSS_ORIGIN_REQUEST" });
    expect(await marksOf(served, id)).toEqual([]);
  });
});
