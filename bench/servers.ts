/**
 * What each server variant answers with, built without listening: a Fetch handler (the Hono
 * variants) or a `node:http` request listener (the others), over a fresh store or backend of a
 * `ServerSpec`, for the one scenario it serves. `server.ts` serves them from a process of their
 * own, `count.ts` in its counting process (the Fetch handlers by `@hono/node-server` in both).
 * @module
 */
import type { IncomingMessage, RequestListener } from "node:http";
import express from "express";
import { Hono } from "hono";
import { postgres, sqlite, toHono, toNodeHandler } from "./cimiento.js";
import { benchBackend, USER_HEADER } from "./fixture.js";
import { postgresStore } from "./raw/postgres-store.js";
import { sqliteStore } from "./raw/sqlite-store.js";
import { cookieToken, tokenHash, type RawStore, type SessionRow } from "./raw/store.js";
import { scenarioOf, serverAuth, SESSION_COOKIE, type HttpScenario, type RawAnswer, type RawRequest } from "./scenarios.js";
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

/** The benchmark's backend on the spec's database, with the auth its scenario needs. */
export function cimiento(spec: ServerSpec) {
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
): Promise<Pick<RawRequest, "userId" | "session">> {
  if (scenario.caller === "host") return { userId: header(USER_HEADER) ?? null, session: null };
  if (scenario.caller === "anonymous") return { userId: null, session: null };
  const token = cookieToken(header("cookie"), SESSION_COOKIE);
  const session: SessionRow | null = token === null ? null : await store.session(tokenHash(token));
  return { userId: session?.user.id ?? null, session };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
}

/** A Node request's answer from the raw baseline of `scenario`, given its `:id` and query. */
async function answerNode(store: RawStore, scenario: HttpScenario, request: IncomingMessage, id: string | undefined, query: string): Promise<RawAnswer> {
  try {
    const caller = await rawCaller(store, scenario, (name) => request.headers[name] as string | undefined);
    return await scenario.raw(store, {
      id,
      query: new URLSearchParams(query),
      body: scenario.method === "POST" ? await readBody(request) : undefined,
      ...caller,
    });
  } catch {
    return { status: 500, body: { code: "INTERNAL" } };
  }
}

/** (a) The limit: `node:http`, a hand-written router, prepared statements. */
export function nodeRaw(store: RawStore, scenario: HttpScenario): RequestListener {
  const hasId = scenario.path.includes(":id");
  const pattern = new RegExp(`^${MOUNT}${scenario.path.replace(":id", "([^/?]+)")}(?:\\?(.*))?$`);
  return async (request, response) => {
    const match = request.method === scenario.method ? pattern.exec(request.url ?? "") : null;
    const answer: RawAnswer =
      match === null
        ? { status: 404, body: { code: "ROUTE_NOT_FOUND" } }
        : await answerNode(store, scenario, request, hasId ? match[1] : undefined, match[hasId ? 2 : 1] ?? "");
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer.body));
  };
}

/** (b) A Hono route over the same prepared statements. */
export function honoRaw(store: RawStore, scenario: HttpScenario): Hono {
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

/** (c) An Express route over the same prepared statements. */
export function expressRaw(store: RawStore, scenario: HttpScenario): RequestListener {
  const app = express();
  const path = `${MOUNT}${scenario.path}`;
  const route = scenario.method === "GET" ? app.get.bind(app) : app.post.bind(app);
  route(path, async (request, response) => {
    const at = request.originalUrl.indexOf("?");
    const answer = await answerNode(store, scenario, request, request.params["id"] as string | undefined, at < 0 ? "" : request.originalUrl.slice(at + 1));
    response.status(answer.status).json(answer.body);
  });
  return app;
}

/** Builds what the spec's variant answers with, on a store or backend of its own. */
export function buildServer(spec: ServerSpec): BuiltServer {
  const scenario = scenarioOf(spec.scenario);
  switch (spec.variant) {
    case "node-raw": {
      const store = rawStore(spec);
      return { kind: "node", listener: nodeRaw(store, scenario), close: () => store.close() };
    }
    case "node-cimiento": {
      const backend = cimiento(spec);
      const handler = toNodeHandler(backend);
      // Plain node:http has no mount: the path under /api is the backend's, as Express gives it.
      const listener: RequestListener = (request, response) => {
        request.url = request.url!.slice(MOUNT.length);
        void handler(request, response);
      };
      return { kind: "node", listener, close: () => backend.close() };
    }
    case "hono-raw": {
      const store = rawStore(spec);
      return { kind: "fetch", fetch: honoRaw(store, scenario).fetch, close: () => store.close() };
    }
    case "hono-cimiento": {
      const backend = cimiento(spec);
      return { kind: "fetch", fetch: new Hono().route(MOUNT, toHono(backend)).fetch, close: () => backend.close() };
    }
    case "express-raw": {
      const store = rawStore(spec);
      return { kind: "node", listener: expressRaw(store, scenario), close: () => store.close() };
    }
    case "express-cimiento": {
      const backend = cimiento(spec);
      return { kind: "node", listener: express().use(MOUNT, toNodeHandler(backend)), close: () => backend.close() };
    }
  }
}
