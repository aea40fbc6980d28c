/**
 * The client address the per-address limit counts by. Behind a trusted proxy, over real
 * Express and Hono servers (every socket is 127.0.0.1, named as the proxy): the proxy's hop is
 * read with its port (`ip:port`, `[ipv6]:port`), a hop that is no address makes the proxy the
 * client, IPv6 clients count by their /64 (or alone with `ipv6Prefix: 128`), and an
 * IPv4-mapped IPv6 address counts as the IPv4 address. Without a socket (Bun, Deno, workers),
 * `auth.clientAddress` says where a request comes from, through `backend.fetch`.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend, type Backend, type DatabaseAdapter } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { MOUNT, startExpress, startHono, type Listening } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

type Database = DatabaseAdapter<"sqlite" | "postgres">;

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

  test("IPv6 addresses it returns count by their /64", async () => {
    expect((await signIn("2001:db8:9:9::1")).status).toBe(401);
    expect((await signIn("2001:db8:9:9:abcd::2")).status).toBe(401);
    expect((await signIn("2001:db8:9:9:ffff:ffff:ffff:ffff")).status).toBe(429);
    expect((await signIn("2001:db8:9:a::1")).status).toBe(401);
  });

  test("a request it has no address for is not counted by address", async () => {
    for (let i = 0; i < 4; i++) expect((await signIn(null)).status).toBe(401);
  });

  test("a value that is not an IP address (12 KB of a header anybody can send) counts as no address: a normal answer, no key", async () => {
    // Random, so that PostgreSQL cannot compress it under its index row limit.
    for (let i = 0; i < 4; i++) expect((await signIn(randomBytes(6 * 1024).toString("hex"))).status).toBe(401);
    expect((await signIn("not an address")).status).toBe(401);
    const limits = await (backend as unknown as { db: Kysely<any> }).db.selectFrom("cimiento_rate_limits").select("key").execute();
    const odd = limits.map((row) => row.key as string).filter((key) => key.startsWith("address:") && (key.length > 60 || !/^address:[\d.:a-f/]+$/.test(key)));
    expect(odd).toEqual([]);
  });

  test("a session opened from such a value records no address; an IP address is recorded canonical", async () => {
    const email = uniqueEmail();
    const auth = (backend as unknown as Backend<{}, "sqlite" | "postgres">).auth;
    await auth.createUser({ email, password: PASSWORD });
    const addressOf = async (ip: string) => {
      const response = await backend.fetch(
        new Request("http://localhost/auth/sign-in", {
          method: "POST",
          headers: { "content-type": "application/json", "x-client-ip": ip },
          body: JSON.stringify({ email, password: PASSWORD }),
        }),
      );
      expect(response.status).toBe(200);
      const { session } = (await response.json()) as { session: { id: string } };
      const db = (backend as unknown as { db: Kysely<any> }).db;
      const row = await db.selectFrom("cimiento_sessions").select("address").where("id", "=", session.id).executeTakeFirstOrThrow();
      return row.address as string | null;
    };
    expect(await addressOf(randomBytes(6 * 1024).toString("hex"))).toBeNull();
    expect(await addressOf("2001:DB8:0:0::7")).toBe("2001:db8::7");
  });
});

test("auth.rateLimit.ipv6Prefix other than an integer from 1 to 128 is refused at start-up", () => {
  for (const ipv6Prefix of [0, 129, 56.5, Number.NaN]) {
    expect(() => createBackend({ database: sqlite({ file: ":memory:" }), collections: {}, auth: { password: {}, rateLimit: { ipv6Prefix } } })).toThrow(
      /auth\.rateLimit\.ipv6Prefix must be an integer from 1 to 128/,
    );
  }
});

function proxiedBackend(database: Database, ipv6Prefix?: number) {
  return createBackend({
    database,
    collections: {},
    logger: recordingLogger(),
    auth: {
      password: { hasher: fastHasher, requireEmailVerification: false },
      rateLimit: { perAddress: { max: 3, window: "1m" }, ...(ipv6Prefix === undefined ? {} : { ipv6Prefix }) },
      trustedProxies: ["127.0.0.1"],
    },
  });
}
type Proxied = ReturnType<typeof proxiedBackend>;

describeEachDatabase("auth: the client address behind a trusted proxy (real servers)", (database) => {
  for (const way of ["express", "hono"] as const) {
    describe(way, () => {
      let byPrefix: Proxied;
      let byAddress: Proxied;
      let byPrefixServer: Listening;
      let byAddressServer: Listening;
      const drops: (() => Promise<void>)[] = [];

      beforeAll(async () => {
        const start = way === "express" ? startExpress : startHono;
        const a = await database.fresh();
        const b = await database.fresh();
        drops.push(a.drop, b.drop);
        byPrefix = proxiedBackend(a.database);
        byAddress = proxiedBackend(b.database, 128);
        await byPrefix.migrate();
        await byAddress.migrate();
        byPrefixServer = await start(byPrefix);
        byAddressServer = await start(byAddress);
      });
      afterAll(async () => {
        await byPrefixServer?.close();
        await byAddressServer?.close();
        await byPrefix?.close();
        await byAddress?.close();
        for (const drop of drops) await drop();
      });

      const signIn = (forwardedFor: string, server = byPrefixServer, email = uniqueEmail(), password = "wrong password") =>
        fetch(`${server.origin}${MOUNT}/auth/sign-in`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
          body: JSON.stringify({ email, password }),
        });
      /** A different, made-up entry each time: what a client writes itself before the proxy's hop. */
      let forged = 0;
      const forgedEntry = () => `198.51.${Math.floor(forged / 250)}.${(forged++ % 250) + 1}`;

      test("the proxy's hop with a port (ip:port) is the client; entries the client wrote before it count for nothing", async () => {
        for (let i = 1; i <= 3; i++) expect((await signIn(`${forgedEntry()}, 203.0.113.10:${40_000 + i}`)).status).toBe(401);
        expect((await signIn(`${forgedEntry()}, 203.0.113.10:40004`)).status).toBe(429);
        expect((await signIn(`${forgedEntry()}, 203.0.113.11:40004`)).status).toBe(401);
      });

      test("so is a bracketed IPv6 hop with a port ([ipv6]:port)", async () => {
        for (let i = 1; i <= 3; i++) expect((await signIn(`${forgedEntry()}, [2001:db8:10::1]:${40_000 + i}`)).status).toBe(401);
        expect((await signIn(`${forgedEntry()}, [2001:db8:10::1]:443`)).status).toBe(429);
      });

      test("the session records the address of a hop with a port, without the port", async () => {
        const email = uniqueEmail();
        const other = uniqueEmail();
        await byPrefix.auth.createUser({ email, password: PASSWORD });
        await byPrefix.auth.createUser({ email: other, password: PASSWORD });
        const addressOf = async (response: Response) => {
          expect(response.status).toBe(200);
          const { session } = (await response.json()) as { session: { id: string } };
          const row = await (byPrefix.db as unknown as Kysely<any>).selectFrom("cimiento_sessions").select("address").where("id", "=", session.id).executeTakeFirstOrThrow();
          return row.address as string;
        };
        expect(await addressOf(await signIn("192.0.2.1, 203.0.113.20:5555", byPrefixServer, email, PASSWORD))).toBe("203.0.113.20");
        expect(await addressOf(await signIn("192.0.2.1, [2001:DB8:20:0::5]:8443", byPrefixServer, other, PASSWORD))).toBe("2001:db8:20::5");
      });

      test("a hop that is not an address makes the proxy the client: the entries before it are never taken", async () => {
        const unreadable = ["unknown", "_hidden", '"203.0.113.30"', "203.0.113.31:99999", "[203.0.113.32]:80", ""];
        const answers: number[] = [];
        for (const hop of unreadable) answers.push((await signIn(`${forgedEntry()}, ${hop}`)).status);
        // All count for the proxy, 127.0.0.1: three are allowed, then 429.
        expect(answers).toEqual([401, 401, 401, 429, 429, 429]);
      });

      test("IPv6 clients count by their /64 by default: new addresses in it do not help", async () => {
        const answers: number[] = [];
        for (const address of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:a:b:c:d", "2001:db8:1:2:ffff:ffff:ffff:ffff"]) {
          answers.push((await signIn(`${forgedEntry()}, ${address}`)).status);
        }
        expect(answers).toEqual([401, 401, 401, 429]);
        expect((await signIn("2001:db8:1:3::1")).status).toBe(401);
      });

      test("with ipv6Prefix: 128, each IPv6 address counts alone", async () => {
        for (let i = 1; i <= 5; i++) expect((await signIn(`2001:db8:1:2::${i}`, byAddressServer)).status).toBe(401);
        for (let i = 0; i < 3; i++) await signIn("2001:db8:1:2::99", byAddressServer);
        expect((await signIn("2001:db8:1:2::99", byAddressServer)).status).toBe(429);
      });

      test("an IPv4-mapped IPv6 address counts as the IPv4 address, in any of its spellings", async () => {
        const answers: number[] = [];
        for (const hop of ["203.0.113.50", "::ffff:203.0.113.50", "[::ffff:cb00:7132]:80", "203.0.113.50:1"]) {
          answers.push((await signIn(`${forgedEntry()}, ${hop}`)).status);
        }
        expect(answers).toEqual([401, 401, 401, 429]);
      });
    });
  }
});
