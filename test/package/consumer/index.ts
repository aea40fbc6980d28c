/**
 * A program that uses cimiento the way an application does once it has run `npm install
 * cimiento`. test/package/install.test.ts copies it into a fresh project outside the repository,
 * type-checks it with tsc (strict, nodenext) against the installed package, emits it with its
 * declarations, and runs it: it mounts one backend in a real Express server, a real Koa server and
 * a real Hono server (on the host's `@hono/node-server`), calls each over HTTP (the Hono one through
 * `cimiento/client` too), and exits 0 only when every answer is the expected one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import Koa from "koa";
import { z } from "zod";
import { action, ApiError, collection, createBackend, field } from "cimiento";
import { ApiError as ClientError, createClient } from "cimiento/client";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { sqlite } from "cimiento/sqlite";

// Exported, as an application's backend module exports them: tsc then writes their inferred types
// into index.d.ts (declaration: true), and must name the type machinery in them through the
// package's entries (cimiento/types, which this program never imports) instead of failing with
// TS2742/TS2883 "cannot be named without a reference to ...".
export const notes = collection("notes", {
  fields: {
    title: field.text(z.string().min(1).max(100)),
    pinned: field.boolean().default(false),
    owner: field.text().readOnly(),
  },
  access: {
    list: () => true,
    get: () => true,
    create: ({ user }) => user !== null,
    update: ({ user }) => (user ? { owner: user.id } : false),
    delete: ({ user }) => (user ? { owner: user.id } : false),
  },
  hooks: { beforeCreate: ({ data, user }) => ({ ...data, owner: user!.id }) },
});

export const pin = action({
  input: z.object({ id: z.string() }),
  http: { method: "POST", path: "/notes/:id/pin" },
  access: ({ user }) => user !== null,
  handler: ({ input, data }) => data.notes.update(input.id, { pinned: true }),
});

// Declared once for the application: types the caller and `data` in actions and hooks.
declare module "cimiento" {
  interface Register {
    principal: { id: string; role: "member" | "admin" };
    collections: { notes: typeof notes };
  }
}

const folder = mkdtempSync(join(tmpdir(), "cimiento-consumer-"));
export const backend = createBackend({
  database: sqlite({ file: join(folder, "consumer.db") }),
  collections: { notes },
  actions: { pin },
  auth: {
    resolve: (request) =>
      request.headers.get("authorization") === "Bearer consumer-token" ? { id: "ada", role: "member" } : null,
  },
});
await backend.migrate();

// The types are the package's own, not `any`: tsc fails on an unused @ts-expect-error.
export const asAda = backend.as({ id: "ada", role: "member" });
const typed = await asAda.data.notes.create({ title: "typed" });
const title: string = typed.title;
const pinned: boolean = (await asAda.actions.pin({ id: typed.id })).pinned;
// @ts-expect-error -- title is a string
const wrongType = asAda.data.notes.create({ title: 42 });
// @ts-expect-error -- there is no such collection
void asAda.data.comments;
// @ts-expect-error -- "guest" is not a role of this application's principal
backend.as({ id: "x", role: "guest" });
// @ts-expect-error -- owner is read-only for callers
const readOnly = asAda.data.notes.create({ title: "mine", owner: "someone else" });
const refusals = await Promise.all(
  [wrongType, readOnly].map((write) =>
    write.then(
      () => "accepted",
      (error: unknown) => (error instanceof ApiError ? error.code : String(error)),
    ),
  ),
);
console.log(`in-process: "${title}" pinned=${pinned}, refused ${refusals.join(", ")}`);

// Express: its own routes, a body parser in front, and the backend under /api.
const expressApp = express();
expressApp.use(express.json());
expressApp.get("/", (_req, res) => {
  res.send("express host");
});
expressApp.use("/api", toNodeHandler(backend));
const expressServer = expressApp.listen(0, "127.0.0.1");
await new Promise<void>((resolve, reject) => expressServer.once("listening", resolve).once("error", reject));

// Koa: its own route, and the backend under /api (the prefix stripped, as Express does).
const koaApp = new Koa();
const koaHandler = toNodeHandler(backend);
koaApp.use(async (ctx, next) => {
  if (ctx.path !== "/api" && !ctx.path.startsWith("/api/")) return next();
  ctx.req.url = ctx.req.url!.slice("/api".length) || "/";
  ctx.respond = false;
  await koaHandler(ctx.req, ctx.res);
});
koaApp.use((ctx) => {
  if (ctx.path === "/") ctx.body = "koa host";
});
const koaServer = koaApp.listen(0, "127.0.0.1");
await new Promise<void>((resolve, reject) => koaServer.once("listening", resolve).once("error", reject));

// Hono on @hono/node-server: its own routes and the backend under /api. Made after the Node
// handlers, as where two copies of @hono/node-server were installed, its Request then replaced
// theirs as the global one.
const honoApp = new Hono();
honoApp.get("/", (c) => c.text("hono host"));
honoApp.route("/api", toHono(backend));
const honoServer = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const server = serve({ fetch: honoApp.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(server));
});

const token = { authorization: "Bearer consumer-token" };
const json = { "content-type": "application/json" };
let failures = 0;

async function check(
  host: string,
  method: string,
  path: string,
  expected: number,
  options: { headers?: Record<string, string>; body?: unknown; expect?: (body: unknown) => boolean; showType?: boolean } = {},
): Promise<any> {
  const server = host === "express" ? expressServer : host === "koa" ? koaServer : honoServer;
  const port = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port.port}${path}`, {
    method,
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  const body: unknown = type.includes("json") ? JSON.parse(text) : text;
  const ok = response.status === expected && (options.expect?.(body) ?? true);
  if (!ok) failures += 1;
  const shown = options.showType ? ` (content type: ${response.headers.get("content-type") ?? "none"})` : "";
  console.log(`${ok ? "ok" : "FAIL"} ${host} ${method} ${path} -> ${response.status}${shown}${ok ? "" : ` ${text}`}`);
  return body;
}

for (const host of ["express", "koa", "hono"]) {
  await check(host, "GET", "/", 200, { expect: (body) => body === `${host} host` });
  await check(host, "GET", "/api/health", 200, { expect: (body: any) => body.status === "ok" });
  await check(host, "POST", "/api/collections/notes/records", 401, {
    headers: json,
    body: { title: "anonymous" },
    expect: (body: any) => body.code === "UNAUTHORIZED",
  });
  const created = await check(host, "POST", "/api/collections/notes/records", 201, {
    headers: { ...json, ...token },
    body: { title: `from ${host}` },
    expect: (body: any) => body.title === `from ${host}` && body.owner === "ada" && body.pinned === false,
  });
  await check(host, "POST", `/api/notes/${created.id}/pin`, 200, {
    headers: token,
    expect: (body: any) => body.id === created.id && body.pinned === true,
  });
  const where = encodeURIComponent(JSON.stringify({ title: `from ${host}`, pinned: true }));
  await check(host, "GET", `/api/collections/notes/records?where=${where}`, 200, {
    expect: (body: any) => body.items.length === 1 && body.items[0].id === created.id,
  });
  await check(host, "POST", "/api/collections/notes/records", 422, {
    headers: { ...json, ...token },
    body: { title: "" },
    expect: (body: any) => body.code === "VALIDATION_FAILED" && body.issues[0].path[0] === "title",
  });
  await check(host, "GET", "/api/collections/nope/records", 404, {
    expect: (body: any) => body.code === "COLLECTION_NOT_FOUND",
  });
  // DELETE and OPTIONS come without a body or a Content-Length, and are not GET: the body limit
  // reads them and builds a new Request from the server's (they answered 500 when two copies of
  // @hono/node-server were installed).
  await check(host, "DELETE", `/api/collections/notes/records/${created.id}`, 204, {
    headers: token,
    expect: (body) => body === "",
    showType: true,
  });
  await check(host, "GET", `/api/collections/notes/records/${created.id}`, 404, {
    expect: (body: any) => body.code === "NOT_FOUND",
  });
  await check(host, "OPTIONS", "/api/collections/notes/records", 404, {
    expect: (body: any) => body.code === "ROUTE_NOT_FOUND" && body.detail.startsWith("No route for OPTIONS "),
  });
}

// cimiento/client from the packed package, typed by the backend's type, over the Hono server.
const client = createClient<typeof backend>({
  baseUrl: `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}/api`,
  token: "consumer-token",
});
const viaClient = await client.collections.notes.create({ title: "from the client" });
const clientTitle: string = viaClient.title;
const clientPinned: boolean = (await client.actions.pin({ id: viaClient.id })).pinned;
// @ts-expect-error -- title is text, not a number
void client.collections.notes.list({ where: { title: 42 } }).catch(() => {});
const clientRefused = await client.collections.notes.create({ title: "" }).then(
  () => "accepted",
  (error: unknown) => (error instanceof ClientError ? error.code : String(error)),
);
const clientAbsent = await client.collections.notes.get("no-such-note");
if (!(clientPinned && clientRefused === "VALIDATION_FAILED" && clientAbsent === null)) failures += 1;
console.log(`client: "${clientTitle}" pinned=${clientPinned}, refused ${clientRefused}, absent ${clientAbsent}`);

await new Promise((resolve) => expressServer.close(resolve));
await new Promise((resolve) => koaServer.close(resolve));
await new Promise((resolve) => honoServer.close(resolve));
await backend.close();
rmSync(folder, { recursive: true, force: true });
console.log(failures === 0 ? "all checks passed" : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
