/**
 * One server of the benchmark, in its own process: `node --import tsx bench/server.ts <json>`.
 * It listens on a random loopback port, says so over IPC, and answers `"cpu"` with the CPU time
 * it has used and `"stats"` with its peak resident memory.
 * @module
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { postgres, sqlite, toHono, toNodeHandler } from "./cimiento.js";
import { benchBackend, USER_HEADER } from "./fixture.js";
import { postgresStore } from "./raw/postgres-store.js";
import { sqliteStore } from "./raw/sqlite-store.js";
import { cookieToken, tokenHash, type RawStore, type SessionRow } from "./raw/store.js";
import { scenarioOf, serverAuth, SESSION_COOKIE, type HttpScenario, type RawAnswer } from "./scenarios.js";
import type { ServerSpec } from "./variants.js";

/** Where every server mounts what it serves. */
const MOUNT = "/api";
/** Connections of each PostgreSQL pool (cimiento's default). */
const POOL = 10;

function rawStore(spec: ServerSpec): RawStore {
  return spec.dialect === "sqlite" ? sqliteStore(spec.target) : postgresStore(spec.target, POOL);
}

function cimiento(spec: ServerSpec) {
  const auth = serverAuth(scenarioOf(spec.scenario));
  return spec.dialect === "sqlite"
    ? benchBackend(sqlite({ file: spec.target }), auth)
    : benchBackend(postgres({ connectionString: spec.target, max: POOL }), auth);
}

/** Who calls, as a hand-written server of `scenario` finds out. */
async function rawCaller(
  store: RawStore,
  scenario: HttpScenario,
  header: (name: string) => string | null | undefined,
): Promise<{ userId: string | null; session: SessionRow | null }> {
  if (scenario.caller === "host") return { userId: header(USER_HEADER) ?? null, session: null };
  if (scenario.caller === "anonymous") return { userId: null, session: null };
  const token = cookieToken(header("cookie"), SESSION_COOKIE);
  const session = token === null ? null : await store.session(tokenHash(token));
  return { userId: session?.user.id ?? null, session };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}

/** (a) The limit: `node:http`, a hand-written router, prepared statements. */
function nodeRaw(store: RawStore, scenario: HttpScenario): Server {
  const hasId = scenario.path.includes(":id");
  const pattern = new RegExp(`^${MOUNT}${scenario.path.replace(":id", "([^/?]+)")}(?:\\?(.*))?$`);
  return createServer(async (request, response) => {
    let answer: RawAnswer = { status: 404, body: { code: "ROUTE_NOT_FOUND" } };
    try {
      const match = request.method === scenario.method ? pattern.exec(request.url ?? "") : null;
      if (match !== null) {
        const caller = await rawCaller(store, scenario, (name) => request.headers[name] as string | undefined);
        answer = await scenario.raw(store, {
          id: hasId ? match[1] : undefined,
          query: new URLSearchParams(match[hasId ? 2 : 1] ?? ""),
          body: scenario.method === "POST" ? await readBody(request) : undefined,
          ...caller,
        });
      }
    } catch {
      answer = { status: 500, body: { code: "INTERNAL" } };
    }
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
  });
}

/** (b) Hono routes over the same prepared statements. */
function honoRaw(store: RawStore, scenario: HttpScenario): Hono {
  return new Hono().on(scenario.method, `${MOUNT}${scenario.path}`, async (c) => {
    const text = scenario.method === "POST" ? await c.req.text() : "";
    const caller = await rawCaller(store, scenario, (name) => c.req.header(name));
    const answer = await scenario.raw(store, {
      id: c.req.param("id"),
      query: new URL(c.req.url).searchParams,
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
      ...caller,
    });
    return c.json(answer.body as object, answer.status as 200);
  });
}

async function listen(server: Server): Promise<number> {
  if (!server.listening) await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function start(spec: ServerSpec): Promise<{ port: number; close: () => Promise<void> }> {
  switch (spec.variant) {
    case "node-raw": {
      const store = rawStore(spec);
      const server = nodeRaw(store, scenarioOf(spec.scenario)).listen(0, "127.0.0.1");
      return { port: await listen(server), close: () => store.close() };
    }
    case "hono-raw": {
      const store = rawStore(spec);
      const server = serve({ fetch: honoRaw(store, scenarioOf(spec.scenario)).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
      return { port: await listen(server), close: () => store.close() };
    }
    case "hono-cimiento": {
      const backend = cimiento(spec);
      const app = new Hono().route(MOUNT, toHono(backend));
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
      return { port: await listen(server), close: () => backend.close() };
    }
    case "node-cimiento": {
      const backend = cimiento(spec);
      const handler = toNodeHandler(backend);
      // Plain node:http has no mount: the path under /api is the backend's, as Express gives it.
      const server = createServer((request, response) => {
        request.url = request.url!.slice(MOUNT.length);
        void handler(request, response);
      }).listen(0, "127.0.0.1");
      return { port: await listen(server), close: () => backend.close() };
    }
    case "express-cimiento": {
      const backend = cimiento(spec);
      const server = express().use(MOUNT, toNodeHandler(backend)).listen(0, "127.0.0.1");
      return { port: await listen(server), close: () => backend.close() };
    }
  }
}

function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const spec = JSON.parse(process.argv[2]!) as ServerSpec;
const running = await start(spec);
process.on("message", (message) => {
  if (message === "cpu") process.send!({ cpuUs: cpuMicroseconds() });
  if (message === "stats") process.send!({ maxRssKb: process.resourceUsage().maxRSS });
  if (message === "exit") void running.close().finally(() => process.exit(0));
});
process.send!({ port: running.port });
