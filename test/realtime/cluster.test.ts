/**
 * Several instances of one backend: three app processes (the cluster example's backend, with a
 * realtime collection, built-in auth, jobs and a schedule) on one PostgreSQL schema, behind the
 * example's round-robin proxy. A write through one instance reaches the SSE subscribers of all
 * three, and a subscriber resumes on another instance with Last-Event-ID; sign-up, sign-in,
 * rules, an action and sign-out hold alike through every instance; jobs enqueued through all three run once each, and a schedule enqueues each tick once;
 * a session signed out through one instance is refused at once by the others, and their streams
 * end with "revoked" within the check interval; failed sign-ins count across instances; an
 * instance stopped with SIGTERM ends its streams with "closing" and the proxy serves on.
 * PostgreSQL only (SQLite is one machine's): skipped with the reason without it.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { adminQuery } from "../setup/dialects.js";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { clusterBackend } from "../../examples/cluster/backend.js";
import { roundRobinProxy } from "../../examples/cluster/proxy.js";
import { bundleProgram } from "../setup/programs.js";
import { startProgram, type Child } from "../reliability/support.js";
import { sseReader } from "./sse.js";
import { join } from "node:path";

const url = inject("postgresUrl");
const NAMES = ["a", "b", "c"];
/** How often the instances check the credentials of their streams again, in ms. */
const SESSION_CHECK = 300;
const PASSWORD = "correct horse battery";

const describeCluster = url === null ? describe.skip : describe;
const title = url === null ? "three instances on one PostgreSQL (skipped: CIMIENTO_TEST_POSTGRES_URL is not set)" : "three instances on one PostgreSQL";

