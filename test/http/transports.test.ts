/**
 * The three transports of the one HTTP core (`toNodeHandler`, `backend.fetch`, `toHono`) give
 * host code the same request: a Fetch `Request` with the client's method, URL, headers and body,
 * to a host's `resolve` and to an action's `request`. Through Node it is made lazily, and behaves
 * as a `Request` whatever is read of it, and can be passed on whole. `HEAD` has no body (and
 * holds no subscription), two Content-Types are refused on every mount. And what the Node
 * transport decides on its own: a malformed `Host` or target is refused, dot segments are
 * resolved, a body refused by its length or part-way closes its connection, a body whose client
 * left ends its read, and `node:http2`'s compatibility API serves it too. Behind `@hono/node-server`, a
 * POST without a body leaves Node's request ended when its answer is written.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect as http2Connect, createServer as createHttp2Server } from "node:http2";
import { connect } from "node:net";
import { inspect } from "node:util";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field, type Principal } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { sqlite } from "cimiento/sqlite";
import { NodeArrival } from "../../src/http/node-transport.js";
import { listening, postChunkedOverHttp, read, type Listening } from "./support.js";

const notes = collection("notes", {
  fields: { text: field.text(z.string().min(1)) },
  access: { list: () => true, get: () => true, create: () => true },
  realtime: true,
});

/** What the host's `resolve` saw of each request. */
const resolved: { isRequest: boolean; method: string; url: string; probe: string | null; shown: string }[] = [];

/** An action that answers what it reads of its request: the whole of it, body included. */
const echo = action({
  input: z.object({ text: z.string() }),
  http: { method: "POST", path: "/echo" },
  access: () => true,
  handler: async ({ request }) => ({
    isRequest: request instanceof Request,
    method: request!.method,
    path: new URL(request!.url).pathname,
    probe: request!.headers.get("x-probe"),
    body: await request!.clone().text(),
    aborted: request!.signal.aborted,
    // Passed on whole, as a proxying action would (which takes its body).
    copied: new Request(request!).url === request!.url,
  }),
});

/** An action without input, to POST without a body. */
const ping = action({
  input: z.object({}),
  http: { method: "POST", path: "/ping" },
  access: () => true,
  handler: () => ({ pong: true }),
});

const backend = createBackend({
  database: sqlite({ file: ":memory:" }),
  collections: { notes },
  actions: { echo, ping },
  http: { bodyLimit: 1024 },
  auth: {
    resolve: (request): Principal | null => {
      resolved.push({
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        probe: request.headers.get("x-probe"),
        shown: inspect(request),
      });
      return null;
    },
  },
});

const servers: Record<"node" | "fetch" | "hono", Listening> = {} as never;

beforeAll(async () => {
  await backend.migrate();
  servers.node = await listening(createServer(toNodeHandler(backend)).listen(0, "127.0.0.1"));
  servers.fetch = await listening(serve({ fetch: backend.fetch, port: 0, hostname: "127.0.0.1" }) as Server);
  servers.hono = await listening(serve({ fetch: new Hono().route("/", toHono(backend)).fetch, port: 0, hostname: "127.0.0.1" }) as Server);
});

afterAll(async () => {
  for (const server of Object.values(servers)) await server.close();
  await backend.close();
});

describe.each(["node", "fetch", "hono"] as const)("through %s", (way) => {
  test("the host's resolve gets a Request with the client's method, URL and headers", async () => {
    resolved.length = 0;
    const origin = servers[way].origin;
    const response = await fetch(`${origin}/collections/notes/records?limit=1`, { headers: { "x-probe": "resolve" } });
    expect(response.status).toBe(200);
    expect(resolved).toEqual([
      {
        isRequest: true,
        method: "GET",
        url: `${origin}/collections/notes/records?limit=1`,
        probe: "resolve",
        shown: expect.stringMatching(/^Request /),
      },
    ]);
  });

  test("an action reads the whole request, its body too, after the backend read it", async () => {
    const response = await fetch(`${servers[way].origin}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-probe": "action" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(await read(response)).toEqual({
      status: 200,
      type: "application/json",
      body: { isRequest: true, method: "POST", path: "/echo", probe: "action", body: '{"text":"hello"}', aborted: false, copied: true },
    });
  });

  test("HEAD of a subscription answers its headers and holds no subscription", async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${servers[way].origin}/collections/notes/subscribe`, { method: "HEAD" });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    }
    await expect.poll(() => backend.realtime.subscriptions).toBe(0);
  });

  test("two Content-Types are refused, as a Fetch Headers joins them", async () => {
    const response = await fetch(`${servers[way].origin}/collections/notes/records`, {
      method: "POST",
      headers: [
        ["content-type", "application/json"],
        ["content-type", "text/plain"],
      ],
      body: JSON.stringify({ text: "two types" }),
    });
    expect(await read(response)).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
  });

  test("HEAD answers the headers of GET, without a body", async () => {
    const response = await fetch(`${servers[way].origin}/health`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-request-id")).not.toBeNull();
    expect(await response.text()).toBe("");
  });
});

