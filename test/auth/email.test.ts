/**
 * The e-mail flows over HTTP with a real SMTP server on loopback (smtp-server, read with
 * mailparser), on every database and through fetch, Express and Hono: sign-up with
 * verification (the address and fields only; the link's follower chooses the password, so a
 * sign-up sent by someone else for an address never sets its password), e-mail verification,
 * password reset (once, and expiring), and a dump of every table that holds none of the raw
 * tokens (session, API key, reset, verification) nor the password.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend, logMailer, type Mailer } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import {
  API_KEY_SHAPE,
  bearer,
  cookieNamed,
  dumpDatabase,
  fastHasher,
  PASSWORD,
  recordingLogger,
  startMailbox,
  tokenIn,
  TOKEN_SHAPE,
  uniqueEmail,
  type Mailbox,
} from "./support.js";

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => {
  await mailbox?.close();
});

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: {},
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher },
      mailer: mailbox.mailer,
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
    },
  });
}
type Served = ServedBackend<ReturnType<typeof makeBackend>>;

const db = (served: Served) => served.backend.db as unknown as Kysely<any>;
const sha256 = (token: string) => createHash("sha256").update(token).digest("base64url");

async function userRow(served: Served, email: string) {
  return db(served).selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
}

async function post(served: Served, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await served.json("POST", path, body, headers);
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : (JSON.parse(text) as Record<string, any>), response };
}

/** Signs up with verification: the 202, then the token from the message. */
async function signUpAndGetToken(served: Served, email = uniqueEmail()) {
  const answer = await post(served, "/auth/sign-up", { email });
  expect(answer.status).toBe(202);
  const mail = await mailbox.next(email);
  expect(mail.subject).toBe("Confirm your e-mail address");
  return { email, token: tokenIn(mail) };
}

/** A verified account with a password, made in-process. */
async function account(served: Served, verified = true) {
  const email = uniqueEmail();
  const user = await served.backend.auth.createUser({ email, password: PASSWORD, emailVerified: verified });
  return { email, id: user.id };
}

