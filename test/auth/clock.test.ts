/**
 * Built-in auth reads the backend's clock (`createBackend({ clock })`), as jobs do: sessions,
 * API keys and one-use tokens expire, sessions slide and rate-limit windows end when that clock
 * says so, and the rows it writes are dated by it. A test moves the clock; nothing sleeps.
 */
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { createBackend, type Mailer, type MailMessage } from "cimiento";
import { testClock, type TestClock } from "cimiento/testing";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, cookieNamed, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

/** Where every test sets the clock: this second, so that cookies expire when the clock says. */
const START = Math.floor(Date.now() / 1000) * 1000;
const HOUR = 3_600_000;

/** A mailer that keeps what it is given. */
function keepingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return { sent, send: async (message) => void sent.push(message) };
}

const clocks = new WeakMap<object, TestClock>();
const mailers = new WeakMap<object, ReturnType<typeof keepingMailer>>();

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  const clock = testClock(START);
  const mailer = keepingMailer();
  const backend = createBackend({
    database,
    collections: {},
    clock,
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      sessions: { ttl: "1h" },
      rateLimit: { signIn: { max: 2, window: "15m" }, perAddress: { max: 100_000, window: "1m" } },
      mailer,
    },
  });
  clocks.set(backend, clock);
  mailers.set(backend, mailer);
  return backend;
}

type Served = ServedBackend<ReturnType<typeof makeBackend>>;

/** The clock of this run's backend, set back to the start. */
function clockOf(served: Served): TestClock {
  const clock = clocks.get(served.backend)!;
  clock.set(START);
  return clock;
}

async function signUp(served: Served) {
  const email = uniqueEmail("clock");
  const response = await served.json("POST", "/auth/sign-up", { email, password: PASSWORD });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { user: { id: string }; token: string; session: { createdAt: string; expiresAt: string } };
  return { email, ...body };
}

const session = (served: Served, token: string) => served.request("/auth/session", { headers: bearer(token) });

