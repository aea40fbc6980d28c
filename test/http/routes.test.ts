/**
 * Every route of the HTTP API: the collection routes, `GET /health`, `POST /actions/:name`, and
 * actions bound to routes of their own (path params, query and body merged into the input;
 * their success status; 204 for no result). Each runs through fetch, Express and Hono, on every
 * database.
 */
import { expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field } from "cimiento";
import { describeEachServer, HOST_ROUTE, MOUNT, noContentType, read, REQUEST_ID } from "./support.js";

const open = { list: () => true, get: () => true, create: () => true, update: () => true, delete: () => true };

const users = collection("users", { fields: { name: field.text(z.string().min(1)) }, access: open });
const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1).max(200)),
    published: field.boolean().default(false),
    rank: field.integer().default(0),
    author: field.belongsTo("users").optional(),
  },
  access: open,
});
const collections = { users, posts };

/** Echoes its input: shows how path params, query and body are merged. */
const echo = action({
  input: z.object({ id: z.string(), slot: z.string(), q: z.string().optional(), b: z.string().optional() }),
  http: { method: "PUT", path: "/echo/:id/:slot", status: 202 },
  access: () => true,
  handler: ({ input }) => input,
});

const publish = action({
  input: z.object({ id: z.string() }),
  http: { method: "POST", path: "/posts/:id/publish" },
  access: () => true,
  handler: ({ input, data }) => data.posts.update(input.id, { published: true }),
});

/** A GET-bound action: its input is the path params and the query. */
const postCount = action({
  input: z.object({ published: z.enum(["true", "false"]), minRank: z.coerce.number().int().default(0) }),
  http: { method: "GET", path: "/stats/:published" },
  access: () => true,
  async handler({ input, data }) {
    // Without a Register declaration, `data` is typed for any collection: the where is cast.
    const where = { published: input.published === "true", rank: { gte: input.minRank } } as never;
    const count = await data.posts.count({ where });
    return { published: input.published, minRank: input.minRank, count };
  },
});

const hello = action({
  input: z.object({ name: z.string() }),
  access: () => true,
  handler: ({ input, request }) => ({ greeting: `Hello, ${input.name}`, method: request?.method ?? null }),
});

/** Returns nothing: answers 204. */
const forget = action({
  input: z.object({ id: z.string() }),
  http: { method: "DELETE", path: "/posts/:id/forget", status: 202 }, // 204 all the same: no result
  access: () => true,
  async handler({ input, data }) {
    await data.posts.delete(input.id);
  },
});

const ping = action({ input: z.object({}), access: () => true, handler: () => undefined });

/** A repeated query name gives a list. */
const tagged = action({
  input: z.object({ tag: z.union([z.string().transform((tag) => [tag]), z.array(z.string())]) }),
  http: { method: "GET", path: "/tagged" },
  access: () => true,
  handler: ({ input }) => input.tag,
});

/** Its input is not an object: the body is the input as it is. */
const sum = action({
  input: z.array(z.number()),
  access: () => true,
  handler: ({ input }) => input.reduce((total, n) => total + n, 0),
});

const actions = { echo, publish, postCount, hello, forget, ping, tagged, sum };

const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const ID = expect.stringMatching(/^[0-9a-f-]{36}$/);

