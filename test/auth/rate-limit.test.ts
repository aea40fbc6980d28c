/**
 * Rate limits on credentials. Per account, over HTTP on every database and through fetch,
 * Express and Hono: the 6th wrong password in a window is 429 with Retry-After, and the right
 * password is refused too while locked; of 12 wrong passwords sent at once (sign-in or
 * change-password), 5 are checked and 7 are 429, with the database store and with
 * `memoryRateLimitStore()`. Per client address, over real servers (every request
 * comes from 127.0.0.1): the 31st... here the (max+1)th credential request is 429, a client's
 * X-Forwarded-For counts for nothing unless the socket is a trusted proxy. The database store
 * holds across backend instances sharing one database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend, memoryRateLimitStore, type DatabaseAdapter, type Mailer, type MailMessage, type RateLimitStore } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { describeEachServer, MOUNT, startExpress, startHono, type Listening, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

type Database = DatabaseAdapter<"sqlite" | "postgres">;

/** Reset tokens by address, from a mailer kept in memory (real SMTP is email.test.ts's). */
const mailed = {
  tokens: new Map<string, string[]>(),
  mailer: {
    async send(message: MailMessage) {
      const token = /Your code: ([A-Za-z0-9_-]{43})/.exec(message.text)?.[1];
      if (token !== undefined) mailed.tokens.set(message.to, [...(mailed.tokens.get(message.to) ?? []), token]);
    },
  } satisfies Mailer,
  async next(to: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const token = mailed.tokens.get(to)?.shift();
      if (token !== undefined) return token;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`No token mailed to ${to}`);
  },
};

function makeBackend(database: Database, auth: { perAddress?: number; trustedProxies?: string[]; store?: RateLimitStore } = {}) {
  return createBackend({
    database,
    collections: {},
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      mailer: mailed.mailer,
      rateLimit: { perAddress: { max: auth.perAddress ?? 100_000, window: "1m" }, ...(auth.store === undefined ? {} : { store: auth.store }) },
      trustedProxies: auth.trustedProxies ?? [],
    },
  });
}
type B = ReturnType<typeof makeBackend>;
type Served = ServedBackend<B>;

const db = (backend: B) => backend.db as unknown as Kysely<any>;

/** A 429 RATE_LIMITED whose `retryAfter` (seconds) is from 1 to `maxSeconds`; returns its Retry-After header. */
async function expectLocked(response: Response, maxSeconds: number): Promise<string | null> {
  expect(response.status).toBe(429);
  const body = (await response.json()) as { code: string; retryAfter: number };
  expect(body.code).toBe("RATE_LIMITED");
  expect(Number.isInteger(body.retryAfter)).toBe(true);
  expect(body.retryAfter).toBeGreaterThanOrEqual(1);
  expect(body.retryAfter).toBeLessThanOrEqual(maxSeconds);
  return response.headers.get("retry-after");
}

/** The Retry-After header of a 429: whole seconds, equal to the body's `retryAfter`. */
async function expectRetryAfterHeader(response: Response, maxSeconds: number) {
  const body = (await response.clone().json()) as { retryAfter: number };
  const header = await expectLocked(response, maxSeconds);
  expect(header).toMatch(/^\d+$/);
  expect(Number(header)).toBe(body.retryAfter);
}

/**
 * Tries that run at once: 12 wrong passwords to one account, sent together. Each takes its try
 * before its password is checked, so 5 are checked (401) and the other 7 refused (429).
 */
