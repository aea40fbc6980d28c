/**
 * No user enumeration, on every database, over a real HTTP server: sign-in, sign-up and
 * request-password-reset answer known and unknown e-mail addresses identically (status, body
 * but its request id, headers but the request id and date) and in about the same time (medians
 * of 50 interleaved tries within a factor of 1.5). Sign-in hashes at a real cost, so that
 * hashing dominates as it does in production; sign-up (with verification: the address and no
 * password) and reset hash nothing, and differ only in what is mailed after the answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend, scryptHasher, type Mailer } from "cimiento";
import { MOUNT, startExpress, type Listening } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { median, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

const TRIES = 50;
const FACTOR = 1.5;

/** A mailer that sends nothing (what is mailed is tested in email.test.ts), so that SMTP does not add noise. */
const sent: string[] = [];
const quietMailer: Mailer = {
  async send(message) {
    sent.push(message.to);
  },
};

/** Headers that differ on every response whatever it says. */
const VARYING = new Set(["x-request-id", "date"]);

async function snapshot(response: Response) {
  const text = await response.text();
  const body = text === "" ? null : (JSON.parse(text) as Record<string, unknown>);
  if (body !== null) delete body["requestId"];
  const headers = [...response.headers].filter(([name]) => !VARYING.has(name)).sort(([a], [b]) => a.localeCompare(b));
  return { status: response.status, body, headers };
}

describeEachDatabase("auth: no user enumeration", (database) => {
  let backend: ReturnType<typeof makeBackend>;
  let server: Listening;
  let drop: () => Promise<void>;
  const known = uniqueEmail("known");

  function makeBackend(adapter: Parameters<typeof createBackend>[0]["database"]) {
    return createBackend({
      database: adapter,
      collections: {},
      logger: recordingLogger(),
      auth: {
        // A real cost (4 MiB, about ten milliseconds or more): the time of an answer is mostly hashing, as in production.
        password: { hasher: scryptHasher({ logN: 12 }) },
        mailer: quietMailer,
        rateLimit: { signIn: { max: 1_000_000, window: "15m" }, perAddress: { max: 1_000_000, window: "1m" } },
      },
    });
  }

  beforeAll(async () => {
    const fresh = await database.fresh();
    drop = fresh.drop;
    backend = makeBackend(fresh.database);
    await backend.migrate();
    await backend.auth.createUser({ email: known, password: PASSWORD, emailVerified: true });
    server = await startExpress(backend);
  });
  afterAll(async () => {
    await server?.close();
    await backend?.close();
    await drop?.();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.origin}${MOUNT}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  /** The three routes, each for a known and an unknown address (a fresh one each time). */
  const routes = {
    "sign-in": (email: string) => post("/auth/sign-in", { email, password: "not the password" }),
    "sign-up": (email: string) => post("/auth/sign-up", { email }),
    "request-password-reset": (email: string) => post("/auth/request-password-reset", { email }),
  };

  describe("identical answers", () => {
    for (const [name, send] of Object.entries(routes)) {
      test(`${name}: the same status, body and headers for a known and an unknown address`, async () => {
        const forKnown = await snapshot(await send(known));
        const forUnknown = await snapshot(await send(uniqueEmail("unknown")));
        expect(forKnown).toEqual(forUnknown);
        expect(forKnown.headers.map(([header]) => header)).not.toContain("set-cookie");
        expect([202, 401]).toContain(forKnown.status);
      });
    }
  });

  describe("the same time", () => {
    for (const [name, send] of Object.entries(routes)) {
      test(`${name}: median times of ${TRIES} tries within a factor of ${FACTOR}`, async () => {
        const once = async (email: string) => {
          const start = performance.now();
          const response = await send(email);
          await response.arrayBuffer();
          return performance.now() - start;
        };
        // Warm up both paths (connections, the dummy hash of unknown accounts, JIT).
        for (let i = 0; i < 3; i++) {
          await once(known);
          await once(uniqueEmail("warm"));
        }
        const knownTimes: number[] = [];
        const unknownTimes: number[] = [];
        for (let i = 0; i < TRIES; i++) {
          // Interleaved, in alternating order, so that drift in the machine's load hits both alike.
          if (i % 2 === 0) {
            knownTimes.push(await once(known));
            unknownTimes.push(await once(uniqueEmail("unknown")));
          } else {
            unknownTimes.push(await once(uniqueEmail("unknown")));
            knownTimes.push(await once(known));
          }
        }
        const k = median(knownTimes);
        const u = median(unknownTimes);
        const ratio = Math.max(k, u) / Math.min(k, u);
        if (process.env["CIMIENTO_TEST_TIMINGS"]) console.log(`${database.dialect} ${name}: known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms, ratio ${ratio.toFixed(2)}`);
        expect(ratio, `${name}: median known ${k.toFixed(2)} ms, unknown ${u.toFixed(2)} ms`).toBeLessThan(FACTOR);
      }, 60_000);
    }
  });
});