describeEachServer(
  "HTTP routes",
  (database) => createBackend({ database, collections, actions }),
  (served) => {
    test("GET /health answers 200 { status: 'ok' }", async () => {
      const response = await served.request("/health");
      expect(await read(response)).toEqual({ status: 200, type: "application/json", body: { status: "ok" } });
      expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
    });

    test("the collection routes create, list, get, update and delete records", async () => {
      const ada = await served.backend.system.data.users.create({ name: "Ada" });

      const created = await served.json("POST", "/collections/posts/records", { title: "Hello", author: ada.id });
      const post = { id: ID, title: "Hello", published: false, rank: 0, author: ada.id, createdAt: ISO, updatedAt: ISO };
      const createdBody = await read(created);
      expect(createdBody).toEqual({ status: 201, type: "application/json", body: post });
      const record = createdBody.body as { id: string; createdAt: string; updatedAt: string };
      expect(record.updatedAt).toBe(record.createdAt);

      expect(await read(await served.request("/collections/posts/records"))).toEqual({
        status: 200,
        type: "application/json",
        body: { items: [record], nextCursor: null },
      });
      expect(await read(await served.request(`/collections/posts/records/${record.id}`))).toEqual({
        status: 200,
        type: "application/json",
        body: record,
      });

      const updated = await read(await served.json("PATCH", `/collections/posts/records/${record.id}`, { title: "Hello again", rank: 3 }));
      expect(updated).toEqual({ status: 200, type: "application/json", body: { ...record, title: "Hello again", rank: 3, updatedAt: ISO } });
      expect((updated.body as { updatedAt: string }).updatedAt >= record.createdAt).toBe(true);

      const deleted = await served.request(`/collections/posts/records/${record.id}`, { method: "DELETE" });
      expect(await read(deleted)).toEqual({ status: 204, type: noContentType(served.way), body: null });
      expect(await served.backend.system.data.posts.get(record.id)).toBeNull();

      const gone = await read(await served.request(`/collections/posts/records/${record.id}`));
      expect(gone).toEqual({
        status: 404,
        type: "application/problem+json",
        body: {
          type: "about:blank",
          title: "Not Found",
          status: 404,
          detail: `No posts record with id "${record.id}".`,
          code: "NOT_FOUND",
          collection: "posts",
          id: record.id,
          requestId: expect.stringMatching(REQUEST_ID),
        },
      });
    });

    test("PATCH and DELETE of a record that does not exist answer 404 NOT_FOUND", async () => {
      const notFound = {
        status: 404,
        type: "application/problem+json",
        body: {
          type: "about:blank",
          title: "Not Found",
          status: 404,
          detail: 'No posts record with id "nope".',
          code: "NOT_FOUND",
          collection: "posts",
          id: "nope",
          requestId: expect.stringMatching(REQUEST_ID),
        },
      };
      expect(await read(await served.json("PATCH", "/collections/posts/records/nope", { title: "x" }))).toEqual(notFound);
      expect(await read(await served.request("/collections/posts/records/nope", { method: "DELETE" }))).toEqual(notFound);
    });

    test("POST /actions/:name runs the action with the JSON body as input", async () => {
      const response = await served.json("POST", "/actions/hello", { name: "Ada" });
      expect(await read(response)).toEqual({
        status: 200,
        type: "application/json",
        body: { greeting: "Hello, Ada", method: "POST" },
      });
    });

    test("an action's own binding merges path params, query and body; path params win, then the body", async () => {
      const response = await served.json("PUT", "/echo/p1/s1?q=query&id=query&slot=query", { b: "body", q: "body", id: "body" });
      // status: 202, from the binding
      expect(await read(response)).toEqual({
        status: 202,
        type: "application/json",
        body: { id: "p1", slot: "s1", q: "body", b: "body" },
      });
      const withoutBody = await served.request("/echo/p2/s2?q=query", { method: "PUT" });
      expect(await read(withoutBody)).toEqual({ status: 202, type: "application/json", body: { id: "p2", slot: "s2", q: "query" } });
    });

    test("a repeated query name is a list in the input", async () => {
      expect(await read(await served.request("/tagged?tag=a"))).toEqual({ status: 200, type: "application/json", body: ["a"] });
      expect(await read(await served.request("/tagged?tag=a&tag=b"))).toEqual({ status: 200, type: "application/json", body: ["a", "b"] });
    });

    test("a body that is not an object is the input as it is; with path or query parameters it is 400", async () => {
      expect(await read(await served.json("POST", "/actions/sum", [1, 2, 3]))).toEqual({ status: 200, type: "application/json", body: 6 });
      expect(await read(await served.json("POST", "/actions/sum?extra=1", [1, 2]))).toMatchObject({
        status: 400,
        type: "application/problem+json",
        body: { code: "INVALID_JSON", detail: "With path or query parameters, the body must be a JSON object." },
      });
    });

    test("path params are decoded", async () => {
      const response = await served.request("/echo/a%20b/%C3%A9", { method: "PUT" });
      expect(await read(response)).toEqual({ status: 202, type: "application/json", body: { id: "a b", slot: "é" } });
    });

    test("a POST binding with a path param: POST /posts/:id/publish", async () => {
      const post = await served.backend.system.data.posts.create({ title: "Draft" });
      const response = await served.request(`/posts/${post.id}/publish`, { method: "POST" });
      expect(await read(response)).toEqual({
        status: 200,
        type: "application/json",
        body: { ...JSON.parse(JSON.stringify(post)), published: true, updatedAt: ISO },
      });
    });

    test("a GET-bound action takes its input from path params and the query", async () => {
      await served.backend.system.data.posts.createMany([
        { title: "a", published: true, rank: 1 },
        { title: "b", published: true, rank: 5 },
        { title: "c", published: false, rank: 5 },
      ]);
      const all = await served.request("/stats/true");
      expect(await read(all)).toEqual({ status: 200, type: "application/json", body: { published: "true", minRank: 0, count: 3 } });
      const ranked = await served.request("/stats/true?minRank=2");
      expect(await read(ranked)).toEqual({ status: 200, type: "application/json", body: { published: "true", minRank: 2, count: 1 } });
    });

    test("an action bound to a route of its own answers POST /actions/:name too", async () => {
      const post = await served.backend.system.data.posts.create({ title: "Also by name" });
      const response = await served.json("POST", "/actions/publish", { id: post.id });
      expect(await read(response)).toMatchObject({ status: 200, body: { id: post.id, published: true } });
    });

    test("an action that returns undefined answers 204 with no body (also with a binding)", async () => {
      const pinged = await served.request("/actions/ping", { method: "POST" });
      expect(await read(pinged)).toEqual({ status: 204, type: noContentType(served.way), body: null });

      const post = await served.backend.system.data.posts.create({ title: "Forget me" });
      const forgotten = await served.request(`/posts/${post.id}/forget`, { method: "DELETE" });
      expect(await read(forgotten)).toEqual({ status: 204, type: noContentType(served.way), body: null });
      expect(await served.backend.system.data.posts.get(post.id)).toBeNull();
    });

    test("an action's binding is only its method: another method is ROUTE_NOT_FOUND", async () => {
      const response = await served.request("/stats/true", { method: "POST" });
      expect(await read(response)).toMatchObject({ status: 404, body: { code: "ROUTE_NOT_FOUND", detail: `No route for POST ${served.mounted("/stats/true")}.` } });
    });

    test.skipIf(served.way === "fetch" || served.way === "round-robin")("the host's own route beside the mount still answers", async () => {
      const host = await fetch(`${served.origin}${HOST_ROUTE.path}`);
      expect(await read(host)).toEqual({ status: 200, type: expect.stringMatching(/^application\/json/), body: HOST_ROUTE.body });
      expect(host.headers.get("x-request-id")).toBeNull();
      const api = await fetch(`${served.origin}${MOUNT}/health`);
      expect(api.status).toBe(200);
    });
  },
);
