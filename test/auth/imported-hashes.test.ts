/**
 * Importing users with the password hashes of another system, on every database: each format
 * (bcrypt $2a$/$2b$/$2y$, argon2id and argon2i, scrypt in PHC form, libsodium's $7$ and
 * Django's scrypt$) is taken by `createUser({ passwordHash })`, signs in with its password and
 * not with another, and is replaced at the first sign-in by the backend's hasher, in the
 * transaction that opens the session; a wrong password gets the answer any wrong password
 * gets; a hash of another kind, malformed, or too costly is a 422 naming `passwordHash`, and
 * only the system scope can give one.
 * Fixtures are made by the libraries themselves (bcryptjs, @node-rs/argon2, node:crypto) or are
 * published vectors of the systems they come from (passlib, libsodium, Django).
 */
import { randomBytes, scryptSync } from "node:crypto";
import { hash as argon2Hash } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ApiError, createBackend } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, fastHasher, recordingLogger, uniqueEmail } from "./support.js";

const PASSWORD = "correct horse";

/** One hash per format, and the password it was made from. */
async function fixtures(): Promise<{ name: string; password: string; hash: string }[]> {
  const bcryptHash = bcrypt.hashSync(PASSWORD, 4); // $2b$04$...
  const salt = randomBytes(16);
  const key = scryptSync(PASSWORD, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
  return [
    { name: "bcrypt $2b$", password: PASSWORD, hash: bcryptHash },
    { name: "bcrypt $2a$", password: PASSWORD, hash: bcryptHash.replace(/^\$2b\$/, "$2a$") },
    { name: "bcrypt $2y$ (PHP)", password: PASSWORD, hash: bcryptHash.replace(/^\$2b\$/, "$2y$") },
    { name: "argon2id", password: PASSWORD, hash: await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1 }) },
    { name: "argon2i", password: PASSWORD, hash: await argon2Hash(PASSWORD, { memoryCost: 1024, timeCost: 2, parallelism: 1, algorithm: 1 }) },
    // passlib's documented example: scrypt.using(rounds=8).hash("password").
    { name: "scrypt, PHC (passlib)", password: "password", hash: "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ" },
    {
      name: "scrypt, PHC in URL-safe base64",
      password: PASSWORD,
      hash: `$scrypt$ln=10,r=8,p=1$${salt.toString("base64url")}$${key.toString("base64url")}`,
    },
    // libsodium's test vector of crypto_pwhash_scryptsalsa208sha256_str_verify.
    { name: "scrypt, libsodium $7$", password: "Y0!?iQa9M%5ekffW(`", hash: "$7$A6....1....TrXs5Zk6s8sWHpQgWDIXTR8kUU3s6Jc3s.DtdS8M2i4$a4ik5hGDN7foMuHOW.cp.CtX01UyCeO0.JAG.AHPpx5" },
    // Django's test vector of ScryptPasswordHasher (a password that is not ASCII).
    {
      name: "scrypt, Django",
      password: "lètmein",
      hash: "scrypt$16384$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==",
    },
  ];
}

/** Hashes that are no importable hash, or ask too much of a sign-in, and what the issue says. */
const REFUSED: readonly [string, string, RegExp][] = [
  ["plain text", "hunter2", /Not a password hash cimiento can import/],
  ["MD5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", /Not a password hash cimiento can import/],
  ["bcrypt $2x$", `$2x$10$${"a".repeat(53)}`, /Not a bcrypt hash/],
  ["bcrypt, cut short", "$2b$10$N9qo8uLOickgx2ZMRZoMye", /Not a bcrypt hash/],
  ["bcrypt cost 15", `$2b$15$${"a".repeat(53)}`, /bcrypt cost 15 is above 14/],
  ["bcrypt cost 31", `$2b$31$${"a".repeat(53)}`, /bcrypt cost 31 is above 14/],
  ["argon2d", "$argon2d$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", /Not an argon2id or argon2i hash/],
  ["argon2id of version 16", "$argon2id$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", /Not an argon2id or argon2i hash/],
  ["argon2id with 1 GiB", "$argon2id$v=19$m=1048576,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", /m at most 262144/],
  ["argon2id with 256 MiB × 4 passes", "$argon2id$v=19$m=262144,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", /m × t at most 786432/],
  ["scrypt N = 2^20", "$scrypt$ln=20,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ", /128 × N × r × p at most 256 MiB/],
  ["scrypt, p = 1000", "$scrypt$ln=14,r=8,p=1000$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ", /128 × N × r × p at most 256 MiB/],
  ["scrypt, mixed base64 alphabets", "$scrypt$ln=8,r=8,p=1$WKs1xljL-dd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ", /not base64/],
  ["libsodium scrypt with N = 2^18, p = 3", "$7$G6....1....TrXs5Zk6s8sWHpQgWDIXTR8kUU3s6Jc3s.DtdS8M2i4$a4ik5hGDN7foMuHOW.cp.CtX01UyCeO0.JAG.AHPpx5", /128 × N × r × p/],
  ["Django scrypt, N not a power of two", "scrypt$10000$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==", /N a power of two/],
  ["Firebase's modified scrypt", "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", /Not a password hash cimiento can import/],
];