describeEachServer("auth: e-mail flows over SMTP", makeBackend, (served) => {
  test("sign-up with verification: 202 and nothing created; the mailed token and the password chosen with it create the account, verified, and sign in; it works once", async () => {
    const email = uniqueEmail();
    const answer = await post(served, "/auth/sign-up", { email });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ status: "email-sent", message: expect.any(String) });
    expect(cookieNamed(answer.response, "cimiento_session")).toBeUndefined();
    expect(await userRow(served, email)).toBeUndefined();

    const mail = await mailbox.next(email);
    expect(mail.from).toContain("test@example.com");
    expect(mail.text).toContain("choose your password");
    const token = tokenIn(mail);
    expect(token).toMatch(TOKEN_SHAPE);

    // No account yet: signing in fails like any wrong password.
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).body).toMatchObject({ code: "INVALID_CREDENTIALS" });

    const verified = await post(served, "/auth/verify-email", { token, password: PASSWORD });
    expect(verified.status).toBe(200);
    expect(verified.body!["user"]).toMatchObject({ email, role: "user", emailVerified: true });
    expect(verified.body!["token"]).toMatch(TOKEN_SHAPE);
    expect(cookieNamed(verified.response, "cimiento_session")?.value).toBe(verified.body!["token"]);
    const session = await served.request("/auth/session", { headers: bearer(verified.body!["token"]) });
    expect(session.status).toBe(200);

    const again = await post(served, "/auth/verify-email", { token, password: PASSWORD });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: "INVALID_TOKEN" });
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });

  test("sign-up with a taken address answers the same 202 and mails an 'account exists' notice without a token; the password stays", async () => {
    const { email } = await account(served);
    const answer = await post(served, "/auth/sign-up", { email });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ status: "email-sent", message: expect.any(String) });
    const mail = await mailbox.next(email);
    expect(mail.subject).toBe("You already have an account");
    expect(mail.text).not.toMatch(/[A-Za-z0-9_-]{43}/);
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });

  test("while verification is required, sign-up refuses a password (422 on password: it is chosen with the link) and mails nothing", async () => {
    const email = uniqueEmail();
    const answer = await post(served, "/auth/sign-up", { email, password: PASSWORD });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      code: "VALIDATION_FAILED",
      issues: [{ path: ["password"], code: "unrecognized_keys", message: expect.stringContaining("following the link") }],
    });
    expect(await mailbox.nothingFor(email, 200)).toBe(true);
    expect(await userRow(served, email)).toBeUndefined();
  });

  test("pre-hijacking: a sign-up someone else sent for an address sets no password; whoever follows its link chooses it, and the other cannot sign in", async () => {
    const email = uniqueEmail("victim");
    const ATTACKER = "the attacker's passphrase";
    const OWNER = "the owner's own passphrase";
    // The attacker cannot put a password in the pending sign-up...
    expect((await post(served, "/auth/sign-up", { email, password: ATTACKER })).status).toBe(422);
    expect((await post(served, "/auth/sign-up", { email })).status).toBe(202);
    // ...and the owner, signing up later, gets two like messages.
    expect((await post(served, "/auth/sign-up", { email })).status).toBe(202);
    const first = tokenIn(await mailbox.next(email));
    const second = tokenIn(await mailbox.next(email));
    // A link alone creates nothing: it asks for the password, and stays usable.
    const bare = await post(served, "/auth/verify-email", { token: first });
    expect(bare).toMatchObject({ status: 422, body: { code: "VALIDATION_FAILED", issues: [{ path: ["password"], code: "invalid_type" }] } });
    expect(await userRow(served, email)).toBeUndefined();
    const verified = await post(served, "/auth/verify-email", { token: first, password: OWNER });
    expect(verified.status).toBe(200);
    expect(verified.body!["user"]).toMatchObject({ email, emailVerified: true });
    expect((await post(served, "/auth/sign-in", { email, password: ATTACKER })).status).toBe(401);
    expect((await post(served, "/auth/sign-in", { email, password: OWNER })).status).toBe(200);
    expect(await post(served, "/auth/verify-email", { token: second, password: ATTACKER })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect((await post(served, "/auth/sign-in", { email, password: ATTACKER })).status).toBe(401);
  });

  test("a pending sign-up's token that carries a password hash (made before passwords moved to the link) still asks its follower for one, and ignores the hash", async () => {
    const ATTACKER = "the attacker's passphrase";
    const OWNER = "the owner's own passphrase";
    const { email, token } = await signUpAndGetToken(served);
    const payload = JSON.stringify({ passwordHash: await fastHasher.hash(ATTACKER), fields: {} });
    await db(served).updateTable("cimiento_tokens").set({ payload }).where("email", "=", email).execute();
    expect(await post(served, "/auth/verify-email", { token })).toMatchObject({ status: 422, body: { issues: [{ path: ["password"] }] } });
    expect(await userRow(served, email)).toBeUndefined();
    expect((await post(served, "/auth/verify-email", { token, password: OWNER })).status).toBe(200);
    expect((await post(served, "/auth/sign-in", { email, password: ATTACKER })).status).toBe(401);
    expect((await post(served, "/auth/sign-in", { email, password: OWNER })).status).toBe(200);
  });

  test("verify-email checks the chosen password's length (422) and keeps the token", async () => {
    const { email, token } = await signUpAndGetToken(served);
    expect(await post(served, "/auth/verify-email", { token, password: "short" })).toMatchObject({ status: 422, body: { issues: [{ path: ["password"], code: "too_small" }] } });
    expect(await userRow(served, email)).toBeUndefined();
    expect((await post(served, "/auth/verify-email", { token, password: PASSWORD })).status).toBe(200);
  });

  test("of two pending sign-ups of one address, the first verified wins; the other token is void", async () => {
    const email = uniqueEmail();
    const first = await signUpAndGetToken(served, email);
    const second = await signUpAndGetToken(served, email);
    expect(first.token).not.toBe(second.token);
    expect((await post(served, "/auth/verify-email", { token: second.token, password: PASSWORD })).status).toBe(200);
    expect(await post(served, "/auth/verify-email", { token: first.token, password: "another passphrase" })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect((await post(served, "/auth/sign-in", { email, password: "another passphrase" })).status).toBe(401);
  });

  test("a verification token expires", async () => {
    const { email, token } = await signUpAndGetToken(served);
    await db(served).updateTable("cimiento_tokens").set({ expiresAt: Date.now() - 1 }).where("email", "=", email).execute();
    expect(await post(served, "/auth/verify-email", { token, password: PASSWORD })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect(await userRow(served, email)).toBeUndefined();
  });

  test("malformed and unknown verification tokens are 400 INVALID_TOKEN", async () => {
    for (const token of [undefined, 42, "", "short", Buffer.alloc(32, 1).toString("base64url"), "x".repeat(5000)]) {
      const answer = await post(served, "/auth/verify-email", token === undefined ? { password: PASSWORD } : { token, password: PASSWORD });
      expect([String(token).slice(0, 10), answer.status, answer.body?.["code"]]).toEqual([String(token).slice(0, 10), 400, "INVALID_TOKEN"]);
    }
  });

  test("an unverified account cannot sign in (403 EMAIL_NOT_VERIFIED); sendVerificationEmail's token verifies it and signs in", async () => {
    const { email, id } = await account(served, false);
    const refused = await post(served, "/auth/sign-in", { email, password: PASSWORD });
    expect(refused).toMatchObject({ status: 403, body: { code: "EMAIL_NOT_VERIFIED" } });
    expect(cookieNamed(refused.response, "cimiento_session")).toBeUndefined();
    await served.backend.auth.sendVerificationEmail(id);
    const mail = await mailbox.next(email);
    expect(mail.text).not.toContain("password");
    const token = tokenIn(mail);
    const verified = await post(served, "/auth/verify-email", { token });
    expect(verified.status).toBe(200);
    expect(verified.body!["user"]).toMatchObject({ id, emailVerified: true });
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });

  test("an existing account's verification link sets no password: with one it is 422 and stays usable; without, it verifies", async () => {
    const { email, id } = await account(served, false);
    await served.backend.auth.sendVerificationEmail(id);
    const token = tokenIn(await mailbox.next(email));
    const refused = await post(served, "/auth/verify-email", { token, password: "a password of my choice" });
    expect(refused).toMatchObject({ status: 422, body: { code: "VALIDATION_FAILED", issues: [{ path: ["password"], code: "unrecognized_keys" }] } });
    expect((await post(served, "/auth/verify-email", { token })).status).toBe(200);
    expect((await post(served, "/auth/sign-in", { email, password: "a password of my choice" })).status).toBe(401);
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });

  test("a verification link proves the address it was sent to only: after the address changes, it is refused", async () => {
    const { email, id } = await account(served, false);
    await served.backend.auth.sendVerificationEmail(id);
    const token = tokenIn(await mailbox.next(email));
    const changed = uniqueEmail("changed");
    await served.backend.system.data.users.update(id, { email: changed });
    expect(await post(served, "/auth/verify-email", { token })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect([true, 1]).not.toContain((await userRow(served, changed))!["emailVerified"]);
  });

  test("a reset link is tied to the address it was mailed to: after the address changes, it is refused and verifies nothing; the password stays", async () => {
    const { email, id } = await account(served, false);
    expect((await post(served, "/auth/request-password-reset", { email })).status).toBe(202);
    const token = tokenIn(await mailbox.next(email));
    const changed = uniqueEmail("changed");
    await served.backend.system.data.users.update(id, { email: changed });
    expect(await post(served, "/auth/reset-password", { token, password: "a brand new passphrase" })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect([true, 1]).not.toContain((await userRow(served, changed))!["emailVerified"]);
    expect((await post(served, "/auth/sign-in", { email: changed, password: "a brand new passphrase" })).status).toBe(401);
  });

  test("password reset: 202, a mailed token that sets the password once, ends every session, and refuses the old password", async () => {
    const { email } = await account(served);
    const signedIn = await post(served, "/auth/sign-in", { email, password: PASSWORD });
    const oldSession = signedIn.body!["token"] as string;

    const asked = await post(served, "/auth/request-password-reset", { email: email.toUpperCase() });
    expect(asked.status).toBe(202);
    const mail = await mailbox.next(email);
    expect(mail.subject).toBe("Reset your password");
    const token = tokenIn(mail);

    const NEW = "a brand new passphrase";
    const tooShort = await post(served, "/auth/reset-password", { token, password: "short" });
    expect(tooShort.status).toBe(422);
    const reset = await post(served, "/auth/reset-password", { token, password: NEW });
    expect(reset.status).toBe(204);
    expect((await served.request("/auth/session", { headers: bearer(oldSession) })).status).toBe(401);
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(401);
    expect((await post(served, "/auth/sign-in", { email, password: NEW })).status).toBe(200);

    const twice = await post(served, "/auth/reset-password", { token, password: "yet another passphrase" });
    expect(twice).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect((await post(served, "/auth/sign-in", { email, password: NEW })).status).toBe(200);
  });

  test("a reset token sent twice at once works once (one 204, one 400)", async () => {
    const { email } = await account(served);
    await post(served, "/auth/request-password-reset", { email });
    const token = tokenIn(await mailbox.next(email));
    const answers = await Promise.all([
      post(served, "/auth/reset-password", { token, password: "first new passphrase" }),
      post(served, "/auth/reset-password", { token, password: "second new passphrase" }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([204, 400]);
    const winner = answers[0]!.status === 204 ? "first new passphrase" : "second new passphrase";
    expect((await post(served, "/auth/sign-in", { email, password: winner })).status).toBe(200);
  });

  test("a reset token expires; the password stays", async () => {
    const { email, id } = await account(served);
    expect((await post(served, "/auth/request-password-reset", { email })).status).toBe(202);
    const token = tokenIn(await mailbox.next(email));
    await db(served).updateTable("cimiento_tokens").set({ expiresAt: Date.now() - 1 }).where("user", "=", id).execute();
    expect(await post(served, "/auth/reset-password", { token, password: "a brand new passphrase" })).toMatchObject({ status: 400, body: { code: "INVALID_TOKEN" } });
    expect((await post(served, "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });

  test("a reset token is not a verification token, nor the reverse", async () => {
    const { email } = await account(served, false);
    await post(served, "/auth/request-password-reset", { email });
    const reset = tokenIn(await mailbox.next(email));
    expect((await post(served, "/auth/verify-email", { token: reset })).status).toBe(400);
    const pending = await signUpAndGetToken(served);
    expect((await post(served, "/auth/reset-password", { token: pending.token, password: "a brand new passphrase" })).status).toBe(400);
    // Both still work for their own purpose.
    expect((await post(served, "/auth/reset-password", { token: reset, password: "a brand new passphrase" })).status).toBe(204);
    expect((await post(served, "/auth/verify-email", { token: pending.token, password: PASSWORD })).status).toBe(200);
  });

  test("a reset proves the address: an unverified account is verified by it", async () => {
    const { email } = await account(served, false);
    await post(served, "/auth/request-password-reset", { email });
    const token = tokenIn(await mailbox.next(email));
    expect((await post(served, "/auth/reset-password", { token, password: "a brand new passphrase" })).status).toBe(204);
    expect((await post(served, "/auth/sign-in", { email, password: "a brand new passphrase" })).status).toBe(200);
  });

  test("a reset request for an unknown address answers 202 alike and sends nothing", async () => {
    const email = uniqueEmail("nobody");
    const asked = await post(served, "/auth/request-password-reset", { email });
    expect(asked.status).toBe(202);
    expect(await mailbox.nothingFor(email, 300)).toBe(true);
  });

  test("no raw token (session, API key, reset, verification) nor password is in a dump of the database; their SHA-256 is", async () => {
    const { email } = await account(served);
    const session = (await post(served, "/auth/sign-in", { email, password: PASSWORD })).body!["token"] as string;
    const created = await post(served, "/auth/api-keys", { name: "ci" }, bearer(session));
    expect(created.status).toBe(201);
    const apiKey = created.body!["key"] as string;
    expect(apiKey).toMatch(API_KEY_SHAPE);
    await post(served, "/auth/request-password-reset", { email });
    const reset = tokenIn(await mailbox.next(email));
    // A password chosen by following a sign-up's link, and a link not yet followed.
    const pendingPassword = "pending sign-up passphrase";
    const followed = await signUpAndGetToken(served);
    expect((await post(served, "/auth/verify-email", { token: followed.token, password: pendingPassword })).status).toBe(200);
    const verify = (await signUpAndGetToken(served)).token;
    // A session made by verification, and one made in-process.
    const { token: inProcess } = await served.backend.auth.createSession((await served.backend.auth.verifyToken(session))!.user.id);

    const { tables, text } = await dumpDatabase(db(served));
    expect(tables).toEqual(expect.arrayContaining(["users", "cimiento_credentials", "cimiento_sessions", "cimiento_tokens", "cimiento_api_keys", "cimiento_rate_limits"]));
    const secrets = { session, inProcess, apiKey, reset, verify, password: PASSWORD, pendingPassword };
    for (const [name, secret] of Object.entries(secrets)) {
      expect([name, text.includes(secret)]).toEqual([name, false]);
      // Nor a large piece of it (a token stored cut or with a prefix changed).
      expect([name, text.includes(secret.slice(4, 36))]).toEqual([name, false]);
    }
    // The dump is not empty: it holds what is stored instead, the hashes.
    for (const name of ["session", "inProcess", "apiKey", "reset", "verify"] as const) {
      expect([name, text.includes(sha256(secrets[name]))]).toEqual([name, true]);
    }
    expect(text).toContain(email);

    // And every one of them still works (they were live when dumped).
    expect((await served.request("/auth/session", { headers: bearer(inProcess) })).status).toBe(200);
    expect((await served.request("/auth/session", { headers: bearer(apiKey) })).status).toBe(403);
    expect((await post(served, "/auth/reset-password", { token: reset, password: "a brand new passphrase" })).status).toBe(204);
    expect((await post(served, "/auth/verify-email", { token: verify, password: PASSWORD })).status).toBe(200);
    expect((await post(served, "/auth/sign-in", { email: followed.email, password: pendingPassword })).status).toBe(200);
  });
});

/** A backend made while NODE_ENV is `nodeEnv` (auth reads it when the backend is made), and what it logged. */
function mailingIn(nodeEnv: string | undefined, options: { mailer?: Mailer; requireEmailVerification?: boolean; signUp?: boolean; reset?: boolean } = {}) {
  const before = process.env["NODE_ENV"];
  if (nodeEnv === undefined) delete process.env["NODE_ENV"];
  else process.env["NODE_ENV"] = nodeEnv;
  const logger = recordingLogger();
  try {
    const { mailer, ...password } = options;
    const backend = createBackend({
      database: sqlite({ file: ":memory:" }),
      collections: {},
      logger,
      auth: { password: { hasher: fastHasher, ...password }, ...(mailer === undefined ? {} : { mailer }) },
    });
    made.push(backend);
    return { backend, logger };
  } finally {
    if (before === undefined) delete process.env["NODE_ENV"];
    else process.env["NODE_ENV"] = before;
  }
}
const made: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const backend of made) await backend.close();
});

/** What was logged about mail (the lines of the mailer and the warnings of start-up). */
const mailLines = (logger: ReturnType<typeof recordingLogger>) => [...logger.warnings, ...logger.errors].filter((line) => /mail/i.test(line));

/** The first logged warning that matches, once it is logged (mail goes out after the answer). */
async function warningLike(logger: ReturnType<typeof recordingLogger>, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const line = logger.warnings.find((warning) => pattern.test(warning));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`No warning like ${pattern}; logged: ${JSON.stringify(logger.warnings)}`);
}

const signUpRequest = (email: string) =>
  new Request("http://localhost/auth/sign-up", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email }) });

describe("auth: mail written to the log says why it was not sent", () => {
  test("logMailer given as auth.mailer: each message is logged as logged by logMailer, not sent (never as 'no mailer is set')", async () => {
    const own = recordingLogger();
    const { backend, logger } = mailingIn("test", { mailer: logMailer(own) });
    await backend.migrate();
    const email = uniqueEmail();
    expect((await backend.fetch(signUpRequest(email))).status).toBe(202);
    const line = await warningLike(own, /^Mail to /);
    expect(line).toMatch(new RegExp(`^Mail to ${email.replaceAll(".", "\\.")} \\(logged by logMailer, not sent\\): Confirm your e-mail address `));
    expect(line).toContain("Your code: ");
    expect(own.warnings.join("\n")).not.toMatch(/no (auth\.)?mailer/);
    // Given a mailer, the backend's own logger says nothing about mail.
    expect(mailLines(logger)).toEqual([]);
  });

  test("no auth.mailer outside production: each message is logged as not sent because no auth.mailer is set", async () => {
    const { backend, logger } = mailingIn("development");
    await backend.migrate();
    const email = uniqueEmail();
    expect((await backend.fetch(signUpRequest(email))).status).toBe(202);
    expect(await warningLike(logger, /^Mail to /)).toMatch(
      new RegExp(`^Mail to ${email.replaceAll(".", "\\.")} \\(logged, not sent: no auth\\.mailer is set\\): Confirm your e-mail address `),
    );
  });
});

describe("auth: the warning of start-up about mail", () => {
  const NO_MAILER = /^auth has no mailer and NODE_ENV is "production"/;

  test("production, no mailer, sign-up with verification and password reset open (the defaults): one warning that names both", () => {
    const { logger } = mailingIn("production");
    expect(mailLines(logger)).toEqual([
      expect.stringMatching(NO_MAILER),
    ]);
    expect(logger.warnings[0]).toContain("the messages of sign-up with e-mail verification and password reset cannot be sent");
    expect(logger.warnings[0]).toContain("turned off: password.requireEmailVerification: false or password.signUp: false; password.reset: false");
  });

  test("production, no mailer, verification off: the warning names password reset alone", () => {
    const { logger } = mailingIn("production", { requireEmailVerification: false });
    expect(mailLines(logger)).toEqual([expect.stringMatching(NO_MAILER)]);
    expect(logger.warnings[0]).toContain("the messages of password reset cannot be sent");
    expect(logger.warnings[0]).toContain("turned off: password.reset: false)");
  });

  test("production, no mailer, sign-up closed and reset open: the warning names password reset alone", () => {
    const { logger } = mailingIn("production", { signUp: false });
    expect(logger.warnings.filter((line) => NO_MAILER.test(line))).toEqual([expect.stringContaining("the messages of password reset cannot be sent")]);
  });

  test("production, no mailer, reset off and sign-up with verification open: the warning names sign-up alone", () => {
    const { logger } = mailingIn("production", { reset: false });
    expect(logger.warnings.filter((line) => NO_MAILER.test(line))).toEqual([
      expect.stringContaining("the messages of sign-up with e-mail verification cannot be sent"),
    ]);
  });

  test("production, no mailer, nothing that mails is open (reset off; verification off, or sign-up closed): no warning", () => {
    expect(mailLines(mailingIn("production", { reset: false, requireEmailVerification: false }).logger)).toEqual([]);
    expect(mailLines(mailingIn("production", { reset: false, signUp: false }).logger)).toEqual([]);
  });

  test("production with a mailer: no warning", () => {
    expect(mailLines(mailingIn("production", { mailer: { send: async () => {} } }).logger)).toEqual([]);
  });

  test("production with logMailer and a flow that mails: one warning that its links go to the log, never sent", () => {
    const { logger } = mailingIn("production", { mailer: logMailer(recordingLogger()) });
    expect(mailLines(logger)).toEqual([
      expect.stringMatching(/^auth\.mailer is logMailer and NODE_ENV is "production": the messages of sign-up with e-mail verification and password reset are written to the log, links and tokens included, and never sent/),
    ]);
    expect(mailLines(mailingIn("production", { mailer: logMailer(recordingLogger()), reset: false, signUp: false }).logger)).toEqual([]);
  });

  test("outside production (test, development, unset), without a mailer: no warning at start", () => {
    for (const nodeEnv of ["test", "development", undefined]) expect(mailLines(mailingIn(nodeEnv).logger)).toEqual([]);
  });
});

describeEachDatabase("auth: password.reset: false", (database) => {
  test("both reset routes answer 404 ROUTE_NOT_FOUND, and nothing is mailed", async () => {
    const fresh = await database.fresh();
    const sent: string[] = [];
    const backend = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, reset: false }, mailer: { send: async (message) => void sent.push(message.to) } },
    });
    try {
      await backend.migrate();
      const email = uniqueEmail();
      await backend.auth.createUser({ email, password: PASSWORD, emailVerified: true });
      const post = (path: string, body: unknown) =>
        backend.fetch(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
      for (const [path, body] of [
        ["/auth/request-password-reset", { email }],
        ["/auth/reset-password", { token: "x".repeat(43), password: "a new long password" }],
      ] as const) {
        const response = await post(path, body);
        expect([path, response.status, ((await response.json()) as { code: string }).code]).toEqual([path, 404, "ROUTE_NOT_FOUND"]);
      }
      // The account is untouched, and its own sign-in works.
      expect((await post("/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
      expect(sent).toEqual([]);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