/** A raw HTTP/1.1 exchange: what the server answered, and whether it closed the connection after. */
function rawRequest(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers, setHost: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sends `bytes` on a new connection and resolves with all the server wrote until it closed it. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe.each(["fetch", "hono"] as const)("behind @hono/node-server, through %s", (way) => {
  test("an HTTP/1 POST with neither Content-Length nor Transfer-Encoding is answered, its Node request ended by the time the answer is written", async () => {
    const handler = way === "fetch" ? backend.fetch : new Hono().route("/", toHono(backend)).fetch;
    const server = serve({ fetch: handler, port: 0, hostname: "127.0.0.1" }) as Server;
    const ended: boolean[] = [];
    server.on("request", (incoming: IncomingMessage, outgoing: ServerResponse) => {
      outgoing.on("finish", () => ended.push(incoming.readableEnded));
    });
    const { origin, close } = await listening(server);
    try {
      // Two on one kept-alive connection, as clients send them, the second closing it.
      const kept = "POST /ping HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";
      const answer = await exchange(Number(new URL(origin).port), `${kept}POST /ping HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
      expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
      expect(answer.match(/\{"pong":true\}/g)).toHaveLength(2);
      // Otherwise @hono/node-server drains each request after its answer, with timers and listeners.
      expect(ended).toEqual([true, true]);
    } finally {
      await close();
    }
  });
});

test("through toHono, a body a host middleware put in place of the client's is read, though it declares no length", async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    const { text } = (await c.req.json()) as { text: string };
    c.req.raw = new Request(c.req.raw.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `${text}!` }) });
    await next();
  });
  const { origin, close } = await listening(serve({ fetch: app.route("/", toHono(backend)).fetch, port: 0, hostname: "127.0.0.1" }) as Server);
  try {
    const response = await fetch(`${origin}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hello" }) });
    expect(await read(response)).toMatchObject({ status: 200, body: { body: '{"text":"hello!"}' } });
  } finally {
    await close();
  }
});

describe("the Node transport", () => {
  const port = () => Number(new URL(servers.node.origin).port);

  test.each([
    ["a path", "example.com/collections/notes/records"],
    ["a query", "example.com?text=injected&"],
    ["a space", "a b"],
  ])("a Host header with %s is refused with 400 INVALID_REQUEST", async (_, host) => {
    const answered = await rawRequest(port(), "/health", { host });
    expect(answered.status).toBe(400);
    expect(JSON.parse(answered.body)).toMatchObject({ code: "INVALID_REQUEST" });
  });

  test("dot segments are resolved as a URL resolves them; a backslash is refused", async () => {
    const resolved = await rawRequest(port(), "/x/../health", { host: "localhost" });
    expect({ status: resolved.status, body: JSON.parse(resolved.body) }).toEqual({ status: 200, body: { status: "ok" } });
    const slashed = await rawRequest(port(), "/\\health", { host: "localhost" });
    expect(slashed.status).toBe(400);
    expect(JSON.parse(slashed.body)).toMatchObject({ code: "INVALID_REQUEST" });
  });

  test("a body over the limit by its Content-Length is 413, and the connection closes after it", async () => {
    const response = await fetch(`${servers.node.origin}/collections/notes/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "x".repeat(2000) }),
    });
    expect(await read(response)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    expect(response.headers.get("connection")).toBe("close");
  });

  test("a body whose client left before it was read ends the read at once", async () => {
    const outcome = new Promise<unknown>((resolve) => {
      const server = createServer((req, res) => {
        req.destroy();
        new NodeArrival(req, res).text(1024).then(resolve, (error: unknown) => resolve(error));
      }).listen(0, "127.0.0.1", () => {
        const req = httpRequest({ host: "127.0.0.1", port: (server.address() as { port: number }).port, method: "POST", path: "/", headers: { "content-length": "10" } });
        req.on("error", () => server.close());
        req.write("12345");
      });
    });
    expect(await outcome).toMatchObject({ code: "INVALID_JSON" });
  });

  test("a chunked body refused part-way is 413, and the connection closes after it", async () => {
    const response = await postChunkedOverHttp(`${servers.node.origin}/collections/notes/records`, ["x".repeat(1000), "x".repeat(1000)], {
      "content-type": "application/json",
    });
    expect(await read(response)).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    expect(response.headers.get("connection")).toBe("close");
  });

  test("node:http2's compatibility API serves it too, without the HTTP/1 Connection header", async () => {
    const server = createHttp2Server(toNodeHandler(backend) as never).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const client = http2Connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    try {
      const ask = (path: string) =>
        new Promise<{ status: unknown; requestId: unknown; body: string }>((resolve, reject) => {
          const stream = client.request({ ":path": path });
          let body = "";
          let head: Record<string, unknown> = {};
          stream.on("response", (headers) => (head = headers));
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => (body += chunk));
          stream.on("end", () => resolve({ status: head[":status"], requestId: head["x-request-id"], body }));
          stream.on("error", reject);
        });
      const health = await ask("/health");
      expect(health).toEqual({ status: 200, requestId: expect.any(String), body: '{"status":"ok"}' });
      const missing = await ask("/nothing");
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({ code: "ROUTE_NOT_FOUND" });
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test("through toHono, a Vary the host set before the answer is kept, and the backend's added to it", async () => {
  const withCors = createBackend({ database: sqlite({ file: ":memory:" }), collections: {}, http: { cors: { origin: ["https://a.example"] } } });
  try {
    const app = new Hono();
    app.use(async (c, next) => {
      c.header("vary", "Accept-Encoding");
      await next();
    });
    app.route("/", toHono(withCors));
    const response = await app.request("/health", { headers: { origin: "https://a.example" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("vary")).toBe("Accept-Encoding, Origin");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://a.example");
  } finally {
    await withCors.close();
  }
});