function concurrentTries(served: Served) {
  const signIn = (email: string, password: string) => served.json("POST", "/auth/sign-in", { email, password });
  const statuses = async (responses: Promise<Response>[]) => (await Promise.all(responses)).map((response) => response.status).sort();
  const FIVE_CHECKED = [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429];

  test("12 wrong passwords at once: 5 are checked (401), 7 are 429; then the right one is refused too", async () => {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    expect(await statuses(Array.from({ length: 12 }, (_, i) => signIn(email, `wrong password ${i}`)))).toEqual(FIVE_CHECKED);
    expect((await signIn(email, PASSWORD)).status).toBe(429);
  });

  test("12 wrong passwords at once to an unknown address: the same 5 and 7", async () => {
    const email = uniqueEmail("nobody");
    expect(await statuses(Array.from({ length: 12 }, (_, i) => signIn(email, `wrong password ${i}`)))).toEqual(FIVE_CHECKED);
  });

  test("12 wrong current passwords at once in change-password: 5 are checked (401), 7 are 429", async () => {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    const { token } = (await (await signIn(email, PASSWORD)).json()) as { token: string };
    const change = (i: number) =>
      served.json("POST", "/auth/change-password", { currentPassword: `guess ${i}`, newPassword: "another passphrase" }, bearer(token));
    expect(await statuses(Array.from({ length: 12 }, (_, i) => change(i)))).toEqual(FIVE_CHECKED);
    expect((await signIn(email, PASSWORD)).status).toBe(429);
  });

  test("a right password gives its try back: 4 failures, a success, then 5 more failures are checked", async () => {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    expect(await statuses(Array.from({ length: 4 }, (_, i) => signIn(email, `wrong password ${i}`)))).toEqual([401, 401, 401, 401]);
    expect((await signIn(email, PASSWORD)).status).toBe(200);
    expect(await statuses(Array.from({ length: 12 }, (_, i) => signIn(email, `wrong password ${i}`)))).toEqual(FIVE_CHECKED);
  });
}

describeEachServer("auth: concurrent tries per account (memoryRateLimitStore)", (database) => makeBackend(database, { store: memoryRateLimitStore() }), concurrentTries, {
  notRoundRobin: "memoryRateLimitStore counts in one process; the database's store counts across instances",
});