describeEachDatabase("auth: importing users with their password hashes", (database) => {
  let backend: ReturnType<typeof makeBackend>;
  let drop: () => Promise<void>;
  let formats: Awaited<ReturnType<typeof fixtures>>;

  function makeBackend(adapter: Parameters<typeof createBackend>[0]["database"]) {
    return createBackend({
      database: adapter,
      collections: {},
      logger: recordingLogger(),
      auth: {
        password: { hasher: fastHasher, requireEmailVerification: false },
        rateLimit: { perAddress: { max: 100_000, window: "1m" } },
      },
    });
  }

  beforeAll(async () => {
    const fresh = await database.fresh();
    drop = fresh.drop;
    backend = makeBackend(fresh.database);
    await backend.migrate();
    formats = await fixtures();
  });
  afterAll(async () => {
    await backend?.close();
    await drop?.();
  });

  const db = () => backend.db as unknown as Kysely<any>;
  const storedHash = async (email: string) =>
    (
      await db()
        .selectFrom("cimiento_credentials")
        .innerJoin("users", "users.id", "cimiento_credentials.user")
        .select("cimiento_credentials.passwordHash as hash")
        .where("users.email", "=", email)
        .executeTakeFirst()
    )?.hash as string | undefined;
  const signIn = (email: string, password: string) =>
    backend.fetch(new Request("http://localhost/auth/sign-in", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) }));
  /** An answer without what differs on every request. */
  const answer = async (response: Response) => {
    const body = (await response.json()) as Record<string, unknown>;
    delete body["requestId"];
    delete body["instance"];
    return { status: response.status, body };
  };

  test("each format signs in with its password (not with another), and is then replaced by the backend's hasher", async () => {
    for (const { name, password, hash } of formats) {
      const email = uniqueEmail("imported");
      await backend.auth.createUser({ email, passwordHash: hash });
      expect([name, await storedHash(email)]).toEqual([name, `imported:${hash}`]);

      const wrong = await signIn(email, `${password}!`);
      expect([name, wrong.status]).toEqual([name, 401]);
      expect([name, await storedHash(email)]).toEqual([name, `imported:${hash}`]);

      const first = await signIn(email, password);
      expect([name, first.status]).toEqual([name, 200]);
      const replaced = await storedHash(email);
      expect([name, replaced]).toEqual([name, expect.stringMatching(/^\$scrypt\$ln=10,r=8,p=1\$/)]);
      expect(await fastHasher.verify(replaced!, password)).toBe(true);

      // Now the backend's own hash: signing in again works, with the same password only.
      const again = await signIn(email, password);
      expect([name, again.status]).toEqual([name, 200]);
      expect((await signIn(email, `${password}!`)).status).toBe(401);
      expect(await storedHash(email)).toBe(replaced);
      const { token } = (await first.json()) as { token: string };
      expect(await backend.auth.verifyToken(token)).toMatchObject({ user: { email } });
    }
  }, 30_000);

  test("a wrong password against an imported hash gets the answer of an unknown address and of any wrong password", async () => {
    const imported = uniqueEmail("imported");
    await backend.auth.createUser({ email: imported, passwordHash: formats[0]!.hash });
    const native = uniqueEmail("native");
    await backend.auth.createUser({ email: native, password: "a long native password" });
    const forImported = await answer(await signIn(imported, "not the password"));
    expect(forImported).toEqual(await answer(await signIn(native, "not the password")));
    expect(forImported).toEqual(await answer(await signIn(uniqueEmail("nobody"), "not the password")));
    expect(forImported).toMatchObject({ status: 401, body: { code: "INVALID_CREDENTIALS" } });
  });

  test("the replacement is written in the transaction that opens the session: a session that cannot be stored leaves the imported hash", async () => {
    const email = uniqueEmail("imported");
    const hash = formats[0]!.hash;
    await backend.auth.createUser({ email, passwordHash: hash });
    // The database itself refuses sessions for a while.
    if (database.dialect === "sqlite") {
      await sql`create trigger no_sessions before insert on cimiento_sessions begin select raise(abort, 'no sessions'); end`.execute(db());
    } else {
      await sql`create function no_sessions() returns trigger language plpgsql as $$ begin raise exception 'no sessions'; end $$`.execute(db());
      await sql`create trigger no_sessions before insert on cimiento_sessions for each row execute function no_sessions()`.execute(db());
    }
    try {
      const refused = await signIn(email, PASSWORD);
      expect(refused.status).toBe(500);
      expect(await storedHash(email)).toBe(`imported:${hash}`);
    } finally {
      await sql`drop trigger no_sessions${sql.raw(database.dialect === "postgres" ? " on cimiento_sessions" : "")}`.execute(db());
      if (database.dialect === "postgres") await sql`drop function no_sessions()`.execute(db());
    }
    expect((await signIn(email, PASSWORD)).status).toBe(200);
    expect(await storedHash(email)).toMatch(/^\$scrypt\$/);
  });

  test("change-password checks the current password against an imported hash", async () => {
    const email = uniqueEmail("imported");
    const user = await backend.auth.createUser({ email, passwordHash: formats[3]!.hash }); // argon2id
    const { token } = await backend.auth.createSession(user.id);
    const change = (currentPassword: string) =>
      backend.fetch(
        new Request("http://localhost/auth/change-password", {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(token) },
          body: JSON.stringify({ currentPassword, newPassword: "a brand new password" }),
        }),
      );
    expect((await change("not the password")).status).toBe(401);
    expect((await change(PASSWORD)).status).toBe(204);
    expect(await storedHash(email)).toMatch(/^\$scrypt\$ln=10,/);
    expect((await signIn(email, "a brand new password")).status).toBe(200);
  });

  for (const [name, hash, message] of REFUSED) {
    test(`createUser refuses ${name}: 422 naming passwordHash, and creates nothing`, async () => {
      const email = uniqueEmail("refused");
      const error = await backend.auth.createUser({ email, passwordHash: hash }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 422, code: "VALIDATION_FAILED" });
      const issues = (error as ApiError).details!["issues"] as { path: string[]; message: string }[];
      expect(issues).toEqual([expect.objectContaining({ path: ["passwordHash"], message: expect.stringMatching(message) })]);
      // The hash is not repeated in the error (nor in an answer built from it).
      expect(JSON.stringify({ ...(error as ApiError), message: (error as Error).message })).not.toContain(hash);
      expect(await db().selectFrom("users").select("id").where("email", "=", email).executeTakeFirst()).toBeUndefined();
    });
  }

  test("createUser refuses a password and a passwordHash together, and a passwordHash that is not a string", async () => {
    for (const input of [
      { email: uniqueEmail(), password: "a long enough password", passwordHash: formats[0]!.hash },
      { email: uniqueEmail(), passwordHash: 42 },
    ]) {
      const error = await backend.auth.createUser(input as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 422, details: { issues: [expect.objectContaining({ path: ["passwordHash"] })] } });
      expect(await db().selectFrom("users").select("id").where("email", "=", input.email).executeTakeFirst()).toBeUndefined();
    }
  });

  test("only the system gives a hash: sign-up and a user's own update refuse passwordHash as an unknown field", async () => {
    const email = uniqueEmail("signup");
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      backend.fetch(new Request(`http://localhost${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));
    const signUp = await post("/auth/sign-up", { email, password: "a long enough password", passwordHash: formats[0]!.hash });
    expect(signUp.status).toBe(422);
    expect(await signUp.json()).toMatchObject({ issues: [{ path: ["passwordHash"], code: "unrecognized_keys" }] });
    expect(await storedHash(email)).toBeUndefined();

    const user = await backend.auth.createUser({ email, password: "a long enough password" });
    const { token } = await backend.auth.createSession(user.id);
    const patch = await backend.fetch(
      new Request(`http://localhost/collections/users/records/${user.id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify({ passwordHash: formats[0]!.hash }),
      }),
    );
    expect(patch.status).toBe(422);
    expect(await storedHash(email)).toMatch(/^\$scrypt\$/);
  });
});
