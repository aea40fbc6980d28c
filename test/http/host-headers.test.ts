/**
 * Mounted with Hono's `app.route()`, the host and the backend share one context: headers a host
 * middleware sets with `c.header()` (before or after the backend answers), or on `c.res`, reach
 * the backend's responses, next to its own request id and security headers; and each header is
 * sent once. On real servers (`@hono/node-server`), on every database.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type DatabaseAdapter } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { createServer } from "node:http";
import { describeEachDatabase } from "../setup/dialects.js";
import { listening, REQUEST_ID, type Listening } from "./support.js";

const notes = collection("notes", {
  fields: { text: field.text(z.string().min(1)) },
  access: { list: () => true, get: () => true, create: () => true },
});

function notesBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({ database, collections: { notes } });
}

const SECURITY = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "SAMEORIGIN",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=15552000; includeSubDomains",
  "cross-origin-opener-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0",
} as const;

function expectOwnHeaders(response: Response): void {
  expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
  for (const [name, value] of Object.entries(SECURITY)) expect(response.headers.get(name), name).toBe(value);
  // Each once: a header sent twice would read as "a, b".
  expect(response.headers.get("content-type")).toMatch(/^application\/(problem\+)?json$/);
  expect(response.headers.get("x-powered-by")).toBeNull();
}

describeEachDatabase("Host headers through app.route()", (db) => {
  let backend: ReturnType<typeof notesBackend>;
  let drop: () => Promise<void>;
  const servers: Listening[] = [];
  let before: string; // the host sets a header before the backend answers
  let onRes: string; // the host sets a header on c.res before the backend answers
  let bare: string; // no host middleware
  let node: string; // node:http createServer(toNodeHandler(backend))
  let id: string;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = notesBackend(fresh.database);
    await backend.migrate();
    id = (await backend.system.data.notes.create({ text: "hello" })).id;

    const withBefore = new Hono();
    withBefore.use("/api/*", async (c, next) => {
      c.header("x-host-before", "set");
      c.header("x-powered-by", "host");
      c.header("x-frame-options", "DENY"); // the backend's own value wins, sent once
      await next();
      c.header("x-host-after", "set");
    });
    withBefore.route("/api", toHono(backend));

    const withRes = new Hono();
    withRes.use("/api/*", async (c, next) => {
      c.res.headers.set("x-host-res", "set");
      await next();
    });
    withRes.route("/api", toHono(backend));

    const withNothing = new Hono();
    withNothing.route("/api", toHono(backend));

    for (const app of [withBefore, withRes, withNothing]) {
      servers.push(await listening(serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server));
    }
    servers.push(await listening(createServer(toNodeHandler(backend)).listen(0, "127.0.0.1")));
    [before, onRes, bare, node] = servers.map((server, i) => server.origin + (i < 3 ? "/api" : "")) as [string, string, string, string];
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await backend.close();
    await drop();
  });

  const requests: [string, (base: string) => Promise<Response>, number][] = [
    ["a get", (base) => fetch(`${base}/collections/notes/records/${id}`), 200],
    ["a list", (base) => fetch(`${base}/collections/notes/records?limit=5`), 200],
    [
      "a create",
      (base) => fetch(`${base}/collections/notes/records`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"x"}' }),
      201,
    ],
    ["a 404", (base) => fetch(`${base}/collections/notes/records/nope`), 404],
    ["an unknown route", (base) => fetch(`${base}/nothing`), 404],
    ["a 400", (base) => fetch(`${base}/collections/notes/records?limit=many`), 400],
    ["the health check", (base) => fetch(`${base}/health`), 200],
  ];

  for (const [what, send, status] of requests) {
    test(`${what}: headers the host set before and after the backend answered are kept`, async () => {
      const response = await send(before);
      expect(response.status).toBe(status);
      expect(response.headers.get("x-host-before")).toBe("set");
      expect(response.headers.get("x-host-after")).toBe("set");
      expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expectOwnHeaders(response);
      await response.arrayBuffer();
    });

    test(`${what}: a header the host set on c.res is kept`, async () => {
      const response = await send(onRes);
      expect(response.status).toBe(status);
      expect(response.headers.get("x-host-res")).toBe("set");
      expectOwnHeaders(response);
      await response.arrayBuffer();
    });

    test(`${what}: without host middleware, and through node:http, the backend's headers`, async () => {
      for (const base of [bare, node]) {
        const response = await send(base);
        expect(response.status).toBe(status);
        expectOwnHeaders(response);
        await response.arrayBuffer();
      }
    });
  }

  test("an incoming request id is kept on a fast answer", async () => {
    const response = await fetch(`${bare}/collections/notes/records/${id}`, { headers: { "x-request-id": "trace-1" } });
    expect(response.headers.get("x-request-id")).toBe("trace-1");
    expect(await response.json()).toMatchObject({ id, text: "hello" });
  });

  test("HEAD gets the headers of GET, without a body", async () => {
    const response = await fetch(`${bare}/collections/notes/records/${id}`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expectOwnHeaders(response);
    expect(await response.text()).toBe("");
  });
});
