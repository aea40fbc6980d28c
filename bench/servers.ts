/**
 * What each server variant answers with, built without listening: a Fetch handler (the Hono
 * variants) or a `node:http` request listener (the others), over a fresh store or backend of a
 * `ServerSpec`. `server.ts` serves them from a process of their own; `count.ts` calls the Fetch
 * handlers in-process.
 * @module
 */
import type { IncomingMessage, RequestListener } from "node:http";
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
export const MOUNT = "/api";
/** Connections of each PostgreSQL pool (cimiento's default). */
export const POOL = 10;

/** A Fetch handler, as Hono's `app.fetch` is called by a host. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A variant's answer, built: a Fetch handler or a node request listener, and how to close it. */
export type BuiltServer =
  | { readonly kind: "fetch"; readonly fetch: FetchHandler; close(): Promise<void> }
  | { readonly kind: "node"; readonly listener: RequestListener; close(): Promise<void> };

/** The baselines' prepared statements on the spec's database. */
export function rawStore(spec: ServerSpec): RawStore {
  return spec.dialect === "sqlite" ? sqliteStore(spec.target) : postgresStore(spec.target, POOL);
}

/** The benchmark's backend on the spec's database. */
export function cimiento(spec: ServerSpec) {
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
export function nodeRaw(store: RawStore): RequestListener {
  const table = routes().map((scenario) => ({
    scenario,
    pattern: new RegExp(`^${MOUNT}${scenario.path.replace(":id", "([^/?]+)")}(?:\\?(.*))?$`),
  }));
  return async (request, response) => {
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
  };
}

/** (b) Hono routes over the same prepared statements. */
export function honoRaw(store: RawStore): Hono {
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

/** Builds what the spec's variant answers with, on a store or backend of its own. */
export function buildServer(spec: ServerSpec): BuiltServer {
  switch (spec.variant) {
    case "node-raw": {
      const store = rawStore(spec);
      return { kind: "node", listener: nodeRaw(store), close: () => store.close() };
    }
    case "hono-raw": {
      const store = rawStore(spec);
      return { kind: "fetch", fetch: honoRaw(store).fetch, close: () => store.close() };
    }
    case "hono-cimiento": {
      const backend = cimiento(spec);
      return { kind: "fetch", fetch: new Hono().route(MOUNT, toHono(backend)).fetch, close: () => backend.close() };
    }
    case "express-cimiento": {
      const backend = cimiento(spec);
      return { kind: "node", listener: express().use(MOUNT, toNodeHandler(backend)), close: () => backend.close() };
    }
  }
}
