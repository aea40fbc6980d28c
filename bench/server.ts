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
import { benchBackend } from "./fixture.js";
import { postgresStore } from "./raw/postgres-store.js";
import { sqliteStore } from "./raw/sqlite-store.js";
import type { RawStore } from "./raw/store.js";
import { HTTP_SCENARIOS, type HttpScenario, type RawAnswer } from "./scenarios.js";
import type { ServerSpec } from "./variants.js";

/** Where every server mounts what it serves. */
const MOUNT = "/api";
/** Connections of each PostgreSQL pool (cimiento's default). */
const POOL = 10;

function rawStore(spec: ServerSpec): RawStore {
  return spec.dialect === "sqlite" ? sqliteStore(spec.target) : postgresStore(spec.target, POOL);
}

function cimiento(spec: ServerSpec) {
  return spec.dialect === "sqlite"
    ? benchBackend(sqlite({ file: spec.target }))
    : benchBackend(postgres({ connectionString: spec.target, max: POOL }));
}

/** Distinct routes of the scenarios (both list scenarios share one). */
function routes(): HttpScenario[] {
  const seen = new Set<string>();
  return HTTP_SCENARIOS.filter((scenario) => {
    const key = `${scenario.method} ${scenario.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}

/** (a) The limit: `node:http`, a hand-written router, prepared statements. */
function nodeRaw(store: RawStore): Server {
  const table = routes().map((scenario) => ({
    scenario,
    pattern: new RegExp(`^${MOUNT}${scenario.path.replace(":id", "([^/?]+)")}(?:\\?(.*))?$`),
  }));
  return createServer(async (request, response) => {
    let answer: RawAnswer = { status: 404, body: { code: "ROUTE_NOT_FOUND" } };
    try {
      for (const { scenario, pattern } of table) {
        if (request.method !== scenario.method) continue;
        const match = pattern.exec(request.url ?? "");
        if (match === null) continue;
        const hasId = scenario.path.includes(":id");
        answer = await scenario.raw(store, {
          id: hasId ? match[1] : undefined,
          query: new URLSearchParams(match[hasId ? 2 : 1] ?? ""),
          body: scenario.method === "POST" ? await readBody(request) : undefined,
        });
        break;
      }
    } catch {
      answer = { status: 500, body: { code: "INTERNAL" } };
    }
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
  });
}

/** (b) Hono routes over the same prepared statements. */
function honoRaw(store: RawStore): Hono {
  const app = new Hono();
  for (const scenario of routes()) {
    app.on(scenario.method, `${MOUNT}${scenario.path}`, async (c) => {
      const text = scenario.method === "POST" ? await c.req.text() : "";
      const answer = await scenario.raw(store, {
        id: c.req.param("id"),
        query: new URL(c.req.url).searchParams,
        body: text === "" ? undefined : (JSON.parse(text) as unknown),
      });
      return c.json(answer.body as object, answer.status as 200);
    });
  }
  return app;
}

async function listen(server: Server): Promise<number> {
  if (!server.listening) await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function start(spec: ServerSpec): Promise<{ port: number; close: () => Promise<void> }> {
  switch (spec.variant) {
    case "node-raw": {
      const store = rawStore(spec);
      const server = nodeRaw(store).listen(0, "127.0.0.1");
      return { port: await listen(server), close: () => store.close() };
    }
    case "hono-raw": {
      const store = rawStore(spec);
      const server = serve({ fetch: honoRaw(store).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
      return { port: await listen(server), close: () => store.close() };
    }
    case "hono-cimiento": {
      const backend = cimiento(spec);
      const app = new Hono().route(MOUNT, toHono(backend));
      const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
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
