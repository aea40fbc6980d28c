/**
 * The server matrix: every HTTP suite runs, from one source, on every database (through
 * `describeEachDatabase`) and three ways: through `backend.fetch` directly, through a real
 * Express 5 server and through a real Hono server, each on a random loopback port with the
 * backend mounted under `/api` beside a host route.
 *
 * With CIMIENTO_TEST_ROUND_ROBIN=1 the suites run one other way instead, on PostgreSQL only:
 * `round-robin`, three backends made by the suite's factory on one schema (each with its own
 * pool and notifier, each behind its own `node:http` server), with every request sent through
 * the round-robin proxy of examples/cluster, so that consecutive requests reach different
 * instances. The suite's `backend` is the first of the three.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import { afterAll, beforeAll, describe } from "vitest";
import type { DatabaseAdapter } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { describeEachDatabase, type TestDatabase } from "../setup/dialects.js";
import { roundRobinProxy } from "../../examples/cluster/proxy.js";

/** How a suite reaches the backend. */
export type Way = "fetch" | "express" | "hono" | "round-robin";

/** The ways every suite runs, in order. */
export const WAYS: readonly Way[] = ["fetch", "express", "hono"];

/** Whether the suites run round-robin over three instances (CIMIENTO_TEST_ROUND_ROBIN=1), instead of the ways above. */
export const ROUND_ROBIN = process.env["CIMIENTO_TEST_ROUND_ROBIN"] === "1";

/** The instances of the round-robin way. */
const INSTANCES = 3;

/** Where the servers mount the backend. */
export const MOUNT = "/api";

/** What the harness needs of a backend. */
export interface ServableBackend {
  fetch(request: Request): Promise<Response>;
  migrate(): Promise<unknown>;
  close(): Promise<void>;
}

/** The host route that the Express and Hono servers serve beside the backend. */
export const HOST_ROUTE = { path: "/host", body: { host: "still here" } } as const;

/** What a suite is given: the backend, and a way to send it requests. */
export interface ServedBackend<B extends ServableBackend> {
  /** How requests reach the backend in this run. */
  readonly way: Way;
  /** The database of this run. */
  readonly dialect: TestDatabase["dialect"];
  /** The backend (fresh and migrated for this run; set in `beforeAll`). */
  readonly backend: B;
  /**
   * The origin of the server (`http://127.0.0.1:port`), or `null` through `backend.fetch`.
   * The backend is mounted at `origin + MOUNT` (round-robin: at `origin`, the proxy's).
   */
  readonly origin: string | null;
  /**
   * The path the backend sees for `path`: Hono's `route()` keeps the mount prefix in the path,
   * Express and `backend.fetch` do not.
   */
  mounted(path: string): string;
  /** Sends a request to `path`, relative to where the backend is mounted. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** `request` with a JSON body (and its content type). */
  json(method: string, path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /**
   * POSTs `chunks` as a body without Content-Length: with `transfer-encoding: chunked` through
   * `node:http` to the real servers, as a `ReadableStream` through `backend.fetch`.
   */
  postChunked(path: string, chunks: readonly string[], headers?: Record<string, string>): Promise<Response>;
}

/** A running server and how to stop it. */
export interface Listening {
  readonly origin: string;
  close(): Promise<void>;
}

/** Waits for a `node:http` server to listen, on a random loopback port unless it already does. */
export async function listening(server: Server): Promise<Listening> {
  if (!server.listening) await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Options of the Express server. */
export interface ExpressOptions {
  /** `express.json()`: before the mount (`"before"`), after it, or not at all. @default "before" */
  readonly json?: "before" | "after" | "none";
}

/** A real Express 5 server: the backend under `/api`, and a host route beside it. */
export async function startExpress(backend: ServableBackend, options: ExpressOptions = {}): Promise<Listening> {
  const json = options.json ?? "before";
  const app = express();
  if (json === "before") app.use(express.json());
  app.use(MOUNT, toNodeHandler(backend));
  if (json === "after") app.use(express.json());
  app.get(HOST_ROUTE.path, (_req, res) => {
    res.json(HOST_ROUTE.body);
  });
  // A host route that reads the body that express.json() parsed.
  app.post(`${HOST_ROUTE.path}/echo`, (req, res) => {
    res.json({ received: req.body ?? null });
  });
  return listening(app.listen(0, "127.0.0.1"));
}

/** A real Hono server (`@hono/node-server`): `app.route("/api", toHono(backend))` and a host route. */
export async function startHono(backend: ServableBackend): Promise<Listening> {
  const app = new Hono();
  app.get(HOST_ROUTE.path, (c) => c.json(HOST_ROUTE.body));
  app.route(MOUNT, toHono(backend));
  return listening(serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server);
}

/** Headers of a `node:http` response, as Fetch `Headers`. */
function fetchHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) result.append(name, one);
  }
  return result;
}

/** A status that has no body in Fetch. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * POSTs a chunked body through `node:http`. The server may answer (413) before the body is
 * sent in full; the answer is what counts, so write errors after it are ignored.
 */
export function postChunkedOverHttp(
  url: string,
  chunks: readonly string[],
  headers: Record<string, string> = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("error", reject);
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(parts), { status, headers: fetchHeaders(res.headers) }));
      });
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    (async () => {
      for (const chunk of chunks) {
        if (req.destroyed || answered) return;
        if (!req.write(chunk)) await once(req, "drain");
      }
      req.end();
    })().catch(() => {});
  });
}

/** A body of `chunks`, without a known length. */
function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      if (next < chunks.length) controller.enqueue(encoder.encode(chunks[next++]));
      else controller.close();
    },
  });
}

