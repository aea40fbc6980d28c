/**
 * createTestBackend: a fresh, migrated in-memory backend per call, or on PostgreSQL a fresh
 * schema per call that is dropped when the backend closes; with built-in auth, a cheap password
 * hash unless the test chooses one.
 */
import { sql, type Kysely } from "kysely";
import { describe, expect, expectTypeOf, inject, test } from "vitest";
import { collection, field, scryptHasher } from "cimiento";
import { createTestBackend, testPostgres } from "cimiento/testing";

const posts = collection("posts", { fields: { title: field.text() } });


describe("createTestBackend", () => {
  test("each call is a migrated, empty database of its own", async () => {
    const first = await createTestBackend({ collections: { posts } });
    const second = await createTestBackend({ collections: { posts } });
    try {
      await first.system.data.posts.create({ title: "only in the first" });
      expect(await first.system.data.posts.count()).toBe(1);
      expect(await second.system.data.posts.count()).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("with built-in auth: a typed users collection, accounts that sign in, hashed at logN 10", async () => {
    const backend = await createTestBackend({ collections: { posts }, auth: { password: {} } });
    try {
      const ada = await backend.auth.createUser({ email: "Ada@Example.com", password: "a test password", emailVerified: true });
      expect(ada.email).toBe("ada@example.com");
      const users = await backend.system.data.users.list();
      expectTypeOf(users.items[0]!.email).toEqualTypeOf<string>();
      expect(users.items.map((user) => user.id)).toEqual([ada.id]);
      const { rows } = await sql<{ passwordHash: string }>`select "passwordHash" from cimiento_credentials`.execute(backend.db);
      expect(rows[0]!.passwordHash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
      const signedIn = await backend.auth.signIn("ada@example.com", "a test password");
      expect(signedIn.user.id).toBe(ada.id);
    } finally {
      await backend.close();
    }
  });

  test("a hasher the test gives is kept", async () => {
    const backend = await createTestBackend({ collections: { posts }, auth: { password: { hasher: scryptHasher({ logN: 11 }) } } });
    try {
      await backend.auth.createUser({ email: "ada@example.com", password: "a test password" });
      const { rows } = await sql<{ passwordHash: string }>`select "passwordHash" from cimiento_credentials`.execute(backend.db);
      expect(rows[0]!.passwordHash).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$/);
    } finally {
      await backend.close();
    }
  });
});

const postgresUrl = inject("postgresUrl");

async function schemaExists(db: Kysely<any>, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: number }>`select count(*)::int as found from pg_namespace where nspname = ${name}`.execute(db);
  return rows[0]!.found === 1;
}

async function currentSchema(db: Kysely<any>): Promise<string> {
  return (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
}

(postgresUrl === null ? describe.skip : describe)("createTestBackend on PostgreSQL, with testPostgres (skipped without CIMIENTO_TEST_POSTGRES_URL)", () => {
  const url = postgresUrl ?? "postgres://unset";

  test("each call is a migrated, empty schema of its own, dropped when its backend closes", async () => {
    const first = await createTestBackend({ collections: { posts }, database: await testPostgres({ connectionString: url }) });
    const second = await createTestBackend({ collections: { posts }, database: await testPostgres({ connectionString: url }) });
    expectTypeOf(first.dialect).toEqualTypeOf<"postgres">();
    expect(first.dialect).toBe("postgres");
    const names = [await currentSchema(first.db), await currentSchema(second.db)];
    try {
      expect(names[0]).toMatch(/^cimiento_test_[0-9a-f]{32}$/);
      expect(names[1]).not.toBe(names[0]);
      await first.system.data.posts.create({ title: "only in the first" });
      expect(await first.system.data.posts.count()).toBe(1);
      expect(await second.system.data.posts.count()).toBe(0);
    } finally {
      await first.close();
    }
    try {
      expect(await schemaExists(second.db, names[0]!)).toBe(false);
      expect(await schemaExists(second.db, names[1]!)).toBe(true);
    } finally {
      await second.close();
    }
    const observer = await createTestBackend({ collections: { posts }, database: await testPostgres({ connectionString: url }) });
    try {
      expect(await schemaExists(observer.db, names[1]!)).toBe(false);
    } finally {
      await observer.close();
    }
  });

  test("a backend whose migration fails is closed, and its schema dropped", async () => {
    let made: string | undefined;
    const failing = createTestBackend({
      collections: { posts },
      database: await testPostgres({ connectionString: url }),
      migrations: {
        "0001-broken": {
          up: async (db) => {
            made = await currentSchema(db);
            throw new Error("broken migration");
          },
        },
      },
    });
    await expect(failing).rejects.toThrow("broken migration");
    expect(made).toMatch(/^cimiento_test_/);
    const observer = await createTestBackend({ collections: { posts }, database: await testPostgres({ connectionString: url }) });
    try {
      expect(await schemaExists(observer.db, made!)).toBe(false);
    } finally {
      await observer.close();
    }
  });

  test("one testPostgres schema is for one backend; a connection string is required", async () => {
    const database = await testPostgres({ connectionString: url });
    const backend = await createTestBackend({ collections: { posts }, database });
    try {
      await expect(createTestBackend({ collections: { posts }, database })).rejects.toThrow(
        "testPostgres(): its schema is for one backend; call testPostgres() again for another.",
      );
    } finally {
      await backend.close();
    }
    await expect(testPostgres({ connectionString: "" })).rejects.toThrow(/testPostgres\(\{ connectionString \}\) needs the URL of a database/);
  });
});
