/**
 * Errors over HTTP: each is an `application/problem+json` document (RFC 9457) with `type`,
 * `title`, `status`, `detail`, a stable `code` and the `requestId`, never a 500 for bad input;
 * an unexpected error is a 500 that shows nothing and reaches the backend's logger. Each runs
 * through fetch, Express (with `express.json()` in front) and Hono, on every database.
 */
import { beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field, type DatabaseAdapter, type Logger } from "cimiento";
import { describeEachServer, read, REQUEST_ID, type ServedBackend } from "./support.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };

const categories = collection("categories", { fields: { name: field.text().unique() }, access: open });

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    rank: field.integer().default(0),
    category: field.belongsTo("categories").optional(), // onDelete: "restrict"
  },
  access: open,
});

const explode = action({
  input: z.object({}),
  access: () => true,
  handler: () => {
    throw new Error("connect ECONNREFUSED 10.0.0.3:5432 (password hunter2)");
  },
});

const throwsText = action({
  input: z.object({}),
  access: () => true,
  handler: () => {
    // Not an Error: Hono's error handler takes Errors only, and this must be answered alike.
    throw "ledger unavailable (token sk_live_123)";
  },
});

const strict = action({
  input: z.object({ count: z.number().int().min(1) }),
  access: () => true,
  handler: ({ input }) => input,
});

/** What the backend's logger was given, per run. */
const logged: { message: string; details: Record<string, unknown> | undefined }[] = [];
const logger: Logger = { error: (message, details) => logged.push({ message, details }) };

/** The body limit of these suites: small, so that Express's own limit (100 kB) is not reached. */
const LIMIT = 16 * 1024;

/** The problem document of an error, with its request id. */
function problem(status: number, title: string, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return {
    status,
    type: "application/problem+json",
    body: { type: "about:blank", title, status, detail, code, requestId: expect.stringMatching(REQUEST_ID), ...extra },
  };
}

/**
 * Express's own answer: `express.json()` in front of the mount reads a JSON body before the
 * backend does, and answers a malformed or over-large one itself, with an HTML page. (Mount the
 * backend before `express.json()` to get problem documents; see express.test.ts.)
 */
async function expectExpressAnswered(response: Response, status: number): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(response.headers.get("x-request-id")).toBeNull();
}

function body(size: number): string {
  const prefix = '{"title":"';
  return `${prefix}${"x".repeat(size - prefix.length - 2)}"}`;
}

function chunks(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += size) parts.push(text.slice(at, at + size));
  return parts;
}

function errorBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({ database, collections: { posts, categories }, actions: { explode, throwsText, strict }, logger, http: { bodyLimit: LIMIT } });
}

