/**
 * `GET /collections/:name/subscribe` as Server-Sent Events over a real Node server: events by the
 * caller's rules with their sequence as SSE id; resume with `Last-Event-ID`; errors answered
 * before the stream starts; a revoked session ends its streams; a client that goes away ends its
 * subscription; a client that reads nothing is dropped as slow; heartbeats; the end on close.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field } from "cimiento";
import { toNodeHandler } from "cimiento/node";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher, recordingLogger } from "../auth/support.js";
import { sseReader } from "./sse.js";

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    published: field.boolean().default(false),
    author: field.belongsTo("users"),
  },
  realtime: true,
  access: {
    list: ({ user }) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] }),
    create: ({ user }) => user !== null,
  },
});
const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true } });

describeEachDatabase("subscriptions over SSE", (db) => {
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  let server: Server;
  let base: string;
  let ada: { id: string };
  let token: string;

  function make(database: Parameters<typeof createBackend>[0]["database"]) {
    return createBackend({
      database,
      collections: { posts, notes },
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher } },
      realtime: { pollInterval: 200, sessionCheckInterval: 100, heartbeat: 100, maxBuffered: 5, maxPerCaller: 3 },
    });
  }
  const subscribe = (query = "", headers: Record<string, string> = {}) => fetch(`${base}/collections/posts/subscribe${query}`, { headers });
  const bearer = () => ({ authorization: `Bearer ${token}` });

  beforeEach(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = make(fresh.database);
    await backend.migrate();
    ada = await backend.auth.createUser({ email: "ada@example.com", password: "correct horse battery" });
    token = (await backend.auth.createSession(ada.id)).token;
    server = createServer(toNodeHandler(backend));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await backend.close();
    await drop();
  });

  test("events stream as SSE, by the caller's rules, with their sequence as id", async () => {
    const response = await subscribe("", bearer());
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    const anonymous = sseReader((await subscribe()).body!);
    const stream = sseReader(response.body!);
    await stream.until(() => stream.events.length >= 1);
    expect(stream.events[0]).toMatchObject({ event: "ready", data: { type: "ready" } });
    await backend.as(ada as never).data.posts.create({ title: "draft", author: ada.id });
    await backend.as(ada as never).data.posts.create({ title: "public", author: ada.id, published: true });
    await stream.until(() => stream.events.length >= 3);
    await anonymous.until(() => anonymous.events.length >= 2);
    expect(stream.events.slice(1).map((e) => [e.event, e.data["record"] && (e.data["record"] as { title: string }).title])).toEqual([
      ["created", "draft"],
      ["created", "public"],
    ]);
    expect(anonymous.events.map((e) => e.event)).toEqual(["ready", "created"]);
    const created = stream.events[1]!;
    expect(created.id).toBe(created.data["sequence"]);
    expect(typeof (created.data["record"] as { createdAt: unknown }).createdAt).toBe("string");
    // Resuming with Last-Event-ID replays what came after it.
    const resumed = sseReader((await subscribe("", { ...bearer(), "last-event-id": created.id! })).body!);
    await resumed.until(() => resumed.events.some((e) => e.event === "ready"));
    expect(resumed.events.map((e) => e.event)).toEqual(["created", "ready"]);
    await Promise.all([stream.cancel(), anonymous.cancel(), resumed.cancel()]);
  });

  test("bad requests are answered before any stream", async () => {
    const bad = await subscribe(`?where=${encodeURIComponent('{"nope":1}')}`, bearer());
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "INVALID_QUERY" });
    expect((await subscribe("?after=x", bearer())).status).toBe(400);
    expect((await subscribe("?limit=3", bearer())).status).toBe(400);
    const notRealtime = await fetch(`${base}/collections/notes/subscribe`);
    expect(notRealtime.status).toBe(404);
    expect(await notRealtime.json()).toMatchObject({ code: "ROUTE_NOT_FOUND" });
    expect((await fetch(`${base}/collections/nope/subscribe`)).status).toBe(404);
    const revoked = await fetch(`${base}/collections/posts/subscribe`, { headers: { authorization: "Bearer nope-nope-nope-nope-nope" } });
    expect(revoked.status).toBe(401);
    const held = await Promise.all([subscribe("", bearer()), subscribe("", bearer()), subscribe("", bearer())]);
    const refused = await subscribe("", bearer());
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", limit: "maxPerCaller", max: 3 });
    for (const response of held) await response.body!.cancel();
  });

  test("a revoked session ends its streams within the check interval; heartbeats keep them open", async () => {
    const stream = sseReader((await subscribe("", bearer())).body!);
    await stream.until(() => stream.comments() >= 2);
    await backend.auth.revokeSession(token);
    await stream.until(() => stream.ended(), 2000);
    expect(stream.events.at(-1)).toMatchObject({ event: "end", data: { type: "end", reason: "revoked" } });
  });

  test("a client that goes away ends its subscription; one that reads nothing is dropped as slow", async () => {
    const realtime = partsOf(backend).realtime;
    const stream = sseReader((await subscribe("", bearer())).body!);
    await stream.until(() => stream.events.length >= 1);
    expect(realtime.size).toBe(1);
    await stream.cancel();
    await expect.poll(() => realtime.size).toBe(0);

    // Through backend.fetch, a body nobody reads: events wait in the stream's queue, five at most.
    const unread = await backend.fetch(new Request("http://local/collections/posts/subscribe", { headers: bearer() }));
    expect(unread.status).toBe(200);
    for (let i = 0; i < 8; i++) await backend.as(ada as never).data.posts.create({ title: `p${i}`, author: ada.id });
    await expect.poll(() => realtime.size).toBe(0);
    const late = sseReader(unread.body!);
    await late.finished;
    expect(late.events.map((e) => e.event)).toEqual(["ready", "created", "created", "created", "created", "end"]);
    expect(late.events.at(-1)!.data).toEqual({ type: "end", reason: "slow" });
  });

  test("closing the backend ends its streams with closing", async () => {
    const stream = sseReader((await subscribe("", bearer())).body!);
    await stream.until(() => stream.events.length >= 1);
    await backend.close();
    await stream.until(() => stream.ended());
    expect(stream.events.map((e) => e.event)).toEqual(["ready", "end"]);
    expect(stream.events[1]!.data).toEqual({ type: "end", reason: "closing" });
  });
});
