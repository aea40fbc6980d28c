/**
 * Koa: `toNodeHandler` in a real Koa server, at the root and under a path (with a prefix strip
 * of a few lines), beside the host's own middleware. On every database.
 */
import type { Server } from "node:http";
import Koa from "koa";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type DatabaseAdapter } from "cimiento";
import { toNodeHandler } from "cimiento/node";
import { describeEachDatabase } from "../setup/dialects.js";
import { listening, read, REQUEST_ID, type Listening } from "./support.js";

const notes = collection("notes", {
  fields: { text: field.text(z.string().min(1)) },
  access: { list: () => true, get: () => true, create: () => true },
});

function koaBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({ database, collections: { notes } });
}

describeEachDatabase("Koa", (db) => {
  let backend: ReturnType<typeof koaBackend>;
  let drop: () => Promise<void>;
  let atRoot: Listening;
  let underPath: Listening;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = koaBackend(fresh.database);
    await backend.migrate();

    // At the root: the host's middleware first, then the backend answers the rest.
    const root = new Koa();
    const handler = toNodeHandler(backend);
    root.use(async (ctx, next) => {
      if (ctx.path === "/host") ctx.body = { host: "koa" };
      else await next();
    });
    root.use(async (ctx) => {
      ctx.respond = false; // the handler writes the response itself
      await handler(ctx.req, ctx.res);
    });
    atRoot = await listening(root.listen(0, "127.0.0.1") as Server);

    // Under /api: strip the prefix, as Express does for a mount path.
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path !== "/api" && !ctx.path.startsWith("/api/")) return next();
      ctx.req.url = ctx.req.url!.slice("/api".length) || "/";
      ctx.respond = false;
      await handler(ctx.req, ctx.res);
    });
    app.use((ctx) => {
      ctx.body = { host: "koa", path: ctx.path };
    });
    underPath = await listening(app.listen(0, "127.0.0.1") as Server);
  });

  afterAll(async () => {
    await atRoot.close();
    await underPath.close();
    await backend.close();
    await drop();
  });

  async function createAndList(base: string, text: string): Promise<void> {
    const created = await fetch(`${base}/collections/notes/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const note = await read(created);
    expect(note).toMatchObject({ status: 201, type: "application/json", body: { id: expect.any(String), text } });
    expect(created.headers.get("x-request-id")).toMatch(REQUEST_ID);

    const where = encodeURIComponent(JSON.stringify({ text }));
    const listed = await read(await fetch(`${base}/collections/notes/records?where=${where}`));
    expect(listed).toEqual({ status: 200, type: "application/json", body: { items: [note.body], nextCursor: null } });
  }

  test("at the root: create and list, beside the host's middleware", async () => {
    await createAndList(atRoot.origin, "at the root");
    expect(await read(await fetch(`${atRoot.origin}/host`))).toMatchObject({ status: 200, body: { host: "koa" } });
    expect(await read(await fetch(`${atRoot.origin}/nothing`))).toMatchObject({ status: 404, body: { code: "ROUTE_NOT_FOUND" } });
  });

  test("under /api: create and list; other paths stay the host's", async () => {
    await createAndList(`${underPath.origin}/api`, "under a path");
    expect(await read(await fetch(`${underPath.origin}/api/health`))).toEqual({ status: 200, type: "application/json", body: { status: "ok" } });
    expect(await read(await fetch(`${underPath.origin}/apiary`))).toMatchObject({ status: 200, body: { host: "koa", path: "/apiary" } });
  });

  test("errors are the backend's problem documents", async () => {
    const response = await fetch(`${underPath.origin}/api/collections/notes/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{oops",
    });
    expect(await read(response)).toMatchObject({ status: 400, type: "application/problem+json", body: { code: "INVALID_JSON" } });
  });
});
