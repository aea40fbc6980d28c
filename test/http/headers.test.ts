/**
 * What every response carries, and what a host configures: a request id (an incoming
 * `X-Request-Id` is kept), security headers, CORS when configured (and none when not), and
 * `formatError` for a host's own error shape. Each runs through fetch, Express and Hono, on
 * every database.
 */
import { beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field, type Logger } from "cimiento";
import { describeEachServer, noContentType, read, REQUEST_ID, type ServedBackend, type ServableBackend } from "./support.js";

const posts = collection("posts", {
  fields: { title: field.text(z.string().min(1)) },
  access: { list: () => true, get: () => true, create: () => true, delete: () => true },
});

const explode = action({
  input: z.object({}),
  access: () => true,
  handler: () => {
    throw new TypeError("Cannot read properties of undefined (reading 'secret')");
  },
});

const teapot = action({
  input: z.object({}),
  access: () => true,
  handler: () => {
    throw new ApiError(418, "TEAPOT", "I am a teapot", { brewing: "earl grey" });
  },
});

const actions = { explode, teapot };

/** The security headers on every response of the backend. */
const SECURITY_HEADERS = {
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

function headersOf(response: Response, prefix: string): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith(prefix)));
}

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), name).toBe(value);
  // Off on purpose: the API is meant to be called from other origins (CORS decides).
  expect(response.headers.get("cross-origin-resource-policy")).toBeNull();
}

