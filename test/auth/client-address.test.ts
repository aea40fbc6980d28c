/**
 * auth.clientAddress: where the server gives no socket (Bun, Deno, workers), the host says
 * where a request comes from, and the per-address limit counts by it, through backend.fetch.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { createBackend, type Backend } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, recordingLogger, uniqueEmail } from "./support.js";

describeEachDatabase("auth.clientAddress", (db) => {
  let backend: Pick<Backend<{}, "sqlite" | "postgres">, "fetch" | "migrate" | "close">;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = createBackend({
      database: fresh.database,
      collections: {},
      logger: recordingLogger(),
      auth: {
        password: { hasher: fastHasher, requireEmailVerification: false },
        rateLimit: { perAddress: { max: 2, window: "1m" } },
        clientAddress: (request) => request.headers.get("x-client-ip") ?? undefined,
      },
    });
    await backend.migrate();
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  const signIn = (ip: string | null) =>
    backend.fetch(
      new Request("http://localhost/auth/sign-in", {
        method: "POST",
        headers: { "content-type": "application/json", ...(ip === null ? {} : { "x-client-ip": ip }) },
        body: JSON.stringify({ email: uniqueEmail(), password: "wrong password" }),
      }),
    );

  test("requests are counted by the address it returns; past the limit, 429 for that address only", async () => {
    expect((await signIn("192.0.2.1")).status).toBe(401);
    expect((await signIn("192.0.2.1")).status).toBe(401);
    const third = await signIn("192.0.2.1");
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await signIn("192.0.2.2")).status).toBe(401);
  });

  test("a request it has no address for is not counted by address", async () => {
    for (let i = 0; i < 4; i++) expect((await signIn(null)).status).toBe(401);
  });
});