function errorSuite(served: ServedBackend<ReturnType<typeof errorBackend>>) {
  beforeEach(() => {
    logged.length = 0;
  });

  test("malformed JSON is 400 INVALID_JSON", async () => {
    const response = await served.request("/collections/posts/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"title": "unfinished',
    });
    if (served.way === "express") return expectExpressAnswered(response, 400);
    const result = await read(response);
    expect(result).toEqual(problem(400, "Bad Request", "INVALID_JSON", expect.stringMatching(/^The body is not valid JSON: /)));
    expect(logged).toEqual([]);
  });

  test("malformed JSON to an action is 400 INVALID_JSON", async () => {
    const response = await served.request("/actions/strict", { method: "POST", headers: { "content-type": "application/json" }, body: "{,}" });
    if (served.way === "express") return expectExpressAnswered(response, 400);
    expect(await read(response)).toEqual(problem(400, "Bad Request", "INVALID_JSON", expect.stringMatching(/^The body is not valid JSON: /)));
  });

  test("a JSON body that is not an object is 400 INVALID_JSON", async () => {
    const result = await read(await served.json("POST", "/collections/posts/records", [{ title: "in an array" }]));
    expect(result).toEqual(problem(400, "Bad Request", "INVALID_JSON", "The body must be a JSON object."));
  });

  test("an empty body where a record is expected is 400 INVALID_JSON", async () => {
    const result = await read(await served.request("/collections/posts/records", { method: "POST" }));
    expect(result).toEqual(problem(400, "Bad Request", "INVALID_JSON", "The body must be a JSON object."));
  });

  test("a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const text = await read(
      await served.request("/collections/posts/records", { method: "POST", headers: { "content-type": "text/plain" }, body: "title=Hi" }),
    );
    expect(text).toEqual(
      problem(415, "Unsupported Media Type", "UNSUPPORTED_MEDIA_TYPE", "The body must be application/json, not text/plain."),
    );
    const form = await read(await served.request("/actions/strict", { method: "POST", body: new URLSearchParams({ count: "1" }) }));
    expect(form).toEqual(
      problem(
        415,
        "Unsupported Media Type",
        "UNSUPPORTED_MEDIA_TYPE",
        "The body must be application/json, not application/x-www-form-urlencoded;charset=UTF-8.",
      ),
    );
  });

  test("a +json media type is JSON", async () => {
    const response = await served.request("/collections/posts/records", {
      method: "POST",
      headers: { "content-type": "application/merge-patch+json; charset=utf-8" },
      body: JSON.stringify({ title: "merge" }),
    });
    expect(response.status).toBe(201);
  });

  test("a body larger than the limit (with Content-Length) is 413 PAYLOAD_TOO_LARGE", async () => {
    const response = await served.request("/collections/posts/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body(LIMIT + 1),
    });
    expect(await read(response)).toEqual(problem(413, "Content Too Large", "PAYLOAD_TOO_LARGE", `The body is larger than ${LIMIT} bytes.`));
  });

  test("a body of exactly the limit is read", async () => {
    const exact = `{"count":1,"pad":"${"x".repeat(LIMIT - 20)}"}`;
    expect(exact.length).toBe(LIMIT);
    const response = await served.request("/actions/strict", { method: "POST", headers: { "content-type": "application/json" }, body: exact });
    // zod's object strips the unknown "pad".
    expect(await read(response)).toEqual({ status: 200, type: "application/json", body: { count: 1 } });
  });

  test("a chunked body without Content-Length over the limit is 413 PAYLOAD_TOO_LARGE", async () => {
    const response = await served.postChunked("/collections/posts/records", chunks(body(LIMIT * 2), 1024), {
      "content-type": "application/json",
    });
    expect(await read(response)).toEqual(problem(413, "Content Too Large", "PAYLOAD_TOO_LARGE", `The body is larger than ${LIMIT} bytes.`));
    const { total } = await served.backend.system.data.posts.list({ count: true, limit: 0 });
    expect(total).toBe(1); // only "merge": nothing of the oversize bodies was written
  });

  test("a chunked body under the limit is read in full", async () => {
    const response = await served.postChunked("/collections/posts/records", chunks(JSON.stringify({ title: "chunked" }), 3), {
      "content-type": "application/json",
    });
    expect(await read(response)).toMatchObject({ status: 201, body: { title: "chunked" } });
  });

  test("an unknown collection is 404 COLLECTION_NOT_FOUND, on every collection route", async () => {
    const expected = problem(404, "Not Found", "COLLECTION_NOT_FOUND", 'There is no collection "nope".', { collection: "nope" });
    expect(await read(await served.request("/collections/nope/records"))).toEqual(expected);
    expect(await read(await served.json("POST", "/collections/nope/records", { title: "x" }))).toEqual(expected);
    expect(await read(await served.request("/collections/nope/records/1"))).toEqual(expected);
    expect(await read(await served.json("PATCH", "/collections/nope/records/1", {}))).toEqual(expected);
    expect(await read(await served.request("/collections/nope/records/1", { method: "DELETE" }))).toEqual(expected);
  });

  test("an unknown route is 404 ROUTE_NOT_FOUND", async () => {
    expect(await read(await served.request("/nothing/here"))).toEqual(
      problem(404, "Not Found", "ROUTE_NOT_FOUND", `No route for GET ${served.mounted("/nothing/here")}.`),
    );
    expect(await read(await served.request("/collections/posts/records", { method: "PUT" }))).toEqual(
      problem(404, "Not Found", "ROUTE_NOT_FOUND", `No route for PUT ${served.mounted("/collections/posts/records")}.`),
    );
    // Paths match exactly: no trailing slash.
    expect(await read(await served.request("/health/"))).toEqual(problem(404, "Not Found", "ROUTE_NOT_FOUND", `No route for GET ${served.mounted("/health/")}.`));
  });

  test("an unknown action is 404 ROUTE_NOT_FOUND", async () => {
    expect(await read(await served.json("POST", "/actions/nope", {}))).toEqual(
      problem(404, "Not Found", "ROUTE_NOT_FOUND", 'There is no action "nope".'),
    );
    // An inherited property is not an action either.
    expect(await read(await served.json("POST", "/actions/constructor", {}))).toMatchObject({ status: 404, body: { code: "ROUTE_NOT_FOUND" } });
  });

  test("an unknown field in where, orderBy or select is 400 INVALID_QUERY naming it", async () => {
    const where = encodeURIComponent(JSON.stringify({ titel: "x" }));
    expect(await read(await served.request(`/collections/posts/records?where=${where}`))).toEqual(
      problem(400, "Bad Request", "INVALID_QUERY", 'where.titel: "titel" is not a field of "posts"', { path: "where.titel" }),
    );
    expect(await read(await served.request("/collections/posts/records?orderBy=-titel"))).toEqual(
      // orderBy from a query string is a list, so the path names its position.
      problem(400, "Bad Request", "INVALID_QUERY", 'orderBy[0].titel: "titel" is not a field of "posts"', { path: "orderBy[0].titel" }),
    );
    expect(await read(await served.request("/collections/posts/records?select=titel"))).toEqual(
      problem(400, "Bad Request", "INVALID_QUERY", 'select: "titel" is not a field of "posts"', { path: "select" }),
    );
  });

  test("an unknown operator is 400 INVALID_QUERY naming it", async () => {
    const where = encodeURIComponent(JSON.stringify({ title: { like: "x%" } }));
    expect(await read(await served.request(`/collections/posts/records?where=${where}`))).toEqual(
      problem(400, "Bad Request", "INVALID_QUERY", expect.stringMatching(/^where\.title\.like: /), { path: "where.title.like" }),
    );
  });

  test("a value of the wrong type in where is 400 INVALID_QUERY", async () => {
    const where = encodeURIComponent(JSON.stringify({ rank: { gt: "three" } }));
    expect(await read(await served.request(`/collections/posts/records?where=${where}`))).toMatchObject({
      status: 400,
      body: { code: "INVALID_QUERY", path: "where.rank.gt" },
    });
  });

  test("invalid input of a write is 422 VALIDATION_FAILED with an issue per field", async () => {
    const result = await read(await served.json("POST", "/collections/posts/records", { title: "", rank: 1.5, colour: "red" }));
    expect(result).toEqual(
      problem(
        422,
        "Unprocessable Content",
        "VALIDATION_FAILED",
        'Invalid posts input: title: Too small: expected string to have >=1 characters; rank: Expected a whole number (integer), received 1.5; colour: Unknown field "colour"',
        {
          issues: [
            { path: ["title"], code: "too_small", message: "Too small: expected string to have >=1 characters" },
            { path: ["rank"], code: "invalid_type", message: "Expected a whole number (integer), received 1.5" },
            { path: ["colour"], code: "unrecognized_keys", message: 'Unknown field "colour"' },
          ],
        },
      ),
    );
  });

  test("a taken unique value is 409 UNIQUE_VIOLATION naming the fields", async () => {
    expect((await served.json("POST", "/collections/categories/records", { name: "news" })).status).toBe(201);
    expect(await read(await served.json("POST", "/collections/categories/records", { name: "news" }))).toEqual(
      problem(409, "Conflict", "UNIQUE_VIOLATION", "Another categories record already has this name.", { fields: ["name"] }),
    );
  });

  test("a belongsTo naming no record is 422 REFERENCE_NOT_FOUND", async () => {
    expect(await read(await served.json("POST", "/collections/posts/records", { title: "x", category: "nope" }))).toEqual(
      problem(422, "Unprocessable Content", "REFERENCE_NOT_FOUND", "posts.category points to a record that does not exist.", {
        issues: [{ path: ["category"], code: "reference_not_found", message: "No such record" }],
      }),
    );
  });

  test("deleting a record still referenced is 409 STILL_REFERENCED", async () => {
    const category = await served.backend.system.data.categories.create({ name: "in use" });
    const post = await served.backend.system.data.posts.create({ title: "filed", category: category.id });
    expect(await read(await served.request(`/collections/categories/records/${category.id}`, { method: "DELETE" }))).toEqual(
      problem(
        409,
        "Conflict",
        "STILL_REFERENCED",
        "This categories record is still referenced (by posts.category); delete or change those first.",
        { referencedBy: ["posts.category"] },
      ),
    );
    await served.backend.system.data.posts.delete(post.id);
  });

  test("invalid input of an action is 422 VALIDATION_FAILED with its issues", async () => {
    const result = await read(await served.json("POST", "/actions/strict", { count: 0 }));
    expect(result).toEqual(
      problem(422, "Unprocessable Content", "VALIDATION_FAILED", "Invalid input of strict: count: Too small: expected number to be >=1", {
        issues: [{ path: ["count"], code: "too_small", message: "Too small: expected number to be >=1" }],
      }),
    );
  });

  test("an unexpected error in an action is 500 INTERNAL with nothing internal, and the logger gets the original", async () => {
    const response = await served.json("POST", "/actions/explode", {});
    const text = await response.clone().text();
    expect(await read(response)).toEqual(problem(500, "Internal Server Error", "INTERNAL", "Something went wrong on our side."));
    expect(text).not.toMatch(/ECONNREFUSED|hunter2|10\.0\.0\.3|Error:|at /);
    expect(logged).toEqual([
      {
        message: "A request failed with an unexpected error.",
        details: {
          error: expect.objectContaining({ message: "connect ECONNREFUSED 10.0.0.3:5432 (password hunter2)" }),
          requestId: response.headers.get("x-request-id"),
          method: "POST",
          path: expect.stringMatching(/\/actions\/explode$/),
        },
      },
    ]);
    expect(logged[0]!.details!["error"]).toBeInstanceOf(Error);
  });

  test("a thrown value that is not an Error is 500 INTERNAL with nothing of it, and the logger gets the value", async () => {
    const response = await served.json("POST", "/actions/throwsText", {});
    const text = await response.clone().text();
    expect(await read(response)).toEqual(problem(500, "Internal Server Error", "INTERNAL", "Something went wrong on our side."));
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(text).not.toMatch(/ledger|sk_live/);
    expect(logged).toEqual([
      {
        message: "A request failed with an unexpected error.",
        details: {
          error: "ledger unavailable (token sk_live_123)",
          requestId: response.headers.get("x-request-id"),
          method: "POST",
          path: expect.stringMatching(/\/actions\/throwsText$/),
        },
      },
    ]);
  });

  test("an expected error (an ApiError) is not logged", async () => {
    await served.json("POST", "/actions/strict", { count: 0 });
    await served.request("/collections/nope/records");
    expect(logged).toEqual([]);
  });
}

describeEachServer("HTTP errors", errorBackend, errorSuite);

describeEachServer(
  "HTTP body limit by default",
  (database) => createBackend({ database, collections: { posts, categories } }),
  (served) => {
    // text/plain, so that express.json() in front lets it through: the backend's own limit is tested.
    const MiB = 1024 * 1024;

    test("a body of 1 MiB passes the limit (and, not being JSON, is 415)", async () => {
      const response = await served.request("/collections/posts/records", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x".repeat(MiB),
      });
      expect(response.status).toBe(415);
    });

    test("a body of 1 MiB and 1 byte is 413, with Content-Length or chunked", async () => {
      const sized = await served.request("/collections/posts/records", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x".repeat(MiB + 1),
      });
      expect(await read(sized)).toEqual(problem(413, "Content Too Large", "PAYLOAD_TOO_LARGE", `The body is larger than ${MiB} bytes.`));
      const chunked = await served.postChunked("/collections/posts/records", chunks("x".repeat(MiB + 1), 64 * 1024), {
        "content-type": "text/plain",
      });
      expect(await read(chunked)).toEqual(problem(413, "Content Too Large", "PAYLOAD_TOO_LARGE", `The body is larger than ${MiB} bytes.`));
    });
  },
);