describeCluster(title, () => {
  const schema = `cluster_${process.pid}_${Date.now().toString(36)}`;
  let program: Awaited<ReturnType<typeof bundleProgram>>;
  let instances: { name: string; child: Child; origin: string }[] = [];
  let proxy: Server;
  let base: string;
  /** The same backend in this process, without a worker: for reading what the instances did. */
  let reader: ReturnType<typeof clusterBackend>;

  const admin = (statement: string) => adminQuery(url!, statement);
  const json = (path: string, body: unknown, token?: string, origin = base) =>
    fetch(`${origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
  const signUp = async (email: string) => {
    const response = await json("/auth/sign-up", { email, password: PASSWORD });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string; user: { id: string } }).token;
  };
  /** Opens one stream on each instance, through the proxy: three requests in a row go to three instances. */
  const subscribeOnEach = async (token?: string) => {
    const streams = [];
    for (let i = 0; i < NAMES.length; i++) {
      const response = await fetch(`${base}/collections/posts/subscribe`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      streams.push({ instance: response.headers.get("x-instance")!, stream: sseReader(response.body!) });
    }
    expect(streams.map((s) => s.instance).sort()).toEqual(NAMES);
    for (const { stream } of streams) await stream.until(() => stream.events.some((event) => event.event === "ready"));
    return streams;
  };

  beforeAll(async () => {
    program = await bundleProgram(join(import.meta.dirname, "programs", "instance.ts"));
    await admin(`create schema "${schema}"`);
    reader = clusterBackend({ url: url!, schema, logger: { error: () => {}, warn: () => {} } });
    await reader.migrate();
    instances = NAMES.map((name) => ({
      name,
      child: startProgram(program.file, { url, schema, name, cron: "* * * * * *", sessionCheckInterval: SESSION_CHECK }),
      origin: "",
    }));
    for (const instance of instances) instance.origin = `http://127.0.0.1:${await instance.child.ready}`;
    proxy = roundRobinProxy(instances.map((instance) => instance.origin)).listen(0, "127.0.0.1");
    await once(proxy, "listening");
    base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }, 30_000);

  afterAll(async () => {
    for (const { child } of instances) if (child.child.exitCode === null) child.child.kill("SIGTERM");
    const exits = await Promise.all(instances.map(({ child }) => child.exited));
    proxy?.closeAllConnections();
    proxy?.close();
    await reader?.close();
    await admin(`drop schema if exists "${schema}" cascade`);
    program?.remove();
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
  }, 20_000);

  test("a write through one instance reaches the SSE subscribers of each of the three, in the same order", async () => {
    const token = await signUp("writer@example.com");
    const streams = await subscribeOnEach(token);
    // Three writes in a row through the proxy: one through each instance.
    const written: { id: string; by: string; at: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await json("/collections/posts/records", { title: `post ${i}` }, token);
      expect(response.status).toBe(201);
      written.push({ id: ((await response.json()) as { id: string }).id, by: response.headers.get("x-instance")!, at: performance.now() });
    }
    expect(written.map((w) => w.by).sort()).toEqual(NAMES);
    const heard = [];
    for (const { instance, stream } of streams) {
      await stream.until(() => stream.events.filter((event) => event.event === "created").length >= 3);
      const created = stream.events.filter((event) => event.event === "created");
      heard.push(created.map((event) => [event.id, (event.data["record"] as { id: string }).id]));
      expect(created.map((event) => (event.data["record"] as { id: string }).id), `the subscriber on ${instance}`).toEqual(written.map((w) => w.id));
    }
    // The same events, with the same sequences, on every instance.
    expect(heard[1]).toEqual(heard[0]);
    expect(heard[2]).toEqual(heard[0]);
    // How long after its write was answered each subscriber heard it: on another instance, as
    // soon as the NOTIFY arrived (or its next poll, realtime.pollInterval).
    const delays = streams.flatMap(({ instance, stream }) =>
      written.filter((w) => w.by !== instance).map((w) => stream.events.find((event) => (event.data["record"] as { id?: string } | undefined)?.id === w.id)!.at - w.at),
    );
    console.log(`cluster: a write through one instance heard on the others after ${Math.round(Math.max(0, Math.min(...delays)))}-${Math.round(Math.max(...delays))} ms`);
    await Promise.all(streams.map(({ stream }) => stream.cancel()));
  });

  test("sign-up, sign-in, rules, an action and sign-out hold alike through every instance", async () => {
    const ada = await signUp("ada@example.com");
    const signIn = await json("/auth/sign-in", { email: "bob@example.com", password: PASSWORD });
    expect(signIn.status).toBe(401); // no such account yet, on any instance
    await signUp("bob@example.com");
    const bobIn = await json("/auth/sign-in", { email: "bob@example.com", password: PASSWORD });
    expect(bobIn.status).toBe(200);
    const bob = ((await bobIn.json()) as { token: string }).token;
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const on = (origin: string, path: string, token: string, init: RequestInit = {}) =>
      fetch(`${origin}${path}`, { ...init, headers: { ...as(token), "content-type": "application/json", ...(init.headers as Record<string, string>) } });

    const created = await json("/collections/posts/records", { title: "draft" }, ada);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    for (const { name, origin } of instances) {
      // Read after write, on every instance: Ada's draft is hers; Bob neither sees nor changes it.
      expect((await on(origin, `/collections/posts/records/${id}`, ada)).status, name).toBe(200);
      expect((await on(origin, `/collections/posts/records/${id}`, bob)).status, name).toBe(404);
      expect((await on(origin, `/collections/posts/records/${id}`, bob, { method: "PATCH", body: JSON.stringify({ title: "mine" }) })).status, name).toBe(404);
      expect((await on(origin, "/actions/publish", bob, { method: "POST", body: JSON.stringify({ post: id }) })).status, name).toBe(404);
    }
    expect((await json("/actions/publish", { post: id }, ada)).status).toBe(200);
    for (const { name, origin } of instances) {
      const read = await on(origin, `/collections/posts/records/${id}`, bob);
      expect(read.status, name).toBe(200);
      expect(((await read.json()) as { published: boolean }).published, name).toBe(true);
    }
    const renamed = await on(instances[0]!.origin, `/collections/posts/records/${id}`, ada, { method: "PATCH", body: JSON.stringify({ title: "renamed" }) });
    expect(renamed.status).toBe(200);
    for (const { name, origin } of instances) {
      expect(((await (await on(origin, `/collections/posts/records/${id}`, bob)).json()) as { title: string }).title, name).toBe("renamed");
    }
    expect((await on(instances[1]!.origin, `/collections/posts/records/${id}`, ada, { method: "DELETE" })).status).toBe(204);
    for (const { name, origin } of instances) expect((await on(origin, `/collections/posts/records/${id}`, ada)).status, name).toBe(404);
    // Bob signs out through one instance; every instance refuses the token, and the others' still serve.
    expect((await on(instances[2]!.origin, "/auth/sign-out", bob, { method: "POST" })).status).toBe(204);
    for (const { name, origin } of instances) {
      expect((await on(origin, "/auth/session", bob)).status, name).toBe(401);
      expect((await on(origin, "/auth/session", ada)).status, name).toBe(200);
    }
  });

  test("a subscriber that loses its instance resumes on another with Last-Event-ID, missing nothing", async () => {
    const token = await signUp("resumer@example.com");
    const auth = { authorization: `Bearer ${token}` };
    const first = await fetch(`${instances[0]!.origin}/collections/posts/subscribe`, { headers: auth });
    const stream = sseReader(first.body!);
    await stream.until(() => stream.events.some((event) => event.event === "ready"));
    expect((await json("/collections/posts/records", { title: "heard" }, token)).status).toBe(201);
    await stream.until(() => stream.events.some((event) => event.event === "created"));
    await stream.cancel();
    const lastId = stream.events.at(-1)!.id!;
    // Written while it is away, through the proxy (so through several instances).
    const missed = [];
    for (let i = 0; i < 3; i++) {
      const response = await json("/collections/posts/records", { title: `missed ${i}` }, token);
      missed.push(((await response.json()) as { id: string }).id);
    }
    const again = sseReader((await fetch(`${instances[1]!.origin}/collections/posts/subscribe`, { headers: { ...auth, "last-event-id": lastId } })).body!);
    await again.until(() => again.events.some((event) => event.event === "ready"));
    expect(again.events.map((event) => event.event)).toEqual(["created", "created", "created", "ready"]);
    expect(again.events.slice(0, 3).map((event) => (event.data["record"] as { id: string }).id)).toEqual(missed);
    await again.cancel();
  });

  test("jobs enqueued through all three run once each; the schedule enqueues each tick once", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `work-${i}`);
    const through = new Map<string, number>();
    for (let i = 0; i < keys.length; i += 6) {
      const answers = await Promise.all(keys.slice(i, i + 6).map((key) => json("/actions/enqueueWork", { key })));
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        const by = answer.headers.get("x-instance")!;
        through.set(by, (through.get(by) ?? 0) + 1);
      }
    }
    expect([...through.values()]).toEqual([20, 20, 20]);
    const workRuns = async () => (await reader.system.data.runs.list({ where: { kind: "work" }, limit: 1000 })).items;
    await expect.poll(async () => (await workRuns()).length, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(60);
    const runs = await workRuns();
    expect(runs.map((run) => run.key).sort()).toEqual([...keys].sort());
    const jobs = await reader.jobs.list({ name: "work", limit: 1000 });
    expect(jobs).toHaveLength(60);
    expect(jobs.filter((job) => job.state !== "succeeded" || job.attempts !== 1)).toEqual([]);
    const ranBy = new Map<string, number>();
    for (const run of runs) ranBy.set(run.instance, (ranBy.get(run.instance) ?? 0) + 1);

    // The schedule ticks every second on every instance's worker; by now it has ticked several times.
    const tickRuns = async () => (await reader.system.data.runs.list({ where: { kind: "tick" }, limit: 1000 })).items;
    await expect.poll(async () => (await tickRuns()).length, { timeout: 10_000, interval: 200 }).toBeGreaterThanOrEqual(5);
    const ticks = (await tickRuns()).map((run) => run.key).sort();
    expect(new Set(ticks).size).toBe(ticks.length);
    // Each tick a second after the one before: none enqueued twice, none skipped (the last two
    // seconds left out: a tick's job may still be running while the next one's has run).
    const seconds = ticks.map((tick) => Date.parse(tick) / 1000);
    const settled = seconds.filter((second) => second <= seconds.at(-1)! - 2);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    expect(settled.slice(1).map((second, i) => second - settled[i]!)).toEqual(settled.slice(1).map(() => 1));
    const scheduled = await reader.jobs.list({ name: "heartbeat", limit: 1000 });
    // The tick is each scheduled job's idempotency key: one job per tick, whichever worker enqueued it.
    expect(new Set(scheduled.map((job) => job.idempotencyKey)).size).toBe(scheduled.length);
    expect(scheduled.every((job) => job.idempotencyKey?.startsWith("schedule:heartbeat:"))).toBe(true);
    expect(scheduled.length).toBeGreaterThanOrEqual(ticks.length);
    const tickedBy = new Set((await tickRuns()).map((run) => run.instance));
    console.log(
      `cluster: 60 jobs enqueued through ${JSON.stringify(Object.fromEntries(through))}, run by ${JSON.stringify(Object.fromEntries(ranBy))}; ${ticks.length} ticks run by ${[...tickedBy].sort().join(", ")}`,
    );
  }, 30_000);

  test("a session signed out through one instance is refused at once by the others, and their streams end with revoked", async () => {
    const token = await signUp("leaver@example.com");
    const streams = await subscribeOnEach(token);
    for (const { origin } of instances) expect((await fetch(`${origin}/auth/session`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const out = await json("/auth/sign-out", {}, token);
    expect(out.status).toBe(204);
    const signedOut = performance.now();
    const refused = await Promise.all(
      instances.map(async ({ origin }) => (await fetch(`${origin}/auth/session`, { headers: { authorization: `Bearer ${token}` } })).status),
    );
    expect(refused).toEqual([401, 401, 401]);
    for (const { instance, stream } of streams) {
      await stream.until(() => stream.ended(), SESSION_CHECK + 3000);
      expect(stream.events.at(-1), `the stream on ${instance}`).toMatchObject({ event: "end", data: { type: "end", reason: "revoked" } });
    }
    const slowest = Math.max(...streams.map(({ stream }) => stream.endedAt()! - signedOut));
    console.log(`cluster: streams on the three instances ended with "revoked" at most ${Math.round(slowest)} ms after the sign-out (check interval ${SESSION_CHECK} ms)`);
    // Within the check interval, with room for a slow machine.
    expect(slowest).toBeLessThan(SESSION_CHECK + 1500);
  });

  test("failed sign-ins count across instances: round-robin hits the per-account limit at the same count as one instance", async () => {
    await signUp("spread@example.com");
    await signUp("single@example.com");
    const spread: number[] = [];
    const spreadBy = new Set<string>();
    for (let i = 0; i < 7; i++) {
      const response = await json("/auth/sign-in", { email: "spread@example.com", password: "not the password" });
      spread.push(response.status);
      spreadBy.add(response.headers.get("x-instance")!);
    }
    expect([...spreadBy].sort()).toEqual(NAMES);
    const single: number[] = [];
    for (let i = 0; i < 7; i++) {
      single.push((await json("/auth/sign-in", { email: "single@example.com", password: "not the password" }, undefined, instances[0]!.origin)).status);
    }
    expect(single).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(spread).toEqual(single);
    // Even the right password, through any instance, until the window ends.
    for (const { origin } of instances) expect((await json("/auth/sign-in", { email: "spread@example.com", password: PASSWORD }, undefined, origin)).status).toBe(429);
  });

  test("an instance stopped with SIGTERM ends its streams with closing, exits 0, and the proxy serves on through the others", async () => {
    const streams = await subscribeOnEach();
    const last = instances.at(-1)!;
    const mine = streams.find((s) => s.instance === last.name)!;
    const signalled = performance.now();
    last.child.child.kill("SIGTERM");
    await mine.stream.until(() => mine.stream.ended(), 5000);
    expect(mine.stream.events.at(-1)).toMatchObject({ event: "end", data: { type: "end", reason: "closing" } });
    // At once, not when closeOnSignals' timeout (3 s) cuts the connection.
    expect(mine.stream.endedAt()! - signalled).toBeLessThan(2000);
    expect(await last.child.exited).toEqual({ code: 0, signal: null });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${base}/health`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    for (const { instance, stream } of streams) if (instance !== last.name) expect(stream.ended(), instance).toBe(false);
    await Promise.all(streams.map(({ stream }) => stream.cancel()));
  });
});