describeEachServer("auth: failed sign-ins per account", (database) => makeBackend(database), (served: Served) => {
  concurrentTries(served);

  const signIn = (email: string, password: string) => served.json("POST", "/auth/sign-in", { email, password });

  async function account() {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    return email;
  }

  test("5 wrong passwords are 401; the 6th is 429; the right password is refused while locked", async () => {
    const email = await account();
    for (let i = 1; i <= 5; i++) {
      const response = await signIn(email, `wrong password ${i}`);
      expect([i, response.status]).toEqual([i, 401]);
    }
    await expectLocked(await signIn(email, "wrong password 6"), 15 * 60);
    await expectLocked(await signIn(email, PASSWORD), 15 * 60);
    await expectLocked(await signIn(` ${email.toUpperCase()}`, PASSWORD), 15 * 60);
    // Another account is not locked.
    const other = await account();
    expect((await signIn(other, PASSWORD)).status).toBe(200);
  });

  // Behind Node servers (@hono/node-server), a header set on a Response after it was made was
  // lost (fixed in 0bf346b): checked on every way.
  test("the 429 has a Retry-After header equal to the body's retryAfter", async () => {
    const email = await account();
    for (let i = 0; i < 5; i++) await signIn(email, "wrong password");
    await expectRetryAfterHeader(await signIn(email, PASSWORD), 15 * 60);
  });

  test("when the window ends, the right password works again", async () => {
    const email = await account();
    for (let i = 0; i < 6; i++) await signIn(email, "wrong password");
    await expectLocked(await signIn(email, PASSWORD), 15 * 60);
    await db(served.backend).updateTable("cimiento_rate_limits").set({ resetAt: Date.now() - 1 }).where("key", "like", "sign-in:%").where("key", "like", `%${email}`).execute();
    expect((await signIn(email, PASSWORD)).status).toBe(200);
  });

  test("a password reset (which proves the mailbox) lifts the lock: the new password works at once", async () => {
    const email = await account();
    for (let i = 0; i < 6; i++) await signIn(email, "wrong password");
    await expectLocked(await signIn(email, PASSWORD), 15 * 60);
    expect((await served.json("POST", "/auth/request-password-reset", { email })).status).toBe(202);
    const token = await mailed.next(email);
    const NEW = "a brand new passphrase";
    expect((await served.json("POST", "/auth/reset-password", { token, password: NEW })).status).toBe(204);
    expect((await signIn(email, NEW)).status).toBe(200);
  });

  test("an unknown address is locked alike (the 6th try is 429), so locking tells nothing", async () => {
    const email = uniqueEmail("nobody");
    for (let i = 0; i < 5; i++) expect((await signIn(email, "wrong password")).status).toBe(401);
    await expectLocked(await signIn(email, "wrong password"), 15 * 60);
  });

  test("a successful sign-in clears the failures before the limit", async () => {
    const email = await account();
    for (let i = 0; i < 4; i++) await signIn(email, "wrong password");
    expect((await signIn(email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await signIn(email, "wrong password")).status).toBe(401);
    await expectLocked(await signIn(email, PASSWORD), 15 * 60);
  });

  test("wrong current passwords in change-password count against the account too", async () => {
    const email = await account();
    const { token } = (await (await signIn(email, PASSWORD)).json()) as { token: string };
    for (let i = 0; i < 5; i++) {
      const response = await served.json("POST", "/auth/change-password", { currentPassword: "guess", newPassword: "another passphrase" }, bearer(token));
      expect(response.status).toBe(401);
    }
    const locked = await served.json("POST", "/auth/change-password", { currentPassword: PASSWORD, newPassword: "another passphrase" }, bearer(token));
    await expectLocked(locked, 15 * 60);
    await expectLocked(await signIn(email, PASSWORD), 15 * 60);
  });
});

describeEachDatabase("auth: requests per client address (real servers)", (database) => {
  for (const way of ["express", "hono"] as const) {
    describe(way, () => {
      let plain: B;
      let proxied: B;
      let plainServer: Listening;
      let proxiedServer: Listening;
      const drops: (() => Promise<void>)[] = [];

      beforeAll(async () => {
        const start = way === "express" ? startExpress : startHono;
        const a = await database.fresh();
        const b = await database.fresh();
        drops.push(a.drop, b.drop);
        plain = makeBackend(a.database, { perAddress: 3 });
        proxied = makeBackend(b.database, { perAddress: 2, trustedProxies: ["127.0.0.1", "10.0.0.0/8"] });
        await plain.migrate();
        await proxied.migrate();
        plainServer = await start(plain);
        proxiedServer = await start(proxied);
      });
      afterAll(async () => {
        await plainServer?.close();
        await proxiedServer?.close();
        await plain?.close();
        await proxied?.close();
        for (const drop of drops) await drop();
      });

      const post = (server: Listening, path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.origin}${MOUNT}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

      test("the (max+1)th credential request from one address is 429 with Retry-After, whatever the route, account or X-Forwarded-For", async () => {
        const answers: number[] = [];
        answers.push((await post(plainServer, "/auth/sign-in", { email: uniqueEmail(), password: "wrong password" }, { "x-forwarded-for": "198.51.100.1" })).status);
        answers.push((await post(plainServer, "/auth/sign-up", { email: uniqueEmail(), password: PASSWORD }, { "x-forwarded-for": "198.51.100.2" })).status);
        answers.push((await post(plainServer, "/auth/request-password-reset", { email: uniqueEmail() }, { "x-forwarded-for": "198.51.100.3" })).status);
        expect(answers).toEqual([401, 201, 202]);
        for (const [path, body] of [
          ["/auth/sign-in", { email: uniqueEmail(), password: PASSWORD }],
          ["/auth/sign-up", { email: uniqueEmail(), password: PASSWORD }],
          ["/auth/request-password-reset", { email: uniqueEmail() }],
          ["/auth/reset-password", { token: "x".repeat(43), password: PASSWORD }],
          ["/auth/verify-email", { token: "x".repeat(43) }],
        ] as const) {
          const response = await post(plainServer, path, body, { "x-forwarded-for": `203.0.113.${Math.floor(Math.random() * 200)}` });
          expect([path, response.status]).toEqual([path, 429]);
          await expectLocked(response, 60);
        }
        // Non-credential routes are not limited.
        expect((await fetch(`${plainServer.origin}${MOUNT}/auth/session`)).status).toBe(401);
        expect((await fetch(`${plainServer.origin}${MOUNT}/health`)).status).toBe(200);
      });

      test("the per-address 429 has a Retry-After header (at most the window)", async () => {
        let response: Response | undefined;
        for (let i = 0; i < 6; i++) response = await post(plainServer, "/auth/sign-in", { email: uniqueEmail(), password: "wrong password" });
        await expectRetryAfterHeader(response!, 60);
      });

      test("behind a trusted proxy, the client is the nearest untrusted X-Forwarded-For address; prepended entries do not help", async () => {
        const signIn = (forwardedFor: string | undefined) =>
          post(proxiedServer, "/auth/sign-in", { email: uniqueEmail(), password: "wrong password" }, forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor });
        expect((await signIn("203.0.113.7")).status).toBe(401);
        expect((await signIn("198.51.100.99, 203.0.113.7, 10.1.2.3")).status).toBe(401); // 10/8 is a trusted hop
        await expectLocked(await signIn("1.2.3.4, 203.0.113.7"), 60); // a forged first entry changes nothing
        // Other clients behind the proxy are counted apart.
        expect((await signIn("203.0.113.8")).status).toBe(401);
        expect((await signIn("2001:db8::1")).status).toBe(401);
        // Without X-Forwarded-For, the proxy's own address counts.
        expect((await signIn(undefined)).status).toBe(401);
        expect((await signIn(undefined)).status).toBe(401);
        expect((await signIn(undefined)).status).toBe(429);
      });

      test("the session remembers the client address (the forwarded one behind a trusted proxy, the socket's otherwise)", async () => {
        const email = uniqueEmail();
        await proxied.auth.createUser({ email, password: PASSWORD });
        const response = await post(proxiedServer, "/auth/sign-in", { email, password: PASSWORD }, { "x-forwarded-for": "192.0.2.44", "user-agent": "rate-test/1" });
        expect(response.status).toBe(200);
        const { session } = (await response.json()) as { session: { id: string } };
        const row = await db(proxied).selectFrom("cimiento_sessions").select(["address", "userAgent"]).where("id", "=", session.id).executeTakeFirstOrThrow();
        expect(row).toEqual({ address: "192.0.2.44", userAgent: "rate-test/1" });

        const other = uniqueEmail();
        await plain.auth.createUser({ email: other, password: PASSWORD });
        await db(plain).deleteFrom("cimiento_rate_limits").execute();
        const direct = await post(plainServer, "/auth/sign-in", { email: other, password: PASSWORD }, { "x-forwarded-for": "192.0.2.45" });
        expect(direct.status).toBe(200);
        const id = ((await direct.json()) as { session: { id: string } }).session.id;
        const stored = await db(plain).selectFrom("cimiento_sessions").select("address").where("id", "=", id).executeTakeFirstOrThrow();
        expect(stored.address).toBe("127.0.0.1");
      });
    });
  }

  test("through backend.fetch there is no socket address: the per-address limit does not apply", async () => {
    const fresh = await database.fresh();
    const backend = makeBackend(fresh.database, { perAddress: 2 });
    try {
      await backend.migrate();
      for (let i = 0; i < 4; i++) {
        const response = await backend.fetch(
          new Request("http://localhost/auth/sign-in", { method: "POST", headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.1" }, body: JSON.stringify({ email: uniqueEmail(), password: "wrong password" }) }),
        );
        expect(response.status).toBe(401);
      }
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });

  test("the database store holds across two backend instances sharing one database", async () => {
    const dir = database.dialect === "sqlite" ? mkdtempSync(join(tmpdir(), "cimiento-rate-")) : null;
    const fresh = dir === null ? await database.fresh() : { database: sqlite({ file: join(dir, "app.db") }) as Database, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    const first = makeBackend(fresh.database);
    const second = makeBackend(fresh.database);
    try {
      await first.migrate();
      const email = uniqueEmail();
      await first.auth.createUser({ email, password: PASSWORD });
      const signIn = (backend: B, password: string) =>
        backend.fetch(new Request("http://localhost/auth/sign-in", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) }));
      for (let i = 0; i < 5; i++) expect((await signIn(i % 2 === 0 ? first : second, "wrong password")).status).toBe(401);
      await expectLocked(await signIn(second, PASSWORD), 15 * 60);
      await expectLocked(await signIn(first, PASSWORD), 15 * 60);
    } finally {
      await first.close();
      await second.close();
      await fresh.drop();
    }
  });
});

/** A backend made with `rateLimit: false` while NODE_ENV is `nodeEnv`, and what it logged. */
function unlimitedIn(nodeEnv: string | undefined, database: Database, rateLimit: false | { store: RateLimitStore } = false) {
  const before = process.env["NODE_ENV"];
  if (nodeEnv === undefined) delete process.env["NODE_ENV"];
  else process.env["NODE_ENV"] = nodeEnv;
  const logger = recordingLogger();
  try {
    const backend = createBackend({
      database,
      collections: {},
      logger,
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, mailer: mailed.mailer, rateLimit },
    });
    return { backend, logger };
  } finally {
    if (before === undefined) delete process.env["NODE_ENV"];
    else process.env["NODE_ENV"] = before;
  }
}

describeEachServer("auth: rateLimit: false", (database) => unlimitedIn("test", database).backend, (served) => {
  const signIn = (email: string, password: string) => served.json("POST", "/auth/sign-in", { email, password });

  test("40 wrong passwords to one account, past the 5 per account and the 30 per address: each is checked (401), the right one then works, and nothing is counted", async () => {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    for (let i = 0; i < 40; i++) expect((await signIn(email, `wrong password ${i}`)).status).toBe(401);
    expect((await signIn(email, PASSWORD)).status).toBe(200);
    const counters = await (served.backend.db as unknown as Kysely<any>).selectFrom("cimiento_rate_limits").selectAll().execute();
    expect(counters).toEqual([]);
  });

  test("12 wrong passwords at once are all checked (401), none 429", async () => {
    const email = uniqueEmail();
    await served.backend.auth.createUser({ email, password: PASSWORD });
    const statuses = (await Promise.all(Array.from({ length: 12 }, (_, i) => signIn(email, `wrong password ${i}`)))).map((response) => response.status);
    expect(statuses).toEqual(Array.from({ length: 12 }, () => 401));
  });
});

describe("auth: the warning of rateLimit: false", () => {
  const database = () => sqlite({ file: ":memory:" }) as Database;
  const warningsOf = (made: ReturnType<typeof unlimitedIn>) => [...made.logger.warnings, ...made.logger.errors].filter((line) => line.includes("rateLimit"));
  const made: ReturnType<typeof unlimitedIn>[] = [];
  afterAll(async () => {
    for (const { backend } of made) await backend.close();
  });
  const make = (...args: Parameters<typeof unlimitedIn>) => {
    const result = unlimitedIn(...args);
    made.push(result);
    return result;
  };

  test("with NODE_ENV=production it is logged once, as a warning, when the backend is made", () => {
    const { logger } = make("production", database());
    expect(logger.warnings.filter((line) => line.includes("rateLimit"))).toEqual([
      expect.stringMatching(/^auth\.rateLimit is false and NODE_ENV is "production": sign-in, sign-up, password reset and every other credential request are not rate-limited/),
    ]);
    expect(logger.errors).toEqual([]);
  });

  test("outside production (test, development, unset) nothing is logged", () => {
    for (const nodeEnv of ["test", "development", undefined]) expect(warningsOf(make(nodeEnv, database()))).toEqual([]);
  });

  test("in production with rate limits on, nothing is logged", () => {
    expect(warningsOf(make("production", database(), { store: memoryRateLimitStore() }))).toEqual([]);
  });
});
