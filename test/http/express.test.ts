/**
 * Express 5 specifics of `toNodeHandler`: mounted under a path (also through a router), at the
 * root after the host's routes, with and without `express.json()` in front (a body it parsed is
 * passed on), and other body parsers; the host's routes beside it keep working. On every
 * database, on real servers.
 */
import type { Server } from "node:http";
import express from "express";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field, type DatabaseAdapter } from "cimiento";
import { toNodeHandler } from "cimiento/node";
import { describeEachDatabase } from "../setup/dialects.js";
import { HOST_ROUTE, listening, postChunkedOverHttp, read, REQUEST_ID, startExpress, type Listening } from "./support.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };
const posts = collection("posts", { fields: { title: field.text(z.string().min(1)), rank: field.integer().default(0) }, access: open });

const rename = action({
  input: z.object({ id: z.string(), title: z.string() }),
  http: { method: "POST", path: "/posts/:id/rename" },
  access: () => true,
  handler: ({ input, data }) => data.posts.update(input.id, { title: input.title }),
});

/** An action whose input is a JSON string, not an object. */
const shout = action({ input: z.string(), access: () => true, handler: ({ input }) => input.toUpperCase() });

const LIMIT = 4096;

function expressBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({ database, collections: { posts }, actions: { rename, shout }, http: { bodyLimit: LIMIT } });
}