describeEachServer("auth: the backend's clock", makeBackend, (served) => {
  test("a session is dated by the clock, and expires when the clock passes its ttl", async () => {
    const clock = clockOf(served);
    const { token, session: opened } = await signUp(served);
    expect(opened).toMatchObject({ createdAt: new Date(START).toISOString(), expiresAt: new Date(START + HOUR).toISOString() });
    clock.advance(HOUR - 1);
    expect((await session(served, token)).status).toBe(200);
    clock.set(START + 2 * HOUR);
    expect((await session(served, token)).status).toBe(401);
  });

  test("a session used after refreshAfter slides to the clock's time plus its ttl (the cookie too)", async () => {
    const clock = clockOf(served);
    const { token } = await signUp(served);
    clock.advance(HOUR / 2);
    const used = await served.request("/auth/session", { headers: { cookie: `cimiento_session=${token}` } });
    expect(used.status).toBe(200);
    expect(Date.parse(String(cookieNamed(used, "cimiento_session")?.attributes["expires"]))).toBe(START + HOUR / 2 + HOUR);
    // Past the first expiry, within the slid one.
    clock.set(START + HOUR + 60_000);
    expect((await session(served, token)).status).toBe(200);
  });

  test("an API key's expiresIn counts from the clock, and the key ends when the clock reaches it", async () => {
    const clock = clockOf(served);
    const owner = await signUp(served);
    const { key, apiKey } = await served.backend.auth.apiKeys.create({ name: "hourly", userId: owner.user.id, expiresIn: "1h" });
    expect(apiKey.createdAt).toEqual(new Date(START));
    expect(apiKey.expiresAt).toEqual(new Date(START + HOUR));
    clock.advance(HOUR - 1);
    expect((await session(served, owner.token)).status).toBe(200);
    expect((await served.request("/collections/users/records", { headers: bearer(key) })).status).toBe(200);
    clock.advance(1);
    expect((await served.request("/collections/users/records", { headers: bearer(key) })).status).toBe(401);
  });

  test("a password reset token expires when the clock passes its ttl", async () => {
    const clock = clockOf(served);
    const { email } = await signUp(served);
    expect((await served.json("POST", "/auth/request-password-reset", { email })).status).toBe(202);
    const mailer = mailers.get(served.backend)!;
    await expect.poll(() => mailer.sent.find((message) => message.to === email)).toBeDefined();
    const token = /Your code: ([A-Za-z0-9_-]{43})/.exec(mailer.sent.find((message) => message.to === email)!.text)![1]!;
    clock.advance(HOUR);
    const late = await served.json("POST", "/auth/reset-password", { token, password: "a brand new passphrase" });
    expect(late.status).toBe(400);
    expect(((await late.json()) as { code: string }).code).toBe("INVALID_TOKEN");
  });

  test("with the clock 500 days ahead, sign-in works; the cookie's Expires is capped at 400 days from now", async () => {
    const clock = clockOf(served);
    clock.advance(500 * 86_400_000);
    const { email, session: opened } = await signUp(served);
    expect(opened.expiresAt).toBe(new Date(START + 500 * 86_400_000 + HOUR).toISOString());
    const signedIn = await served.json("POST", "/auth/sign-in", { email, password: PASSWORD });
    expect(signedIn.status).toBe(200);
    const expires = Date.parse(String(cookieNamed(signedIn, "cimiento_session")?.attributes["expires"]));
    expect(expires).toBeLessThanOrEqual(Date.now() + 400 * 86_400_000);
    expect(expires).toBeGreaterThan(Date.now() + 399 * 86_400_000);
  });

  test("the sign-in limit's window ends when the clock passes it", async () => {
    const clock = clockOf(served);
    const { email } = await signUp(served);
    const wrong = () => served.json("POST", "/auth/sign-in", { email, password: "not the password" });
    expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(401);
    const refused = await wrong();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("900");
    clock.advance(15 * 60_000);
    expect((await wrong()).status).toBe(401);
  });
}, { notRoundRobin: "each instance has a test clock of its own, which the suite moves only for the first" });

describeEachDatabase("auth: expired rows are deleted", (database) => {
  test("a session or one-use token past its expiry is deleted by a later sign-in or token, at most once an hour; live ones stay", async () => {
    const fresh = await database.fresh();
    const clock = testClock(START);
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      clock,
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher }, sessions: { ttl: "30m" }, tokenTtl: { verifyEmail: "30m" }, mailer: keepingMailer() },
    });
    const db = backend.db as unknown as Kysely<any>;
    const ids = async (table: string) => (await db.selectFrom(table).select("id").orderBy("id").execute()).map((row) => row.id as string);
    try {
      await backend.migrate();
      const user = await backend.auth.createUser({ email: uniqueEmail(), password: PASSWORD });
      const first = await backend.auth.createSession(user.id);
      await backend.auth.sendVerificationEmail(user.id);
      const firstTokens = await ids("cimiento_tokens");
      expect(firstTokens).toHaveLength(1);

      // Past their expiry, but within the hour of the last sweep: nothing is deleted yet.
      clock.advance(40 * 60_000);
      const second = await backend.auth.createSession(user.id);
      await backend.auth.sendVerificationEmail(user.id);
      expect(await ids("cimiento_sessions")).toEqual([first.session.id, second.session.id].sort());
      expect(await ids("cimiento_tokens")).toHaveLength(2);

      // An hour after the first sweep: the expired session and token go, the live ones stay.
      clock.advance(25 * 60_000);
      const third = await backend.auth.createSession(user.id);
      await backend.auth.sendVerificationEmail(user.id);
      expect(await ids("cimiento_sessions")).toEqual([second.session.id, third.session.id].sort());
      const tokens = await ids("cimiento_tokens");
      expect(tokens).toHaveLength(2);
      expect(tokens).not.toContain(firstTokens[0]);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
