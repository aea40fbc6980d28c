/**
 * `sessions.cookie.secure: "auto"` over real servers, on every database: decided by the socket
 * and the configuration, never by the Host header. A development server (NODE_ENV not
 * "production") reached over plain HTTP from loopback sets the cookie without Secure; in
 * production, behind a proxy named in trustedProxies, or over TLS, it is Secure, also when the
 * request says `Host: localhost:3000` (what nginx sends with `proxy_pass http://localhost:3000`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest, type Server } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend, type DatabaseAdapter } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { listening, MOUNT, startExpress, startHono, type Listening } from "../http/support.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, PASSWORD, recordingLogger, setCookies, uniqueEmail, type SetCookie } from "./support.js";

type Database = DatabaseAdapter<"sqlite" | "postgres">;

/** A backend made while NODE_ENV is `nodeEnv` (auth reads it when the backend is made). */
function backendIn(nodeEnv: string, database: Database, trustedProxies: string[] = []) {
  const before = process.env["NODE_ENV"];
  process.env["NODE_ENV"] = nodeEnv;
  try {
    return createBackend({
      database,
      collections: {},
      logger: recordingLogger(),
      auth: {
        password: { hasher: fastHasher, requireEmailVerification: false },
        rateLimit: { perAddress: { max: 100_000, window: "1m" } },
        trustedProxies,
      },
    });
  } finally {
    if (before === undefined) delete process.env["NODE_ENV"];
    else process.env["NODE_ENV"] = before;
  }
}
type B = ReturnType<typeof backendIn>;

/** A self-signed certificate for 127.0.0.1, made for this run. */
function certificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "cimiento-tls-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * POSTs JSON through `node:http` or `node:https` (which, unlike fetch, send the Host header
 * given), and reads the Set-Cookie headers of the answer.
 */
function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}, ca?: string): Promise<{ status: number; cookies: SetCookie[] }> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(`${url}${MOUNT}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, ...(ca === undefined ? {} : { ca }) }, (res) => {
      res.resume();
      res.on("end", () => {
        const lines = res.headers["set-cookie"] ?? [];
        const response = new Response(null, { headers: lines.map((line) => ["set-cookie", line] as [string, string]) });
        resolve({ status: res.statusCode ?? 0, cookies: setCookies(response) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** Signs up and out; the session cookie's attributes when set, and when cleared. */
async function cookies(url: string, headers: Record<string, string> = {}, ca?: string) {
  const up = await post(url, "/auth/sign-up", { email: uniqueEmail(), password: PASSWORD }, headers, ca);
  expect(up.status).toBe(201);
  const set = up.cookies.find((cookie) => cookie.name === "cimiento_session")!;
  const out = await post(url, "/auth/sign-out", {}, { ...headers, cookie: `cimiento_session=${set.value}` }, ca);
  expect(out.status).toBe(204);
  return { set: set.attributes["secure"] ?? false, cleared: out.cookies.find((cookie) => cookie.name === "cimiento_session")!.attributes["secure"] ?? false };
}

const NGINX = { host: "localhost:3000" };
const PUBLIC = { host: "api.example.com" };

describeEachDatabase('auth: secure "auto" over real servers', (database) => {
  for (const way of ["express", "hono"] as const) {
    describe(way, () => {
      const backends: B[] = [];
      const servers: Listening[] = [];
      const drops: (() => Promise<void>)[] = [];
      let tls: { key: string; cert: string };

      /** A backend made in `nodeEnv` and served by this way's server (over TLS with `https`). */
      async function served(nodeEnv: string, options: { trustedProxies?: string[]; https?: boolean } = {}): Promise<string> {
        const fresh = await database.fresh();
        drops.push(fresh.drop);
        const backend = backendIn(nodeEnv, fresh.database, options.trustedProxies);
        backends.push(backend);
        await backend.migrate();
        let server: Listening;
        if (options.https !== true) server = await (way === "express" ? startExpress : startHono)(backend);
        else if (way === "express") {
          const app = express().use(MOUNT, toNodeHandler(backend));
          server = await listening(createHttpsServer(tls, app).listen(0, "127.0.0.1") as unknown as Server);
        }
        else {
          const app = new Hono().route(MOUNT, toHono(backend));
          server = await listening(serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1", createServer: createHttpsServer, serverOptions: tls }) as Server);
        }
        servers.push(server);
        return options.https === true ? server.origin.replace(/^http:/, "https:") : server.origin;
      }

      beforeAll(() => {
        tls = certificate();
      });
      afterAll(async () => {
        for (const server of servers) await server.close();
        for (const backend of backends) await backend.close();
        for (const drop of drops) await drop();
      });

      test("in development, a plain connection from loopback gets no Secure, whatever the Host header says", async () => {
        const url = await served("development");
        expect(await cookies(url)).toEqual({ set: false, cleared: false });
        expect(await cookies(url, PUBLIC)).toEqual({ set: false, cleared: false });
      });

      test("in production, a loopback connection that says Host: localhost:3000 (nginx's proxy_pass) gets Secure, set and cleared", async () => {
        const url = await served("production");
        expect(await cookies(url, NGINX)).toEqual({ set: true, cleared: true });
        expect(await cookies(url)).toEqual({ set: true, cleared: true });
      });

      test("in development, a loopback peer named in trustedProxies (a proxy on this machine) gets Secure", async () => {
        const url = await served("development", { trustedProxies: ["127.0.0.1"] });
        expect(await cookies(url, NGINX)).toEqual({ set: true, cleared: true });
      });

      test("in development, a TLS connection from loopback gets Secure", async () => {
        const url = await served("development", { https: true });
        expect(await cookies(url, {}, tls.cert)).toEqual({ set: true, cleared: true });
      });
    });
  }
});
