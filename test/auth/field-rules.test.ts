/**
 * Sign-up applies the field rules an anonymous create would, over HTTP on every database and
 * through fetch, Express and Hono, with verification off and on, and in an action that calls
 * `auth.signUp`: a field whose `write` rule denies the anonymous caller is `write_denied`, one
 * whose `read` rule denies it is unknown (`unrecognized_keys`, as for a field that does not
 * exist), a read-only one `read_only`; nothing is created nor mailed. The same write through
 * `PATCH` is refused alike. A pending sign-up's fields are checked again when its link is
 * followed.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { action, createBackend, field, usersCollection } from "cimiento";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { bearer, fastHasher, PASSWORD, recordingLogger, startMailbox, tokenIn, uniqueEmail, type Mailbox } from "./support.js";

const users = usersCollection({
  fields: {
    name: field.text(z.string().min(1).max(100)).optional(),
    // Only admins give a plan; everyone reads it.
    plan: field.enum(["free", "pro"]).default("free").access({ write: ({ user }) => user?.role === "admin" }),
    // Only admins know this field exists.
    risk: field.integer().optional().access({ read: ({ user }) => user?.role === "admin" }),
  },
});

const register = action({
  input: z.object({ email: z.string(), password: z.string().optional(), name: z.string().optional(), plan: z.enum(["free", "pro"]).optional() }),
  http: { method: "POST", path: "/register", status: 201 },
  transaction: false,
  access: () => true,
  async handler({ input, auth }) {
    const result = await auth.signUp(input);
    return { id: result?.user.id ?? null };
  },
});

let mailbox: Mailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => {
  await mailbox?.close();
});

function backendWith(requireEmailVerification: boolean) {
  return (database: Parameters<typeof createBackend>[0]["database"]) =>
    createBackend({
      database,
      collections: { users },
      actions: { register },
      logger: recordingLogger(),
      auth: {
        password: { hasher: fastHasher, requireEmailVerification },
        mailer: mailbox.mailer,
        rateLimit: { perAddress: { max: 100_000, window: "1m" } },
      },
    });
}
type Served = ServedBackend<ReturnType<ReturnType<typeof backendWith>>>;

const db = (served: Served) => served.backend.db as unknown as Kysely<any>;
const userRow = (served: Served, email: string) =>
  db(served).selectFrom("users").select(["id", "plan", "risk", "role"]).where("email", "=", email).executeTakeFirst();

async function post(served: Served, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await served.json(path.startsWith("/collections") ? "PATCH" : "POST", path, body, headers);
  return { status: response.status, body: (await response.json()) as { code?: string; issues?: unknown[]; token?: string; user?: { id: string } } };
}

const DENIED = { path: ["plan"], code: "write_denied", message: "You may not write this field" };
const UNKNOWN = { path: ["risk"], code: "unrecognized_keys", message: 'Unknown field "risk"' };
const READ_ONLY = { path: ["role"], code: "read_only", message: "This field is read-only" };

/** The issues of a 422, ordered by path, so that their order does not matter. */
function issuesOf(answer: { status: number; body: { code?: string; issues?: unknown[] } }) {
  expect(answer.status).toBe(422);
  expect(answer.body.code).toBe("VALIDATION_FAILED");
  return [...(answer.body.issues as { path: string[] }[])].sort((a, b) => a.path.join().localeCompare(b.path.join()));
}

