/**
 * The limit on messages anybody can have mailed to one address (reset links, sign-up links,
 * "account exists" notices): past it they are dropped, and every request is answered exactly as
 * before, so the answers tell nothing; `rateLimit: false` turns it off with the other limits.
 */
import type { Kysely } from "kysely";
import { expect, test, vi } from "vitest";
import { createBackend, type Mailer, type MailMessage, type RateLimitOptions } from "cimiento";
import { testClock } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

function keepingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return { sent, send: async (message) => void sent.push(message) };
}

describeEachDatabase("auth: messages per recipient", (database) => {
  async function setUp(rateLimit: RateLimitOptions | false) {
    const fresh = await database.fresh();
    const mailer = keepingMailer();
    const clock = testClock();
    const backend = createBackend({ database: fresh.database, collections: {}, clock, logger: recordingLogger(), auth: { password: { hasher: fastHasher }, mailer, rateLimit } });
    await backend.migrate();
    const post = async (path: string, body: unknown) => {
      const response = await backend.fetch(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
      return { status: response.status, body: await response.text() };
    };
    const to = (email: string) => mailer.sent.filter((message) => message.to === email);
    const db = backend.db as unknown as Kysely<any>;
    /** Waits until `count` requests for `email` were counted (rate limits on) and `mails` messages went to it. */
    const settle = async (email: string, count: number, mails: number) => {
      await vi.waitFor(
        async () => {
          if (rateLimit !== false) {
            const row = await db.selectFrom("cimiento_rate_limits").select("count").where("key", "=", `mail:${email}`).executeTakeFirst();
            expect(Number(row?.count ?? 0)).toBe(count);
          }
          expect(to(email)).toHaveLength(mails);
        },
        { timeout: 10_000, interval: 5 },
      );
    };
    return { backend, post, to, settle, clock, close: async () => (await backend.close(), await fresh.drop()) };
  }

  test("past 3 messages an hour to one address, reset links and notices are dropped; every answer is the same; other addresses still get theirs", async () => {
    const { backend, post, to, settle, clock, close } = await setUp({ perAddress: { max: 100_000, window: "1m" } });
    try {
      const email = uniqueEmail();
      await backend.auth.createUser({ email, password: PASSWORD, emailVerified: true });
      const resets = [];
      const signUps = [];
      for (let i = 0; i < 3; i++) resets.push(await post("/auth/request-password-reset", { email }));
      for (let i = 0; i < 2; i++) signUps.push(await post("/auth/sign-up", { email }));
      resets.push(await post("/auth/request-password-reset", { email }));
      expect(new Set(resets.map((answer) => JSON.stringify(answer))).size).toBe(1);
      expect(new Set(signUps.map((answer) => JSON.stringify(answer))).size).toBe(1);
      expect([resets[0]!.status, signUps[0]!.status]).toEqual([202, 202]);
      await settle(email, 6, 3);
      expect(to(email).map((message) => message.subject)).toEqual(["Reset your password", "Reset your password", "Reset your password"]);
      // Dropped resets left no token behind.
      const tokens = await (backend.db as unknown as Kysely<any>).selectFrom("cimiento_tokens").select("id").execute();
      expect(tokens).toHaveLength(3);

      // A new address: its sign-up links are counted alike, apart from the first address.
      const other = uniqueEmail();
      for (let i = 0; i < 4; i++) expect((await post("/auth/sign-up", { email: other })).status).toBe(202);
      await settle(other, 4, 3);

      // An hour later, the address gets messages again.
      clock.advance(3_600_001);
      expect((await post("/auth/request-password-reset", { email })).status).toBe(202);
      await settle(email, 1, 4);
    } finally {
      await close();
    }
  });

  test("perRecipient sets the limit, and rateLimit: false turns it off", async () => {
    const one = await setUp({ perRecipient: { max: 1, window: "1h" } });
    try {
      const email = uniqueEmail();
      for (let i = 0; i < 2; i++) expect((await one.post("/auth/sign-up", { email })).status).toBe(202);
      await one.settle(email, 2, 1);
    } finally {
      await one.close();
    }
    const off = await setUp(false);
    try {
      const email = uniqueEmail();
      await off.backend.auth.createUser({ email, password: PASSWORD, emailVerified: true });
      for (let i = 0; i < 5; i++) expect((await off.post("/auth/request-password-reset", { email })).status).toBe(202);
      await off.settle(email, 0, 5);
    } finally {
      await off.close();
    }
  });
});
