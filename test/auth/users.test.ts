/**
 * The built-in `users` collection over HTTP, on every database and through fetch, Express and
 * Hono: `role`, `emailVerified` and `email` cannot be set by sign-up nor by
 * `PATCH /collections/users/records/:id`; the host's own fields can; a caller sees and changes
 * only its own record.
 */
import type { Kysely } from "kysely";
import { expect, test } from "vitest";
import { z } from "zod";
import { createBackend, field, usersCollection } from "cimiento";
import { describeEachServer, type ServedBackend } from "../http/support.js";
import { bearer, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

const users = usersCollection({ fields: { name: field.text(z.string().min(1).max(100)).optional() } });

function makeBackend(database: Parameters<typeof createBackend>[0]["database"]) {
  return createBackend({
    database,
    collections: { users },
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      rateLimit: { perAddress: { max: 100_000, window: "1m" } },
    },
  });
}
type Served = ServedBackend<ReturnType<typeof makeBackend>>;

const db = (served: Served) => served.backend.db as unknown as Kysely<any>;

async function stored(served: Served, email: string) {
  return db(served).selectFrom("users").select(["id", "email", "role", "emailVerified", "name"]).where("email", "=", email).executeTakeFirst();
}

async function signUp(served: Served, extra: Record<string, unknown> = {}) {
  const email = uniqueEmail();
  const response = await served.json("POST", "/auth/sign-up", { email, password: PASSWORD, ...extra });
  return { email, response, body: (await response.json()) as { user: Record<string, unknown>; token: string; code?: string; issues?: { path: string[]; code: string }[] } };
}

describeEachServer("auth: users fields", makeBackend, (served) => {
  for (const [name, value] of [
    ["role", "admin"],
    ["emailVerified", true],
  ] as const) {
    test(`sign-up with ${name} is refused (422 naming it) and creates nothing`, async () => {
      const { email, response, body } = await signUp(served, { [name]: value });
      expect(response.status).toBe(422);
      expect(body.code).toBe("VALIDATION_FAILED");
      expect(body.issues).toContainEqual(expect.objectContaining({ path: [name], code: "read_only" }));
      expect(await stored(served, email)).toBeUndefined();
    });
  }

  test("sign-up with an unknown or system field (id, createdAt, passwordHash) is refused", async () => {
    for (const name of ["id", "createdAt", "passwordHash", "isAdmin"]) {
      const { email, response } = await signUp(served, { [name]: name === "id" ? "0190aaaa-0000-7000-8000-000000000000" : "x" });
      expect([name, response.status]).toEqual([name, 422]);
      expect(await stored(served, email)).toBeUndefined();
    }
  });

  test("sign-up keeps the host's own fields, and the base fields get their defaults", async () => {
    const { email, response, body } = await signUp(served, { name: "Ada" });
    expect(response.status).toBe(201);
    expect(body.user).toMatchObject({ email, name: "Ada", role: "user", emailVerified: false });
    expect(await stored(served, email)).toMatchObject({ role: "user", name: "Ada" });
  });

  test("PATCH of one's own record cannot change role, emailVerified or email; it can change the host's fields", async () => {
    const { email, body } = await signUp(served, { name: "Before" });
    const id = body.user["id"] as string;
    for (const change of [{ role: "admin" }, { emailVerified: true }, { email: uniqueEmail("other") }, { role: "admin", name: "Sneaky" }]) {
      const response = await served.json("PATCH", `/collections/users/records/${id}`, change, bearer(body.token));
      expect([JSON.stringify(change), response.status]).toEqual([JSON.stringify(change), 422]);
      expect(await response.json()).toMatchObject({ code: "VALIDATION_FAILED" });
    }
    const row = await stored(served, email);
    expect(row).toMatchObject({ email, role: "user", name: "Before" });
    expect([true, 1]).not.toContain(row!.emailVerified);

    const renamed = await served.json("PATCH", `/collections/users/records/${id}`, { name: "After" }, bearer(body.token));
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "After", role: "user" });
    // The session's principal still has role "user".
    const session = (await (await served.request("/auth/session", { headers: bearer(body.token) })).json()) as { user: { role: string } };
    expect(session.user.role).toBe("user");
  });

  test("a user neither sees nor changes another user's record (404), nor lists it", async () => {
    const alice = await signUp(served);
    const bob = await signUp(served);
    const bobId = bob.body.user["id"] as string;
    const patch = await served.json("PATCH", `/collections/users/records/${bobId}`, { name: "pwned" }, bearer(alice.body.token));
    expect(patch.status).toBe(404);
    const get = await served.request(`/collections/users/records/${bobId}`, { headers: bearer(alice.body.token) });
    expect(get.status).toBe(404);
    const list = (await (await served.request("/collections/users/records", { headers: bearer(alice.body.token) })).json()) as { items: { id: string }[] };
    expect(list.items.map((user) => user.id)).toEqual([alice.body.user["id"]]);
    const create = await served.json("POST", "/collections/users/records", { email: uniqueEmail(), role: "admin" }, bearer(alice.body.token));
    expect(create.status).toBeGreaterThanOrEqual(400);
    const anonymous = await served.request("/collections/users/records");
    expect(anonymous.status).toBe(401);
  });

  test("the system scope (backend.auth.createUser) may set role and emailVerified; rules then see the role", async () => {
    const email = uniqueEmail("admin");
    const admin = await served.backend.auth.createUser({ email, password: PASSWORD, role: "admin", emailVerified: true });
    expect(admin).toMatchObject({ email, role: "admin", emailVerified: true });
    const signIn = await served.json("POST", "/auth/sign-in", { email, password: PASSWORD });
    expect(signIn.status).toBe(200);
    expect(await signIn.json()).toMatchObject({ user: { role: "admin" } });
  });

  test("sign-up with a taken address (any case, spaces) is 409 EMAIL_TAKEN (verification off)", async () => {
    const { email } = await signUp(served);
    const again = await served.json("POST", "/auth/sign-up", { email: ` ${email.toUpperCase()} `, password: PASSWORD });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "EMAIL_TAKEN" });
  });

  test("sign-up validates the address and the password length (422)", async () => {
    for (const body of [{ email: "not-an-address", password: PASSWORD }, { email: uniqueEmail(), password: "short" }, { email: uniqueEmail() }]) {
      const response = await served.json("POST", "/auth/sign-up", body);
      expect([JSON.stringify(body), response.status]).toEqual([JSON.stringify(body), 422]);
    }
  });
});
