/**
 * Actions with `transaction: false`, and built-in auth inside them (`auth`): sign-up, sign-in
 * with its rate limits (counters that survive the action's failure), the call's own token, and
 * the refusal of `auth` inside a transaction. Over HTTP through `backend.fetch`, on every database.
 */
import { afterAll, beforeAll, expect, expectTypeOf, test } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, usersCollection, type ActionAuth } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, PASSWORD } from "../auth/support.js";

const users = usersCollection({ fields: { username: field.text(z.string().min(1)).unique() } });
const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true } });

const register = action({
  input: z.object({ email: z.string(), password: z.string(), username: z.string() }),
  http: { method: "POST", path: "/register", status: 201 },
  transaction: false,
  access: () => true,
  async handler({ input, auth }) {
    const result = await auth.signUp(input);
    return { username: (result?.user as Record<string, unknown> | undefined)?.["username"], token: result?.token };
  },
});

const login = action({
  input: z.object({ email: z.string(), password: z.string() }),
  http: { method: "POST", path: "/login" },
  transaction: false,
  access: () => true,
  async handler({ input, auth }) {
    const { user, token } = await auth.signIn(input.email, input.password);
    return { id: user.id, token };
  },
});

const whoami = action({
  input: z.object({}),
  http: { method: "GET", path: "/whoami" },
  transaction: false,
  access: ({ user }) => user !== null,
  handler: ({ user, auth }) => ({ id: user!.id, token: auth.token }),
});

// Each write commits on its own: the first note stays when the handler throws after it.
const halfDone = action({
  input: z.object({ text: z.string() }),
  transaction: false,
  handler: async ({ input, system }) => {
    await system.data.notes.create({ text: input.text });
    throw new ApiError(409, "STOPPED", "Stopped after the first write");
  },
});

const wholeOrNothing = action({
  input: z.object({ text: z.string() }),
  handler: async ({ input, system }) => {
    await system.data.notes.create({ text: input.text });
    throw new ApiError(409, "STOPPED", "Stopped after the first write");
  },
});

const authInTransaction = action({
  input: z.object({}),
  access: () => true,
  handler: async ({ auth, user }) => auth.revokeSessions(user!.id),
});

const tokenInTransaction = action({
  input: z.object({}),
  access: () => true,
  handler: ({ auth }) => ({ token: auth.token }),
});

describeEachDatabase("actions without a transaction, and auth in them", (db) => {
  let backend: ReturnType<typeof open>;
  let drop: () => Promise<void>;
  const logged: unknown[] = [];

  function open(database: Awaited<ReturnType<typeof db.fresh>>["database"]) {
    return createBackend({
      database,
      collections: { users, notes },
      actions: { register, login, whoami, halfDone, wholeOrNothing, authInTransaction, tokenInTransaction },
      auth: { password: { requireEmailVerification: false, hasher: fastHasher }, sessions: { schemes: ["Token"] } },
      logger: { error: (_message, details) => logged.push(details) },
    });
  }

  const post = (path: string, body: unknown, token?: string) =>
    backend.fetch(
      new Request(`http://localhost${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Token ${token}` } : {}) },
        body: JSON.stringify(body),
      }),
    );

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = open(fresh.database);
    await backend.migrate();
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  test("without a transaction, each write commits on its own; with one, a throw undoes it", async () => {
    await expect(backend.system.actions.halfDone({ text: "kept" })).rejects.toMatchObject({ code: "STOPPED" });
    await expect(backend.system.actions.wholeOrNothing({ text: "undone" })).rejects.toMatchObject({ code: "STOPPED" });
    const texts = (await backend.system.data.notes.list()).items.map((note) => note.text);
    expect(texts).toEqual(["kept"]);
  });

  test("sign-up in an action creates the account and a session whose token signs requests in", async () => {
    const response = await post("/register", { email: "Ada@Example.com", password: PASSWORD, username: "ada" });
    expect(response.status).toBe(201);
    const { username, token } = (await response.json()) as { username: string; token: string };
    expect(username).toBe("ada");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await backend.fetch(new Request("http://localhost/whoami", { headers: { authorization: `Token ${token}` } }));
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ id: (await backend.auth.verifyToken(token))!.user.id, token });
  });

  test("sign-up refuses a taken address (409 EMAIL_TAKEN) and a taken unique field (409 UNIQUE_VIOLATION)", async () => {
    const address = await post("/register", { email: "ada@example.com", password: PASSWORD, username: "other" });
    expect(address.status).toBe(409);
    expect(await address.json()).toMatchObject({ code: "EMAIL_TAKEN" });
    const name = await post("/register", { email: "someone@example.com", password: PASSWORD, username: "ada" });
    expect(name.status).toBe(409);
    expect(await name.json()).toMatchObject({ code: "UNIQUE_VIOLATION", fields: ["username"] });
  });

  test("sign-in in an action: 401 on a wrong password, and the failures count although the action failed", async () => {
    await backend.auth.createUser({ email: "bob@example.com", password: PASSWORD, username: "bob" });
    for (let i = 0; i < 5; i++) {
      const wrong = await post("/login", { email: "bob@example.com", password: "not the password" });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ code: "INVALID_CREDENTIALS" });
    }
    const locked = await post("/login", { email: "bob@example.com", password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).not.toBeNull();
  });

  test("sign-in in an action returns a working token", async () => {
    const response = await post("/login", { email: "ada@example.com", password: PASSWORD });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    expect(((await backend.auth.verifyToken(token))?.user as Record<string, unknown> | undefined)?.["username"]).toBe("ada");
  });

  test("auth.token is the call's token over HTTP, and null in-process", async () => {
    const ada = (await backend.system.data.users.list({ where: { username: "ada" } })).items[0]!;
    expect(await backend.as(ada).actions.whoami({})).toEqual({ id: ada.id, token: null });
  });

  test("auth's methods inside a transaction are refused with a clear error (a 500 over HTTP that shows nothing)", async () => {
    const ada = (await backend.system.data.users.list({ where: { username: "ada" } })).items[0]!;
    await expect(backend.as(ada).actions.authInTransaction({})).rejects.toThrow(/inside a transaction: give it transaction: false/);
    const { token } = await backend.auth.createSession(ada.id);
    const response = await post("/actions/authInTransaction", {}, token);
    expect(response.status).toBe(500);
    expect(JSON.stringify(await response.json())).not.toContain("transaction");
    expect(await backend.auth.verifyToken(token)).not.toBeNull();
    // The call's token is no statement: every action reads it.
    const own = await post("/actions/tokenInTransaction", {}, token);
    expect(await own.json()).toEqual({ token });
  });

  test("types: auth is typed by the registered users collection", () => {
    expectTypeOf<Parameters<ActionAuth["signIn"]>[0]>().toEqualTypeOf<string>();
    type Users = typeof users;
    expectTypeOf<Awaited<ReturnType<ActionAuth<Users>["signIn"]>>["user"]["username"]>().toEqualTypeOf<string>();
    expectTypeOf<Parameters<ActionAuth<Users>["signUp"]>[0]>().toMatchTypeOf<{ email: string; password?: string; username: string }>();
    expectTypeOf<ActionAuth["token"]>().toEqualTypeOf<string | null>();
  });
});

test("without built-in auth, reading auth in an action says so", async () => {
  const backend = createBackend({ database: undefined, collections: { notes }, actions: { login } });
  try {
    await backend.migrate();
    await expect(backend.system.actions.login({ email: "a@example.com", password: "x" })).rejects.toThrow(/no built-in auth/);
  } finally {
    await backend.close();
  }
});
