/**
 * createTestBackend: a fresh, migrated in-memory backend per call; with built-in auth, a cheap
 * password hash unless the test chooses one.
 */
import { sql } from "kysely";
import { describe, expect, expectTypeOf, test } from "vitest";
import { collection, field, scryptHasher } from "cimiento";
import { createTestBackend } from "cimiento/testing";

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
