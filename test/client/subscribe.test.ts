/**
 * `client.collections.<name>.subscribe()` against a real server (`node:http` + `toNodeHandler`,
 * on a random loopback port), on every database: events by the caller's rules and token, shaped
 * by `select` and `include`; the iterator form; a dropped connection opened again after the last
 * event, the events written meanwhile heard once; the backend's `end` heard last, with no
 * reconnection; a reconnection refused with 401 ending with `end`; refusals before the stream
 * as `ApiError`; unsubscribe and `break` abort the
 * request, so the server's subscriptions go to 0. Also the SSE reader on its own (line endings,
 * comments, multi-line data, ids, chunks cut anywhere), and the reconnection on its own, over
 * answers made up in the test: what is tried again, after what, and what ends it.
 */
import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toNodeHandler } from "cimiento/node";
import { ApiError, createClient, type SubscriptionEvent } from "cimiento/client";
import { partsOf } from "../../src/backend/backend-parts.js";
import { sseData, subscription } from "../../src/client/subscription.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { PASSWORD, uniqueEmail } from "../auth/support.js";
import { clientBackend, type ClientBackend } from "./backend.js";

/** A fetch that records the path and query of each subscription request. */
function recording() {
  const sent: string[] = [];
  const send = (input: string, init: RequestInit) => {
    const url = new URL(input);
    if (url.pathname.endsWith("/subscribe")) sent.push(`${url.pathname}${url.search}`);
    return fetch(input, init);
  };
  return { sent, fetch: send };
}

/** Keeps the events heard; `until` waits for those that match. */
function heard<T>() {
  const events: SubscriptionEvent<T>[] = [];
  return {
    events,
    push: (event: SubscriptionEvent<T>) => void events.push(event),
    /** The changes heard, as `type:title`. */
    changes: () => events.flatMap((event) => ("record" in event ? [`${event.type}:${(event.record as { title?: string }).title}`] : [])),
    until: (check: () => boolean) => expect.poll(check, { timeout: 10_000, interval: 20 }).toBe(true),
  };
}