describeEachDatabase("Express", (db) => {
  let backend: ReturnType<typeof expressBackend>;
  let drop: () => Promise<void>;
  const servers: Listening[] = [];

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = expressBackend(fresh.database);
    await backend.migrate();
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await backend.close();
    await drop();
  });

  /** Keeps a server to close in afterAll; returns its origin. */
  function track(server: Listening): string {
    servers.push(server);
    return server.origin;
  }

  async function start(app: express.Express): Promise<string> {
    return track(await listening(app.listen(0, "127.0.0.1") as Server));
  }

  /** Creates, lists, gets, renames through a binding, and deletes a post under `base`. */
  async function roundTrip(base: string): Promise<void> {
    const created = await fetch(`${base}/collections/posts/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{ "title" : "h\\u00e9llo \u2713", "rank": 1e1 }',
    });
    expect(created.status).toBe(201);
    const post = (await created.json()) as { id: string; title: string; rank: number };
    expect(post).toMatchObject({ title: "héllo ✓", rank: 10 });

    const listed = await fetch(`${base}/collections/posts/records?where=${encodeURIComponent(JSON.stringify({ id: post.id }))}`);
    expect(await listed.json()).toEqual({ items: [post], nextCursor: null });

    const renamed = await fetch(`${base}/posts/${post.id}/rename`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "renamed" }),
    });
    expect(await read(renamed)).toMatchObject({ status: 200, body: { id: post.id, title: "renamed" } });

    const patched = await fetch(`${base}/collections/posts/records/${post.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rank: 2 }),
    });
    expect(await read(patched)).toMatchObject({ status: 200, body: { rank: 2 } });

    const deleted = await fetch(`${base}/collections/posts/records/${post.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
  }

  async function expectProblem(response: Response, status: number, code: string): Promise<void> {
    expect(await read(response)).toMatchObject({ status, type: "application/problem+json", body: { status, code, requestId: expect.stringMatching(REQUEST_ID) } });
  }

  const malformed = { method: "POST", headers: { "content-type": "application/json" }, body: '{"title":' };

  describe("without a body parser", () => {
    let origin: string;
    beforeAll(async () => {
      origin = track(await startExpress(backend, { json: "none" }));
    });

    test("every route works under the mount path", () => roundTrip(`${origin}/api`));

    test("the backend reads the body itself: malformed JSON is its own 400 INVALID_JSON", async () => {
      await expectProblem(await fetch(`${origin}/api/collections/posts/records`, malformed), 400, "INVALID_JSON");
    });

    test("a chunked body over the limit is 413", async () => {
      const chunks = ['{"title":"', "x".repeat(LIMIT), '"}'];
      const response = await postChunkedOverHttp(`${origin}/api/collections/posts/records`, chunks, { "content-type": "application/json" });
      await expectProblem(response, 413, "PAYLOAD_TOO_LARGE");
    });

    test("the host's routes beside it answer, and never reach the backend", async () => {
      expect(await read(await fetch(`${origin}${HOST_ROUTE.path}`))).toMatchObject({ status: 200, body: HOST_ROUTE.body });
      const echo = await fetch(`${origin}${HOST_ROUTE.path}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(await echo.json()).toEqual({ received: null }); // no parser: Express did not read it
      const outside = await fetch(`${origin}/elsewhere`);
      expect(outside.status).toBe(404);
      expect(outside.headers.get("x-request-id")).toBeNull();
    });
  });

  describe("with express.json() in front", () => {
    let origin: string;
    beforeAll(async () => {
      origin = track(await startExpress(backend, { json: "before" }));
    });

    test("every route works: the body express.json() parsed is passed on", () => roundTrip(`${origin}/api`));

    test("an action's JSON body, parsed by express.json(), is its input", async () => {
      const post = await backend.system.data.posts.create({ title: "before" });
      const response = await fetch(`${origin}/api/actions/rename`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: post.id, title: "after" }),
      });
      expect(await read(response)).toMatchObject({ status: 200, body: { title: "after" } });
    });

    test("a body over the backend's limit is still 413 (with Content-Length or chunked)", async () => {
      const big = JSON.stringify({ title: "x".repeat(LIMIT) });
      const sized = await fetch(`${origin}/api/collections/posts/records`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
      await expectProblem(sized, 413, "PAYLOAD_TOO_LARGE");
      const chunked = await postChunkedOverHttp(`${origin}/api/collections/posts/records`, [big.slice(0, 100), big.slice(100)], {
        "content-type": "application/json",
      });
      await expectProblem(chunked, 413, "PAYLOAD_TOO_LARGE");
    });

    test("a body that is not JSON is left to the backend: 415", async () => {
      const response = await fetch(`${origin}/api/collections/posts/records`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
      await expectProblem(response, 415, "UNSUPPORTED_MEDIA_TYPE");
    });

    test("malformed JSON is answered by express.json() itself (400, HTML), before the backend", async () => {
      const response = await fetch(`${origin}/api/collections/posts/records`, malformed);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("x-request-id")).toBeNull();
    });

    test("a body over express.json()'s own limit (100 kB) is answered by Express (413, HTML)", async () => {
      const response = await fetch(`${origin}/api/collections/posts/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "x".repeat(200 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("x-request-id")).toBeNull();
    });

    test("the host's routes get the parsed body too", async () => {
      const echo = await fetch(`${origin}${HOST_ROUTE.path}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ a: 1 }),
      });
      expect(await echo.json()).toEqual({ received: { a: 1 } });
    });
  });

  describe("with express.json() after the mount", () => {
    let origin: string;
    beforeAll(async () => {
      origin = track(await startExpress(backend, { json: "after" }));
    });

    test("the backend reads its own bodies: malformed JSON is its 400 INVALID_JSON problem", async () => {
      await roundTrip(`${origin}/api`);
      await expectProblem(await fetch(`${origin}/api/collections/posts/records`, malformed), 400, "INVALID_JSON");
    });

    test("the host's routes still get their parsed bodies", async () => {
      const echo = await fetch(`${origin}${HOST_ROUTE.path}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ b: 2 }),
      });
      expect(await echo.json()).toEqual({ received: { b: 2 } });
    });
  });

  describe("with other body parsers in front", () => {

    for (const [name, parser] of [
      ["express.text({ type: 'application/json' })", () => express.text({ type: "application/json" })],
      ["express.raw({ type: 'application/json' })", () => express.raw({ type: "application/json" })],
    ] as const) {
      test(`${name}: the body it read is passed on`, async () => {
        const app = express();
        app.use(parser());
        app.use("/api", toNodeHandler(backend));
        await roundTrip(`${await start(app)}/api`);
      });
    }

    test("express.urlencoded(): a form body is still not JSON (415)", async () => {
      const app = express();
      app.use(express.urlencoded());
      app.use("/api", toNodeHandler(backend));
      const origin = await start(app);
      const response = await fetch(`${origin}/api/collections/posts/records`, { method: "POST", body: new URLSearchParams({ title: "form" }) });
      await expectProblem(response, 415, "UNSUPPORTED_MEDIA_TYPE");
    });

    test("a JSON string body reaches an action whose input is a string (no body parser)", async () => {
      const app = express();
      app.use("/api", toNodeHandler(backend));
      const origin = await start(app);
      const response = await fetch(`${origin}/api/actions/shout`, { method: "POST", headers: { "content-type": "application/json" }, body: '"hi"' });
      expect(await read(response)).toEqual({ status: 200, type: "application/json", body: "HI" });
    });

    test("a JSON string body parsed by express.json({ strict: false }) reaches the action", async () => {
      const app = express();
      app.use(express.json({ strict: false }));
      app.use("/api", toNodeHandler(backend));
      const origin = await start(app);
      const response = await fetch(`${origin}/api/actions/shout`, { method: "POST", headers: { "content-type": "application/json" }, body: '"hi"' });
      expect(await read(response)).toEqual({ status: 200, type: "application/json", body: "HI" });
    });
  });

  describe("mounted elsewhere", () => {

    test("under a deeper path, through a Router", async () => {
      const app = express();
      const v1 = express.Router();
      v1.get("/status", (_req, res) => {
        res.json({ v1: true });
      });
      v1.use("/data", toNodeHandler(backend));
      app.use(express.json());
      app.use("/v1", v1);
      const origin = await start(app);
      await roundTrip(`${origin}/v1/data`);
      expect(await (await fetch(`${origin}/v1/status`)).json()).toEqual({ v1: true });
      // Paths in the backend's answers are relative to the mount.
      expect(await read(await fetch(`${origin}/v1/data/nothing`))).toMatchObject({
        status: 404,
        body: { code: "ROUTE_NOT_FOUND", detail: "No route for GET /nothing." },
      });
    });

    test("with express.json() given only to the host's routes, the backend reads its own bodies", async () => {
      const app = express();
      app.use("/api", toNodeHandler(backend));
      app.post("/host/echo", express.json(), (req, res) => {
        res.json({ received: req.body });
      });
      const origin = await start(app);
      await roundTrip(`${origin}/api`);
      await expectProblem(await fetch(`${origin}/api/collections/posts/records`, malformed), 400, "INVALID_JSON");
      const echo = await fetch(`${origin}/host/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"c":3}' });
      expect(await echo.json()).toEqual({ received: { c: 3 } });
    });

    test("at the root, after the host's routes: it answers everything they do not", async () => {
      const app = express();
      app.use(express.json());
      app.get(HOST_ROUTE.path, (_req, res) => {
        res.json(HOST_ROUTE.body);
      });
      app.use(toNodeHandler(backend));
      const origin = await start(app);
      await roundTrip(origin);
      expect(await (await fetch(`${origin}${HOST_ROUTE.path}`)).json()).toEqual(HOST_ROUTE.body);
      expect(await read(await fetch(`${origin}/elsewhere`))).toMatchObject({ status: 404, body: { code: "ROUTE_NOT_FOUND" } });
    });
  });
});
