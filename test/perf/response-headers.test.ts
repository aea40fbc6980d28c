/**
 * The guard of the response headers' fast path, without timing anything: behind
 * `@hono/node-server`, a JSON answer whose headers nobody prepared gets the request id and the
 * security headers on its plain header object, without a Fetch `Headers`; an answer whose
 * headers a host middleware prepared gets them on its `Headers`, and keeps the host's.
 */
import { getRequestListener } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { afterEach, beforeAll, expect, test, vi } from "vitest";
import { frame, SECURITY_HEADERS } from "../../src/http/frame.js";

type Env = { Variables: { requestId: string } };

function app(host?: (c: Context) => void): Hono<Env> {
  const outer = new Hono<Env>();
  if (host !== undefined) {
    outer.use(async (c, next) => {
      host(c as unknown as Context);
      await next();
    });
  }
  const inner = new Hono<Env>();
  inner.use(frame<Env>(undefined, async () => new Response(null, { status: 500 })));
  inner.get("/record", (c) => c.json({ id: "1", title: "A" }));
  return outer.route("/", inner);
}

beforeAll(() => {
  // As a server does: @hono/node-server puts its own Response in place of the global one.
  getRequestListener(() => new Response(null));
});

afterEach(() => {
  vi.restoreAllMocks();
});

test("a JSON answer without prepared headers sets no header on a Fetch Headers", async () => {
  const set = vi.spyOn(Headers.prototype, "set");
  const append = vi.spyOn(Headers.prototype, "append");
  const response = await app().fetch(new Request("http://localhost/record", { headers: { "x-request-id": "trace-9" } }));
  expect(set).not.toHaveBeenCalled();
  expect(append).not.toHaveBeenCalled();
  vi.restoreAllMocks();
  expect(response.headers.get("x-request-id")).toBe("trace-9");
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
  expect(await response.json()).toEqual({ id: "1", title: "A" });
});

test("headers a host prepared before the answer are kept, with the backend's", async () => {
  const set = vi.spyOn(Headers.prototype, "set");
  const response = await app((c) => c.header("x-host", "before")).fetch(new Request("http://localhost/record"));
  expect(set).toHaveBeenCalled();
  vi.restoreAllMocks();
  expect(response.headers.get("x-host")).toBe("before");
  expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
});