/** One request of each kind of response: success, created, no content, and errors. */
function everyKind(served: ServedBackend<ServableBackend>): [string, () => Promise<Response>][] {
  return [
    ["200", () => served.request("/health")],
    ["201", () => served.json("POST", "/collections/posts/records", { title: "Hello" })],
    ["204", async () => {
      const created = (await (await served.json("POST", "/collections/posts/records", { title: "Bye" })).json()) as { id: string };
      return served.request(`/collections/posts/records/${created.id}`, { method: "DELETE" });
    }],
    ["400", () => served.request("/collections/posts/records?limit=many")],
    ["404", () => served.request("/collections/nope/records")],
    ["413", () => served.postChunked("/collections/posts/records", ["x".repeat(1024 * 1024), "x"], { "content-type": "text/plain" })],
    ["415", () => served.request("/collections/posts/records", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" })],
    ["422", () => served.json("POST", "/collections/posts/records", { title: "" })],
    ["500", () => served.json("POST", "/actions/explode", {})],
  ];
}

/** The details the backend's logger was given. */
const logged: Record<string, unknown>[] = [];
const logger: Logger = { error: (_message, details) => logged.push(details ?? {}) };

describeEachServer(
  "HTTP request ids and security headers",
  (database) => createBackend({ database, collections: { posts }, actions, logger }),
  (served) => {
    for (const [kind, send] of everyKind(served)) {
      test(`a ${kind} response has a request id and the security headers`, async () => {
        const response = await send();
        expect(response.status).toBe(Number(kind));
        expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
        expectSecurityHeaders(response);
        // No CORS configured: no CORS headers.
        expect(headersOf(response, "access-control-")).toEqual({});
      });
    }

    test("each request gets its own id, and an error's body names it", async () => {
      const one = await served.request("/collections/nope/records");
      const two = await served.request("/collections/nope/records");
      const [a, b] = [one.headers.get("x-request-id"), two.headers.get("x-request-id")];
      expect(a).not.toBe(b);
      expect(((await one.json()) as { requestId: string }).requestId).toBe(a);
    });

    test("an incoming X-Request-Id is kept: on the response, in the error body, and for the logger", async () => {
      logged.length = 0;
      const ok = await served.request("/health", { headers: { "x-request-id": "edge-7f3a=" } });
      expect(ok.headers.get("x-request-id")).toBe("edge-7f3a=");
      const failed = await served.request("/collections/nope/records", { headers: { "X-Request-Id": "trace_42" } });
      expect(failed.headers.get("x-request-id")).toBe("trace_42");
      expect(await failed.json()).toMatchObject({ code: "COLLECTION_NOT_FOUND", requestId: "trace_42" });
      const crashed = await served.request("/actions/explode", { method: "POST", headers: { "x-request-id": "trace_43" } });
      expect(await crashed.json()).toMatchObject({ code: "INTERNAL", requestId: "trace_43" });
      expect(logged).toEqual([expect.objectContaining({ requestId: "trace_43" })]);
    });

    test("an incoming X-Request-Id that is not a safe token is replaced", async () => {
      for (const unsafe of ["has space", "semi;colon", "x".repeat(256)]) {
        const response = await served.request("/health", { headers: { "x-request-id": unsafe } });
        expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
      }
    });

    test("without CORS, a preflight gets no CORS headers (browsers then refuse the call)", async () => {
      const response = await served.request("/collections/posts/records", {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST" },
      });
      expect(headersOf(response, "access-control-")).toEqual({});
      expect(response.status).toBe(404);
    });

    test("without CORS, a cross-origin request is served without CORS headers", async () => {
      const response = await served.request("/health", { headers: { origin: "https://app.example" } });
      expect(response.status).toBe(200);
      expect(headersOf(response, "access-control-")).toEqual({});
      expect(response.headers.get("vary")).toBeNull();
    });
  },
);

describeEachServer(
  "HTTP CORS",
  (database) =>
    createBackend({
      database,
      collections: { posts },
      actions,
      logger,
      http: { cors: { origin: ["https://app.example"], credentials: true, exposeHeaders: ["X-Request-Id"] } },
    }),
  (served) => {
    test("a preflight from an allowed origin is 204 with the CORS headers", async () => {
      const response = await served.request("/collections/posts/records", {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type, authorization",
        },
      });
      expect(await read(response)).toEqual({ status: 204, type: noContentType(served.way), body: null });
      expect(headersOf(response, "access-control-")).toEqual({
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET,POST,PATCH,DELETE,PUT",
        "access-control-allow-headers": "content-type,authorization",
        "access-control-expose-headers": "X-Request-Id",
        "access-control-max-age": "600",
      });
      expect(response.headers.get("vary")).toBe("Origin, Access-Control-Request-Headers");
      expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expectSecurityHeaders(response);
    });

    test("a simple request from an allowed origin gets Access-Control-Allow-Origin and Vary", async () => {
      const response = await served.request("/health", { headers: { origin: "https://app.example" } });
      expect(response.status).toBe(200);
      expect(headersOf(response, "access-control-")).toEqual({
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "X-Request-Id",
      });
      expect(response.headers.get("vary")).toBe("Origin");
    });

    test("an error answered to an allowed origin has the CORS headers too, so the page can read it", async () => {
      const response = await served.request("/collections/nope/records", { headers: { origin: "https://app.example" } });
      expect(response.status).toBe(404);
      expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example");
      expect(response.headers.get("access-control-expose-headers")).toBe("X-Request-Id");
    });

    test("another origin is not allowed: no Access-Control-Allow-Origin", async () => {
      const preflight = await served.request("/collections/posts/records", {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "DELETE" },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      const simple = await served.request("/health", { headers: { origin: "https://evil.example" } });
      expect(simple.headers.get("access-control-allow-origin")).toBeNull();
      expect(simple.headers.get("vary")).toBe("Origin");
    });
  },
);

describeEachServer(
  "HTTP CORS with an origin function",
  (database) =>
    createBackend({ database, collections: { posts }, http: { cors: { origin: (origin) => origin.endsWith(".example.com") } } }),
  (served) => {
    test("the function decides per origin", async () => {
      const allowed = await served.request("/health", { headers: { origin: "https://admin.example.com" } });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://admin.example.com");
      expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
      const refused = await served.request("/health", { headers: { origin: "https://example.org" } });
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    });
  },
);

/** What formatError was given. */
const formatted: { code: string; message: string; path: string }[] = [];

describeEachServer(
  "HTTP formatError",
  (database) =>
    createBackend({
      database,
      collections: { posts },
      actions,
      logger,
      http: {
        bodyLimit: 1024,
        cors: { origin: "*" },
        // A host's own error shape (here, the RealWorld API's).
        formatError: async (error, request) => {
          formatted.push({ code: error.code, message: error.message, path: new URL(request.url).pathname });
          return Response.json(
            { errors: { body: [error.message] }, code: error.code, ...(error.issues.length > 0 ? { issues: error.issues } : {}) },
            { status: error.status, headers: { "x-error-code": error.code } },
          );
        },
      },
    }),
  (served) => {
    beforeEach(() => {
      formatted.length = 0;
      logged.length = 0;
    });

    test("an error has the host's shape and status, and keeps the request id and security headers", async () => {
      const response = await served.request("/collections/nope/records");
      expect(await read(response)).toEqual({
        status: 404,
        type: "application/json",
        body: { errors: { body: ['There is no collection "nope".'] }, code: "COLLECTION_NOT_FOUND" },
      });
      expect(response.headers.get("x-error-code")).toBe("COLLECTION_NOT_FOUND");
      expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expectSecurityHeaders(response);
      expect(response.headers.get("access-control-allow-origin")).toBe("*"); // CORS headers are kept too
      expect(formatted).toEqual([
        { code: "COLLECTION_NOT_FOUND", message: 'There is no collection "nope".', path: expect.stringMatching(/\/collections\/nope\/records$/) },
      ]);
    });

    test("validation issues reach formatError", async () => {
      const response = await served.json("POST", "/collections/posts/records", { title: "" });
      expect(await read(response)).toEqual({
        status: 422,
        type: "application/json",
        body: {
          errors: { body: ["Invalid posts input: title: Too small: expected string to have >=1 characters"] },
          code: "VALIDATION_FAILED",
          issues: [{ path: ["title"], code: "too_small", message: "Too small: expected string to have >=1 characters" }],
        },
      });
    });

    test("a host's own ApiError from an action, with its status and code", async () => {
      const response = await served.json("POST", "/actions/teapot", {});
      expect(await read(response)).toEqual({
        status: 418,
        type: "application/json",
        body: { errors: { body: ["I am a teapot"] }, code: "TEAPOT" },
      });
    });

    test("an unexpected error reaches formatError as the safe 500, and the logger as it was", async () => {
      const response = await served.json("POST", "/actions/explode", {});
      expect(await read(response)).toEqual({
        status: 500,
        type: "application/json",
        body: { errors: { body: ["Something went wrong on our side."] }, code: "INTERNAL" },
      });
      expect(logged).toEqual([expect.objectContaining({ error: expect.any(TypeError) })]);
      expect((logged[0]!["error"] as Error).message).toBe("Cannot read properties of undefined (reading 'secret')");
    });

    test("a body over the limit reaches formatError as PAYLOAD_TOO_LARGE", async () => {
      const response = await served.postChunked("/collections/posts/records", ["x".repeat(1000), "x".repeat(1000)], {
        "content-type": "text/plain",
      });
      expect(await read(response)).toEqual({
        status: 413,
        type: "application/json",
        body: { errors: { body: ["The body is larger than 1024 bytes."] }, code: "PAYLOAD_TOO_LARGE" },
      });
    });

    test("an unknown route reaches formatError as ROUTE_NOT_FOUND", async () => {
      const response = await served.request("/nothing");
      expect(await read(response)).toEqual({
        status: 404,
        type: "application/json",
        body: { errors: { body: [`No route for GET ${served.mounted("/nothing")}.`] }, code: "ROUTE_NOT_FOUND" },
      });
    });
  },
);