/** What a promise rejects with, which must be an ApiError. */
async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describeEachDatabase("client subscriptions over HTTP", (db) => {
  let backend: ClientBackend;
  let server: Server;
  let drop: () => Promise<void>;
  let baseUrl: string;
  const subscriptions = () => partsOf(backend).realtime.size;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = clientBackend(fresh.database as never) as ClientBackend;
    await backend.migrate();
    server = createServer(toNodeHandler(backend));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await backend?.close();
    await drop?.();
  });

  /** A client signed up as a new user, keeping its token, its subscription requests recorded. */
  async function signedUp(name = "Ada") {
    const recorder = recording();
    const client = createClient<ClientBackend>({ baseUrl, keepToken: true, fetch: recorder.fetch });
    const result = await client.auth.signUp({ email: uniqueEmail(name.toLowerCase()), password: PASSWORD, name });
    if (!("token" in result)) throw new Error("sign-up did not sign in");
    return { client, user: result.user, token: result.token, sent: recorder.sent };
  }

  test("events by the caller's rules and token, shaped by select and include, typed", async () => {
    const ada = await signedUp("Ada");
    const anonymous = createClient<ClientBackend>({ baseUrl });
    const mine = heard<{ id: string; title: string; author: { id: string; name: string } | null }>();
    const theirs = heard<unknown>();
    const stopMine = await ada.client.collections.posts.subscribe(
      { where: { author: ada.user.id }, select: ["title"], include: { author: { select: ["name"] } } },
      mine.push,
    );
    const stopTheirs = await anonymous.collections.posts.subscribe({ where: { author: ada.user.id } }, theirs.push);
    expect(subscriptions()).toBe(2);

    const draft = await ada.client.collections.posts.create({ title: "Draft", slug: `draft-${ada.user.id}` });
    await ada.client.collections.posts.create({ title: "Public", slug: `public-${ada.user.id}`, published: true });
    await ada.client.collections.posts.update(draft.id, { title: "Draft 2" });
    await ada.client.collections.posts.delete(draft.id);
    await mine.until(() => mine.changes().length === 4);
    await theirs.until(() => theirs.changes().length === 1);

    expect(mine.events[0]).toEqual({ type: "ready", sequence: expect.stringMatching(/^[\w-]{22}$/) });
    expect(mine.changes()).toEqual(["created:Draft", "created:Public", "updated:Draft 2", "deleted:Draft 2"]);
    expect(mine.events[1]).toEqual({
      type: "created",
      sequence: expect.stringMatching(/^[\w-]{22}$/),
      record: { id: draft.id, title: "Draft", author: { id: ada.user.id, name: "Ada" } },
    });
    // The anonymous client hears only the published post: the token is what makes drafts heard.
    expect(theirs.events.map((event) => event.type)).toEqual(["ready", "created"]);
    expect(theirs.changes()).toEqual(["created:Public"]);
    expect(typeof (theirs.events[1] as { record: { createdAt: unknown } }).record.createdAt).toBe("string");

    stopMine();
    stopTheirs();
    await expect.poll(subscriptions).toBe(0);
    expect(ada.sent).toHaveLength(1);
  });

  test("the iterator form: requested at once, events as they are taken; leaving the loop aborts the request", async () => {
    const ada = await signedUp("Grace");
    const events = ada.client.collections.posts.subscribe({ where: { author: ada.user.id }, select: ["title"] });
    const first = await events.next();
    expect(first.value).toMatchObject({ type: "ready" });
    await ada.client.collections.posts.create({ title: "One", slug: `one-${ada.user.id}` });
    await ada.client.collections.posts.create({ title: "Two", slug: `two-${ada.user.id}` });
    const titles: string[] = [];
    for await (const event of events) {
      if (event.type === "created") titles.push(event.record.title);
      if (titles.length === 2) break;
    }
    expect(titles).toEqual(["One", "Two"]);
    await expect.poll(subscriptions).toBe(0);
    await expect(events.next()).resolves.toEqual({ value: undefined, done: true });

    // The request is sent at once, before the iterator is iterated.
    const waiting = ada.client.collections.posts.subscribe({ where: { author: ada.user.id } });
    await expect.poll(subscriptions).toBe(1);
    // close() while a next() waits: the wait ends, done.
    await waiting.next();
    const pending = waiting.next();
    waiting.close();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    await expect.poll(subscriptions).toBe(0);
  });

  test("a dropped connection is opened again after the last event; events written meanwhile are heard once", async () => {
    const ada = await signedUp("Linus");
    const posts = ada.client.collections.posts;
    const events = heard<{ id: string; title: string }>();
    const stop = await posts.subscribe({ where: { author: ada.user.id }, select: ["title"] }, events.push);
    await posts.create({ title: "Before", slug: `before-${ada.user.id}` });
    await events.until(() => events.changes().length === 1);
    const before = events.events[1] as { sequence: string };

    // The server drops every connection; the backend keeps running and is written to.
    server.closeAllConnections();
    await expect.poll(subscriptions).toBe(0);
    await backend.system.data.posts.create({ title: "Meanwhile 1", slug: `m1-${ada.user.id}`, author: ada.user.id });
    await backend.system.data.posts.create({ title: "Meanwhile 2", slug: `m2-${ada.user.id}`, author: ada.user.id });
    await events.until(() => events.changes().length === 3);
    await posts.create({ title: "After", slug: `after-${ada.user.id}` });
    await events.until(() => events.changes().length === 4);

    expect(events.changes()).toEqual(["created:Before", "created:Meanwhile 1", "created:Meanwhile 2", "created:After"]);
    expect(events.events.filter((event) => event.type === "ready")).toHaveLength(1);
    const sequences = events.events.flatMap((event) => ("record" in event ? [Number(event.sequence)] : []));
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    // The second request resumed after the last event heard.
    expect(ada.sent).toHaveLength(2);
    expect(new URL(ada.sent[1]!, baseUrl).searchParams.get("after")).toBe(before.sequence);
    stop();
    await expect.poll(subscriptions).toBe(0);
  });

  test("the backend's end is heard last, and no reconnection follows", async () => {
    const ada = await signedUp("Barbara");
    const events = heard<unknown>();
    await ada.client.collections.posts.subscribe({}, events.push);
    await backend.auth.revokeSession(ada.token);
    await events.until(() => events.events.at(-1)?.type === "end");
    expect(events.events.at(-1)).toEqual({ type: "end", reason: "revoked" });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(ada.sent).toHaveLength(1);
    expect(subscriptions()).toBe(0);
  });

  test("a reconnection refused with 401 ends the subscription with end revoked", async () => {
    const ada = await signedUp("Alan");
    const events = heard<unknown>();
    await ada.client.collections.posts.subscribe({}, events.push);
    // The session ends while the connection is down: the reconnection is answered 401.
    server.closeAllConnections();
    await backend.auth.revokeSession(ada.token);
    await events.until(() => events.events.at(-1)?.type === "end");
    expect(events.events.map((event) => event.type)).toEqual(["ready", "end"]);
    expect(events.events.at(-1)).toEqual({ type: "end", reason: "revoked" });
    expect(ada.sent).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(ada.sent).toHaveLength(2);
    expect(subscriptions()).toBe(0);
  });

  test("refusals before the stream reject the promise and throw from next(), as ApiError", async () => {
    const ada = await signedUp("Edsger");
    const noted = () => {};
    // comments is not realtime: its type has no subscribe, and its route answers 404.
    const comments = ada.client.collections.comments as unknown as typeof ada.client.collections.posts;
    const notRealtime = await refusal(comments.subscribe({}, noted));
    expect([notRealtime.status, notRealtime.code]).toEqual([404, "ROUTE_NOT_FOUND"]);
    const badWhere = await refusal(ada.client.collections.posts.subscribe({ where: { nope: 1 } as never }, noted));
    expect([badWhere.status, badWhere.code]).toEqual([400, "INVALID_QUERY"]);
    const badAfter = await refusal(ada.client.collections.posts.subscribe({ after: "x" }).next());
    expect([badAfter.status, badAfter.code]).toEqual([400, "INVALID_QUERY"]);
    const stranger = createClient<ClientBackend>({ baseUrl, token: "nope-nope-nope-nope-nope-nope" });
    const unknownToken = await refusal(stranger.collections.posts.subscribe({}).next());
    expect(unknownToken.status).toBe(401);
    // An iterator refused and never iterated leaves no unhandled rejection (vitest fails on one).
    stranger.collections.posts.subscribe({});
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(subscriptions()).toBe(0);
    // No server at all: the first request fails as fetch fails, and is not tried again.
    const nowhere = createClient<ClientBackend>({ baseUrl: "http://127.0.0.1:9" });
    await expect(nowhere.collections.posts.subscribe({}, noted)).rejects.toThrow(TypeError);
  });
});