/** Options of {@link describeEachServer}. */
export interface ServerMatrixOptions {
  /** Why the suite does not run round-robin over several instances (it is skipped there, saying so). */
  readonly notRoundRobin?: string;
}

/** Builds the backend of a suite on a fresh database. */
export type BackendFactory<B extends ServableBackend> = (database: DatabaseAdapter<"sqlite" | "postgres">) => B;

/**
 * Runs `suite` on every database × every way. Each run gets a fresh, migrated backend from
 * `create` (and, for Express and Hono, a server of its own) in `beforeAll`; both are closed in
 * `afterAll`. Tests of a run share its backend, in order.
 */
export function describeEachServer<B extends ServableBackend>(
  name: string,
  create: BackendFactory<B>,
  suite: (served: ServedBackend<B>) => void,
  options: ServerMatrixOptions = {},
): void {
  describeEachDatabase(name, (db) => {
    const skip =
      ROUND_ROBIN && db.dialect !== "postgres" ? "round-robin runs on PostgreSQL only" : ROUND_ROBIN ? options.notRoundRobin : undefined;
    for (const way of ROUND_ROBIN ? (["round-robin"] as const) : WAYS) {
      (skip === undefined ? describe : describe.skip)(skip === undefined ? way : `${way} (skipped: ${skip})`, () => {
        let backend: B | undefined;
        let server: Listening | null = null;
        let drop: (() => Promise<void>) | undefined;
        /** The other instances of the round-robin way, and their servers. */
        const others: { backend: B; server: Listening }[] = [];

        beforeAll(async () => {
          const fresh = await db.fresh();
          drop = fresh.drop;
          backend = create(fresh.database);
          await backend.migrate();
          if (way === "express") server = await startExpress(backend);
          if (way === "hono") server = await startHono(backend);
          if (way === "round-robin") server = await startRoundRobin(backend, fresh.reopen!, create, others);
        });
        afterAll(async () => {
          await server?.close();
          for (const other of others.splice(0)) {
            await other.server.close();
            await other.backend.close();
          }
          await backend?.close();
          await drop?.();
        });

        const target = (path: string) => `${server!.origin}${way === "round-robin" ? "" : MOUNT}${path}`;
        const served: ServedBackend<B> = {
          way,
          dialect: db.dialect,
          get backend() {
            if (backend === undefined) throw new Error("The backend is made in beforeAll.");
            return backend;
          },
          get origin() {
            return server?.origin ?? null;
          },
          mounted: (path) => (way === "hono" ? `${MOUNT}${path}` : path),
          request(path, init) {
            if (way === "fetch") return served.backend.fetch(new Request(`http://localhost${path}`, init));
            return fetch(target(path), init);
          },
          json(method, path, body, headers = {}) {
            return served.request(path, {
              method,
              headers: { "content-type": "application/json", ...headers },
              body: JSON.stringify(body),
            });
          },
          postChunked(path, chunks, headers = {}) {
            if (way !== "fetch") return postChunkedOverHttp(target(path), chunks, headers);
            const init = { method: "POST", headers, body: streamOf(chunks), duplex: "half" } as RequestInit;
            return served.backend.fetch(new Request(`http://localhost${path}`, init));
          },
        };
        suite(served);
      });
    }
  });
}

/**
 * The round-robin way: `first` and `INSTANCES - 1` more backends from `create` on the same
 * database (`reopen`), each behind a `node:http` server, behind the round-robin proxy of
 * examples/cluster; the others are pushed on `others` to be closed with the proxy.
 */
async function startRoundRobin<B extends ServableBackend>(
  first: B,
  reopen: () => DatabaseAdapter<"sqlite" | "postgres">,
  create: BackendFactory<B>,
  others: { backend: B; server: Listening }[],
): Promise<Listening> {
  const firstServer = await listening(createServer(toNodeHandler(first)).listen(0, "127.0.0.1"));
  for (let i = 1; i < INSTANCES; i++) {
    const backend = create(reopen());
    await backend.migrate();
    others.push({ backend, server: await listening(createServer(toNodeHandler(backend)).listen(0, "127.0.0.1")) });
  }
  const proxy = await listening(roundRobinProxy([firstServer.origin, ...others.map((other) => other.server.origin)]).listen(0, "127.0.0.1"));
  return {
    origin: proxy.origin,
    close: async () => {
      await proxy.close();
      await firstServer.close();
    },
  };
}

/** A response's parts that tests compare: status, content type and parsed body. */
export async function read(response: Response): Promise<{ status: number; type: string | null; body: unknown }> {
  const text = await response.text();
  const type = response.headers.get("content-type");
  return { status: response.status, type, body: text === "" ? null : /json/.test(type ?? "") ? JSON.parse(text) : text };
}

/** The major version of the installed `@hono/node-server` (its exports leave out package.json). */
const nodeServerMajor = Number(
  (
    JSON.parse(
      readFileSync(join(dirname(createRequire(import.meta.url).resolve("@hono/node-server")), "..", "package.json"), "utf8"),
    ) as { version: string }
  ).version.split(".")[0],
);

/**
 * The content type of a 204: none through `backend.fetch` and `toNodeHandler` (Express), nor
 * through `@hono/node-server` 2.x, which `serve` uses (Hono). Its 1.x writes
 * `text/plain; charset=UTF-8` on every response that has none, a 204 too (harmless: there is no
 * body).
 */
export function noContentType(way: Way): string | null {
  return way === "fetch" || way === "express" || nodeServerMajor >= 2 ? null : "text/plain; charset=UTF-8";
}

/** The UUID shape of generated request ids. */
export const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
