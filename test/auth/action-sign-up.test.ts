/**
 * Sign-up with verification from actions (`auth.signUp`, `auth.verifyEmail` in an action with
 * `transaction: false`), over HTTP on every database and through fetch, Express and Hono: the
 * sign-up takes no password, and the password is the one given with the mailed token.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { action, createBackend, field, usersCollection } from "cimiento";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { fastHasher, PASSWORD, recordingLogger, startMailbox, tokenIn, uniqueEmail, type Mailbox } from "./support.js";

const users = usersCollection({ fields: { username: field.text(z.string().min(1)).unique() } });

const register = action({
  input: z.object({ email: z.string(), username: z.string(), password: z.string().optional() }),
  http: { method: "POST", path: "/register", status: 202 },
  transaction: false,
  access: () => true,
  async handler({ input, auth }) {
    return { signedIn: (await auth.signUp(input)) !== null };
  },
});

const confirm = action({
  input: z.object({ token: z.string(), password: z.string().optional() }),
  http: { method: "POST", path: "/confirm" },
  transaction: false,
  access: () => true,
  async handler({ input, auth }) {
    const { user, token } = await auth.verifyEmail(input);
    return { username: (user as Record<string, unknown>)["username"], emailVerified: user.emailVerified, token };
  },
});

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
    collections: { users },
    actions: { register, confirm },
    logger: recordingLogger(),
    auth: { password: { hasher: fastHasher }, mailer: mailbox.mailer, rateLimit: { perAddress: { max: 100_000, window: "1m" } } },
  });
}
type Served = ServedBackend<ReturnType<typeof makeBackend>>;

async function post(served: Served, path: string, body: unknown) {
  const response = await served.json("POST", path, body);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describeEachServer("auth: sign-up with verification in actions", makeBackend, (served) => {
  test("auth.signUp refuses a password (422 on password) and mails nothing", async () => {
    const email = uniqueEmail();
    const answer = await post(served, "/register", { email, username: `u${Date.now()}`, password: PASSWORD });
    expect(answer).toMatchObject({ status: 422, body: { code: "VALIDATION_FAILED", issues: [{ path: ["password"], code: "unrecognized_keys" }] } });
    expect(await mailbox.nothingFor(email, 200)).toBe(true);
  });

  test("auth.signUp mails the link; auth.verifyEmail with its token and a password creates the account and signs in", async () => {
    const email = uniqueEmail();
    const username = `ada-${served.way}-${served.dialect}`;
    expect(await post(served, "/register", { email, username })).toEqual({ status: 202, body: { signedIn: false } });
    const token = tokenIn(await mailbox.next(email));
    expect(await post(served, "/confirm", { token })).toMatchObject({ status: 422, body: { issues: [{ path: ["password"], code: "invalid_type" }] } });
    const confirmed = await post(served, "/confirm", { token, password: PASSWORD });
    expect(confirmed).toMatchObject({ status: 200, body: { username, emailVerified: true } });
    expect(await served.backend.auth.verifyToken(confirmed.body["token"])).not.toBeNull();
    expect((await served.json("POST", "/auth/sign-in", { email, password: PASSWORD })).status).toBe(200);
  });
});
