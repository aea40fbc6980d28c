/**
 * Answers for a signed-in caller are that caller's: `Cache-Control: private, no-store`, so no
 * cache keeps them; anonymous answers are left to the host's caching.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, fastHasher, PASSWORD, recordingLogger } from "./support.js";

const notes = collection("notes", { fields: { body: field.text() }, access: { list: () => true } });

describeEachDatabase("caching of answers", (db) => {
  const make = (database: Parameters<typeof createBackend>[0]["database"]) =>
    createBackend({ database, collections: { notes }, logger: recordingLogger(), auth: { password: { hasher: fastHasher } } });
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = make(fresh.database);
    await backend.migrate();
    const ada = await backend.auth.createUser({ email: "ada@example.com", password: PASSWORD, emailVerified: true });
    token = (await backend.auth.createSession(ada.id)).token;
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  test("a signed-in caller's list, record and error are private, no-store", async () => {
    for (const path of ["/collections/notes/records", "/collections/users/records", "/collections/notes/records/missing"]) {
      const response = await backend.fetch(new Request(`http://localhost${path}`, { headers: bearer(token) }));
      expect(response.headers.get("cache-control"), path).toBe("private, no-store");
    }
  });

  test("an anonymous caller's list carries no Cache-Control", async () => {
    const response = await backend.fetch(new Request("http://localhost/collections/notes/records"));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBeNull();
  });
});
