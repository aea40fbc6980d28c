/**
 * The guard of the response headers' fast path of `cimiento/hono`, without timing anything:
 * behind `@hono/node-server`, a JSON answer whose headers nobody prepared gets the request id and
 * the security headers on its plain header object, without a Fetch `Headers`; an answer whose
 * headers a host middleware prepared gets them on its `Headers`, and keeps the host's. The fast
 * path reads a private slot of `@hono/node-server`'s Response: these tests pin that slot, so an
 * upgrade that moves it fails here instead of making every response slower unseen.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { afterAll, afterEach, beforeAll, expect, test, vi } from "vitest";
import { createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { toHono } from "cimiento/hono";
import { plainHeaders, responseCacheKey, SECURITY_HEADERS, setAnswerHeaders } from "../../src/http/response-headers.js";

const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections: {} });
afterAll(() => backend.close());

/** A host app with the backend mounted at its root (its `GET /health` answers JSON), and maybe a middleware of the host's. */
function app(host?: (c: Context) => void): Hono {
  const outer = new Hono();
  if (host !== undefined) {
    outer.use(async (c, next) => {
      host(c);
      await next();
    });
  }
  return outer.route("/", toHono(backend));
}

beforeAll(() => {
  // As a server does: @hono/node-server puts its own Response in place of the global one.
  getRequestListener(() => new Response(null));
});

afterEach(() => {
  vi.restoreAllMocks();
});

test("@hono/node-server's Response keeps [status, body, headers] in a symbol slot, with the headers object it was given", () => {
  expect(responseCacheKey()).toEqual(expect.any(Symbol));
  const headers = { "content-type": "application/json" };
  const response = new Response('{"id":"1"}', { status: 201, headers });
  expect((response as unknown as Record<symbol, unknown>)[responseCacheKey()!]).toEqual([201, '{"id":"1"}', headers]);
  expect(plainHeaders(response)).toBe(headers);
});

test("what is set on that object is what @hono/node-server writes to the socket", async () => {
  const server = createServer(getRequestListener((request) => app().fetch(request)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const set = vi.spyOn(Headers.prototype, "set");
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, { headers: { "x-request-id": "wire-1" } });
    // The server's Headers.set calls ran before the answer arrived: none came from the backend.
    const backendSets = set.mock.calls.filter(([name]) => name === "x-request-id" || SECURITY_HEADERS.some(([own]) => own === name));
    vi.restoreAllMocks();
    expect(backendSets).toEqual([]);
    expect(response.headers.get("x-request-id")).toBe("wire-1");
    for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
    expect(await response.json()).toEqual({ status: "ok" });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("a response of the platform's own Response class has no such object: the headers go on its Headers", () => {
  const Platform = Object.getPrototypeOf(globalThis.Response) as typeof Response;
  expect(Platform).not.toBe(globalThis.Response);
  const response = new Platform("{}", { headers: { "content-type": "application/json" } });
  expect(plainHeaders(response)).toBeUndefined();
  setAnswerHeaders(response, { "x-request-id": "fallback-1", "set-cookie": ["a=1", "b=2"], ...Object.fromEntries(SECURITY_HEADERS) });
  expect(response.headers.get("x-request-id")).toBe("fallback-1");
  expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
});

test("a JSON answer without prepared headers sets no header on a Fetch Headers", async () => {
  const set = vi.spyOn(Headers.prototype, "set");
  const append = vi.spyOn(Headers.prototype, "append");
  const response = await app().fetch(new Request("http://localhost/health", { headers: { "x-request-id": "trace-9" } }));
  expect(set).not.toHaveBeenCalled();
  expect(append).not.toHaveBeenCalled();
  vi.restoreAllMocks();
  expect(response.headers.get("x-request-id")).toBe("trace-9");
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
  expect(await response.json()).toEqual({ status: "ok" });
});

test("headers a host prepared before the answer are kept, with the backend's", async () => {
  const set = vi.spyOn(Headers.prototype, "set");
  const response = await app((c) => c.header("x-host", "before")).fetch(new Request("http://localhost/health"));
  expect(set).toHaveBeenCalled();
  vi.restoreAllMocks();
  expect(response.headers.get("x-host")).toBe("before");
  expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
});