describe("the SSE reader", () => {
  /** A body of these chunks. */
  function body(...chunks: string[]): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    return new ReadableStream({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
  }
  async function read(stream: ReadableStream<Uint8Array>, state = { id: "", retry: 0 }) {
    const data: [string, string][] = [];
    for await (const item of sseData(stream, state)) data.push([item, state.id]);
    return { data, state };
  }

  test("fields, comments, multi-line data and ids, with LF, CRLF and CR line ends", async () => {
    const { data, state } = await read(
      body(
        ": heartbeat\n\n",
        "event: created\nid: 1\ndata: {\"a\":1}\n\n",
        "data: one\r\ndata: two\r\n\r\n",
        "id: 7\rdata:three\r\r",
        "data\n\n",
        "retry: 250\nid\n\n",
        "id: 9\ndata: cut off",
      ),
    );
    expect(data).toEqual([
      ['{"a":1}', "1"],
      ["one\ntwo", "1"],
      ["three", "7"],
      ["", "7"],
    ]);
    // The last whole event set an empty id; the event cut off at the end is dropped, its id too.
    expect(state).toEqual({ id: "", retry: 250 });
  });

  test("chunks cut anywhere, a CRLF and a character's bytes included, read as one text", async () => {
    const text = 'id: 3\r\ndata: {"title":"caf\u00e9"}\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice(0, cut));
          controller.enqueue(bytes.slice(cut));
          controller.close();
        },
      });
      expect((await read(stream)).data).toEqual([['{"title":"café"}', "3"]]);
    }
  });
});

describe("the reconnection", () => {
  /** An answer whose body is `text`, as the server would stream it. */
  const stream = (text: string) => new Response(text, { headers: { "content-type": "text/event-stream" } });
  const event = (data: Record<string, unknown>, id?: string) => `${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;

  test("after a stream that ends without end, and after a 429, it resumes after the last id; a 403 ends it with end error", async () => {
    const controller = new AbortController();
    const asked: (string | undefined)[] = [];
    const answers: (() => Response)[] = [
      // retry: 1 makes the waits between connections a millisecond.
      () => stream(`retry: 1\n${event({ type: "ready", sequence: "5" }, "5")}`),
      () => {
        throw new ApiError(429, "TOO_MANY_SUBSCRIPTIONS", "Too many");
      },
      () => stream(event({ type: "created", sequence: "6", record: { id: "a" } }, "6") + event({ type: "ready", sequence: "6" }, "6")),
      () => stream(": heartbeat\n\n"),
      () => {
        throw new ApiError(403, "FORBIDDEN", "No");
      },
    ];
    const open = async (after: string | undefined) => {
      asked.push(after);
      return answers.shift()!();
    };
    const heard: unknown[] = [];
    for await (const item of subscription(open, undefined, controller.signal)) heard.push(item);
    expect(heard).toEqual([
      { type: "ready", sequence: "5" },
      { type: "created", sequence: "6", record: { id: "a" } },
      { type: "end", reason: "error" },
    ]);
    expect(asked).toEqual([undefined, "5", "5", "6", "6"]);
    // The waits between connections leave no listener on the signal behind.
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  test("a refusal of the first connection is thrown; an abort while waiting to reconnect ends it at once", async () => {
    const refused = subscription(
      async () => {
        throw new ApiError(400, "INVALID_QUERY", "Bad");
      },
      "3",
      new AbortController().signal,
    );
    await expect(refused.next()).rejects.toMatchObject({ status: 400, code: "INVALID_QUERY" });

    const controller = new AbortController();
    // The server's retry is a minute: only the abort ends the wait.
    const events = subscription(async () => stream(`retry: 60000\n${event({ type: "ready", sequence: "1" }, "1")}`), undefined, controller.signal);
    expect((await events.next()).value).toEqual({ type: "ready", sequence: "1" });
    const pending = events.next();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