describeEachServer("auth: sign-up applies field rules (verification off)", backendWith(false), (served) => {
  const signUp = (extra: Record<string, unknown>, path = "/auth/sign-up") => {
    const email = uniqueEmail();
    return post(served, path, { email, password: PASSWORD, ...extra }).then((answer) => ({ email, ...answer }));
  };

  test("a field whose write rule denies the anonymous caller is 422 write_denied; nothing is created", async () => {
    const answer = await signUp({ plan: "pro" });
    expect(issuesOf(answer)).toEqual([DENIED]);
    expect(await userRow(served, answer.email)).toBeUndefined();
  });

  test("a field whose read rule denies the anonymous caller is reported as unknown, like a field that does not exist", async () => {
    const hidden = await signUp({ risk: 0 });
    const missing = await signUp({ nonsense: 0 });
    expect(issuesOf(hidden)).toEqual([UNKNOWN]);
    expect(issuesOf(missing)).toEqual([{ ...UNKNOWN, path: ["nonsense"], message: 'Unknown field "nonsense"' }]);
    expect(await userRow(served, hidden.email)).toBeUndefined();
  });

  test("every refused field is reported at once, with the schema's issues", async () => {
    const answer = await signUp({ plan: "pro", risk: 9, role: "admin", name: "" });
    expect(issuesOf(answer)).toEqual([
      expect.objectContaining({ path: ["name"], code: "too_small" }),
      DENIED,
      UNKNOWN,
      READ_ONLY,
    ]);
    expect(await userRow(served, answer.email)).toBeUndefined();
  });

  test("the same fields through PATCH of one's own record are refused alike", async () => {
    const created = await signUp({ name: "Ada" });
    expect(created.status).toBe(201);
    const id = created.body.user!.id;
    const patch = await post(served, `/collections/users/records/${id}`, { plan: "pro", risk: 9, role: "admin" }, bearer(created.body.token!));
    expect(issuesOf(patch)).toEqual([DENIED, UNKNOWN, READ_ONLY]);
    expect(await userRow(served, created.email)).toMatchObject({ plan: "free", role: "user", risk: null });
  });

  test("without the refused fields, sign-up creates the account with the defaults (201)", async () => {
    const answer = await signUp({ name: "Ada" });
    expect(answer.status).toBe(201);
    expect(await userRow(served, answer.email)).toMatchObject({ plan: "free", role: "user" });
  });

  test("an action's auth.signUp applies them too", async () => {
    const refused = await signUp({ plan: "pro" }, "/register");
    expect(issuesOf(refused)).toEqual([DENIED]);
    expect(await userRow(served, refused.email)).toBeUndefined();
    // The rule is the field's, whatever the value.
    const free = await signUp({ plan: "free" }, "/register");
    expect(issuesOf(free)).toEqual([DENIED]);
    const plain = await signUp({ name: "Ada" }, "/register");
    expect(plain.status).toBe(201);
  });

  test("the system scope may still give a plan", async () => {
    const email = uniqueEmail();
    const user = await served.backend.auth.createUser({ email, password: PASSWORD, plan: "pro", risk: 3 });
    expect(user).toMatchObject({ plan: "pro", risk: 3 });
  });
});

describeEachServer("auth: sign-up applies field rules (verification on)", backendWith(true), (served) => {
  test("a field the anonymous caller may not write or read is refused (422) before anything is mailed", async () => {
    const email = uniqueEmail();
    const answer = await post(served, "/auth/sign-up", { email, plan: "pro", risk: 1, role: "admin" });
    expect(issuesOf(answer)).toEqual([DENIED, UNKNOWN, READ_ONLY]);
    expect(await mailbox.nothingFor(email, 200)).toBe(true);
  });

  test("an action's auth.signUp refuses them too, and mails nothing", async () => {
    const email = uniqueEmail();
    const answer = await post(served, "/register", { email, plan: "pro" });
    expect(issuesOf(answer)).toEqual([DENIED]);
    expect(await mailbox.nothingFor(email, 200)).toBe(true);
  });

  test("fields that pass ride in the token and are written when the link is followed", async () => {
    const email = uniqueEmail();
    expect((await post(served, "/auth/sign-up", { email, name: "Ada" })).status).toBe(202);
    const token = tokenIn(await mailbox.next(email));
    const verified = await post(served, "/auth/verify-email", { token, password: PASSWORD });
    expect(verified.status).toBe(200);
    expect(verified.body.user).toMatchObject({ name: "Ada", plan: "free" });
  });

  test("a pending sign-up's token carrying a field sign-up refuses (made before the rule) is refused when followed; nothing is created", async () => {
    const email = uniqueEmail();
    expect((await post(served, "/auth/sign-up", { email, name: "Ada" })).status).toBe(202);
    const token = tokenIn(await mailbox.next(email));
    await db(served)
      .updateTable("cimiento_tokens")
      .set({ payload: JSON.stringify({ fields: { name: "Ada", plan: "pro" } }) })
      .where("email", "=", email)
      .execute();
    const answer = await post(served, "/auth/verify-email", { token, password: PASSWORD });
    expect(issuesOf(answer)).toEqual([DENIED]);
    expect(await userRow(served, email)).toBeUndefined();
  });
});
