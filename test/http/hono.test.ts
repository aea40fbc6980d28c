/**
 * Mounting with Hono (`toHono` and `app.mount`) and with plain `node:http`, on real servers, on
 * every database: what differs between the ways to mount.
 */
import { createServer, type Server } from "node:http";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type DatabaseAdapter } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { listening, postChunkedOverHttp, read, REQUEST_ID, type Listening } from "./support.js";

const notes = collection("notes", {
  fields: { text: field.text(z.string().min(1)) },
  access: { list: () => true, get: () => true, create: () => true },
});

function notesBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({ database, collections: { notes }, http: { bodyLimit: 1024 } });
}

describeEachDatabase("Hono and node:http mounts", (db) => {
  let backend: ReturnType<typeof notesBackend>;
  let drop: () => Promise<void>;
  const servers: Listening[] = [];
  let mounted: string; // app.mount("/api", backend.fetch)
  let routed: string; // app.route("/api", toHono(backend)), with host middleware
  let plain: string; // http.createServer(toNodeHandler(backend))
  const hostErrors: Error[] = [];
  const errorsSeen: string[] = []; // c.error, as the host's middleware sees it

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = notesBackend(fresh.database);
    await backend.migrate();

    const withMount = new Hono();
    withMount.get("/", (c) => c.text("host routes live here"));
    withMount.mount("/api", backend.fetch);
    servers.push(await listening(serve({ fetch: withMount.fetch, port: 0, hostname: "127.0.0.1" }) as Server));

    const withRoute = new Hono();
    // The host's middleware runs before the backend's routes.
    withRoute.use("/api/*", async (c, next) => {
      await next();
      c.header("x-host-middleware", "ran");
      if (c.error !== undefined) errorsSeen.push((c.error as { code?: string }).code ?? c.error.message);
    });
    // The host's onError never sees an error of the backend's routes: they answer their own.
    withRoute.onError((error, c) => {
      hostErrors.push(error);
      return c.text("the host's answer", 500);
    });
    const api = toHono(backend);
    withRoute.route("/api", api);
    servers.push(await listening(serve({ fetch: withRoute.fetch, port: 0, hostname: "127.0.0.1" }) as Server));

    servers.push(await listening(createServer(toNodeHandler(backend)).listen(0, "127.0.0.1")));
    [mounted, routed, plain] = servers.map((server) => server.origin) as [string, string, string];
    mounted += "/api";
    routed += "/api";
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await backend.close();
    await drop();
  });

  async function createAndList(base: string, text: string): Promise<void> {
    const created = await read(
      await fetch(`${base}/collections/notes/records`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) }),
    );
    expect(created).toMatchObject({ status: 201, body: { text } });
    const where = encodeURIComponent(JSON.stringify({ text }));
    expect((await read(await fetch(`${base}/collections/notes/records?where=${where}`))).body).toEqual({ items: [created.body], nextCursor: null });
  }

  test("app.mount('/api', backend.fetch): every route, and the backend's own 404 problem", async () => {
    await createAndList(mounted, "mounted");
    const missing = await read(await fetch(`${mounted}/nothing`));
    expect(missing).toMatchObject({ status: 404, type: "application/problem+json", body: { code: "ROUTE_NOT_FOUND", detail: "No route for GET /nothing." } });
    expect(await (await fetch(`${mounted.slice(0, -4)}/`)).text()).toBe("host routes live here");
  });

  test("app.mount: a chunked body over the limit is 413", async () => {
    const response = await postChunkedOverHttp(`${mounted}/collections/notes/records`, ["x".repeat(1000), "x".repeat(1000)], {
      "content-type": "application/json",
    });
    expect(await read(response)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
  });

  test("app.route('/api', toHono(backend)): every route, after the host's middleware", async () => {
    await createAndList(routed, "routed");
    const response = await fetch(`${routed}/health`);
    expect(response.headers.get("x-host-middleware")).toBe("ran");
    expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  test("app.route: an unknown path under the mount is the backend's ROUTE_NOT_FOUND problem", async () => {
    const missing = await read(await fetch(`${routed}/nothing`));
    expect(missing).toMatchObject({ status: 404, type: "application/problem+json", body: { code: "ROUTE_NOT_FOUND" } });
  });

  test("app.route: an error in a route is the backend's problem, with the backend's headers and after the host's middleware", async () => {
    errorsSeen.length = 0;
    const response = await fetch(`${routed}/collections/notes/records`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "routed-error-1" },
      body: JSON.stringify({ text: "" }),
    });
    expect(response.headers.get("x-request-id")).toBe("routed-error-1");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-host-middleware")).toBe("ran");
    expect(await read(response)).toMatchObject({ status: 422, type: "application/problem+json", body: { code: "VALIDATION_FAILED" } });
    // An error of the backend's own middleware (the body limit), too.
    const large = await fetch(`${routed}/collections/notes/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(2000) }),
    });
    expect(large.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(await read(large)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    expect(hostErrors).toEqual([]);
    expect(errorsSeen).toEqual(["VALIDATION_FAILED", "PAYLOAD_TOO_LARGE"]);
  });

  test("toHono's routes answer their own errors: Hono's route() wraps none of them in an error layer made per request", () => {
    // What Hono's route() marks a handler it wraps with: found on an app that has an onError.
    const probe = new Hono();
    probe.onError((_error, c) => c.text("probe", 500));
    probe.get("/", (c) => c.text("probe"));
    const markers = Object.keys(new Hono().route("/", probe).routes[0]!.handler);
    expect(markers.length).toBeGreaterThan(0);
    const api = toHono(backend);
    for (const routes of [api.routes, new Hono().route("/api", api).routes]) {
      for (const route of routes) expect(Object.keys(route.handler).filter((key) => markers.includes(key)), `${route.method} ${route.path}`).toEqual([]);
    }
    // The backend's routes, then the catch-all that answers ROUTE_NOT_FOUND.
    expect(api.routes.map(({ method, path }) => `${method} ${path}`)).toEqual([...partsOf(backend).core.routes.map(({ method, path }) => `${method} ${path}`), "ALL /*"]);
  });

  test("node:http createServer(toNodeHandler(backend)): every route, errors and the body limit", async () => {
    await createAndList(plain, "plain");
    expect(await read(await fetch(`${plain}/nothing`))).toMatchObject({ status: 404, body: { code: "ROUTE_NOT_FOUND" } });
    const response = await postChunkedOverHttp(`${plain}/collections/notes/records`, ["x".repeat(1000), "x".repeat(1000)], {
      "content-type": "application/json",
    });
    expect(await read(response)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
  });
});
