/**
 * Subscriptions in-process: decided by the subscriber's `list` rule and `where`, each record as
 * it reads it (field rules, hidden fields, `select`, `include`); enter and leave on update; only
 * committed writes, in commit order; resume after a sequence, and a gap once the log no longer
 * holds it; limits, slow iterators, the end on close; several instances on one database.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type DatabaseAdapter, type SubscriptionEvent } from "cimiento";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "../jobs/support.js";

const authors = collection("authors", {
  fields: { name: field.text() },
  access: { list: () => true, get: () => true },
});

const posts = collection("posts", {
  fields: {
    title: field.text(z.string().min(1)),
    published: field.boolean().default(false),
    author: field.belongsTo("authors"),
    notes: field.text().optional().hidden(),
    score: field.integer().default(0).access({ read: ({ user }) => user?.role === "editor" }),
  },
  realtime: true,
  access: {
    list: ({ user }) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] }),
    get: ({ user }) => (user === null ? { published: true } : { or: [{ published: true }, { author: user.id }] }),
    create: ({ user }) => user !== null,
    update: ({ user }) => user !== null,
    delete: ({ user }) => user !== null,
  },
});

const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true, create: () => true } });

type Event = SubscriptionEvent<Record<string, unknown>>;

/** Keeps what a subscription hears; `until` waits for the events that match. */
function recorder() {
  const events: Event[] = [];
  const waiters: (() => void)[] = [];
  return {
    events,
    push(event: Event) {
      events.push(event);
      for (const wake of waiters.splice(0)) wake();
    },
    /** The changes heard, as `type:title`. */
    changes: () => events.filter((e) => "record" in e).map((e) => `${e.type}:${(e as { record: { title?: string } }).record.title}`),
    async until(check: (events: Event[]) => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!check(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; heard ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

describeEachDatabase("subscriptions", (db) => {
  let shared: SharedDatabase;
  let backends: { close(): Promise<void> }[];
  const instance = (realtime = {}) => {
    const backend = createBackend({
      database: shared.adapter() as DatabaseAdapter<"sqlite">,
      collections: { authors, posts, notes },
      logger: quietLogger(),
      realtime: { pollInterval: 200, ...realtime },
    });
    backends.push(backend);
    return backend;
  };
  let backend: ReturnType<typeof instance>;
  let alice: { id: string; role: string };
  let bob: { id: string; role: string };

  beforeEach(async () => {
    backends = [];
    shared = await sharedDatabase(db);
    backend = instance();
    await backend.migrate();
    alice = { id: (await backend.system.data.authors.create({ name: "Alice" })).id, role: "user" };
    bob = { id: (await backend.system.data.authors.create({ name: "Bob" })).id, role: "user" };
  });
  afterEach(async () => {
    for (const each of backends) await each.close();
    await shared.drop();
  });

  test("a subscriber hears the changes its list rule and where let it read, as it reads them", async () => {
    const heard = recorder();
    const stop = await backend.as(alice).data.posts.subscribe({}, heard.push);
    expect(heard.events[0]).toMatchObject({ type: "ready" });
    await backend.system.data.posts.create({ title: "mine", author: alice.id, notes: "n", score: 3 });
    await backend.as(bob).data.posts.create({ title: "bob draft", author: bob.id });
    await backend.as(bob).data.posts.create({ title: "bob public", author: bob.id, published: true });
    await heard.until((events) => events.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(heard.changes()).toEqual(["created:mine", "created:bob public"]);
    const mine = heard.events[1] as { record: Record<string, unknown> };
    // As the caller reads it: no hidden field, no field whose read rule refuses it.
    expect(mine.record).toEqual(await backend.as(alice).data.posts.get(mine.record["id"] as string));
    expect(Object.keys(mine.record)).not.toContain("notes");
    expect(Object.keys(mine.record)).not.toContain("score");
    expect(mine.record["createdAt"]).toBeInstanceOf(Date);
    stop();
  });

  test("an update that makes a record match is heard as entered, one that makes it stop as left", async () => {
    const draft = await backend.as(bob).data.posts.create({ title: "draft", author: bob.id });
    const heard = recorder();
    await backend.as(alice).data.posts.subscribe({ where: { title: { startsWith: "d" } } }, heard.push);
    await backend.as(bob).data.posts.update(draft.id, { published: true });
    await backend.system.data.posts.update(draft.id, { score: 5 });
    await backend.as(bob).data.posts.update(draft.id, { title: "renamed" });
    await backend.as(bob).data.posts.update(draft.id, { title: "dd", published: false });
    const other = await backend.as(bob).data.posts.create({ title: "deleted later", author: bob.id, published: true });
    await backend.as(bob).data.posts.delete(other.id);
    await heard.until((events) => events.filter((e) => "record" in e).length >= 5);
    expect(heard.changes()).toEqual(["entered:draft", "updated:draft", "left:draft", "created:deleted later", "deleted:deleted later"]);
  });

  test("subscribers alike hear equal events, each its own copy", async () => {
    const one = recorder();
    const two = recorder();
    await backend.as(alice).data.posts.subscribe({}, one.push);
    await backend.as(alice).data.posts.subscribe({}, two.push);
    await backend.as(alice).data.posts.create({ title: "shared", author: alice.id });
    await one.until((events) => events.length >= 2);
    await two.until((events) => events.length >= 2);
    expect(one.events[1]).toEqual(two.events[1]);
    (one.events[1] as { record: Record<string, unknown> }).record["title"] = "changed by one";
    expect((two.events[1] as { record: Record<string, unknown> }).record["title"]).toBe("shared");
  });

  test("select and include shape the records heard", async () => {
    const heard = recorder();
    await backend.as(alice).data.posts.subscribe({ select: ["title"], include: { author: true } }, heard.push);
    await backend.as(alice).data.posts.create({ title: "shaped", author: alice.id });
    await heard.until((events) => events.length >= 2);
    const { record } = heard.events[1] as { record: Record<string, unknown> };
    expect(record).toEqual({ id: expect.any(String), title: "shaped", author: { id: alice.id, name: "Alice", createdAt: expect.any(Date), updatedAt: expect.any(Date) } });
  });

  test("only committed writes are heard, a transaction's in its order, after its commit", async () => {
    const heard = recorder();
    await backend.as(alice).data.posts.subscribe({}, heard.push);
    await expect(
      backend.system.transaction(async (tx) => {
        await tx.data.posts.create({ title: "rolled back", author: alice.id });
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    await backend.system.transaction(async (tx) => {
      const first = await tx.data.posts.create({ title: "one", author: alice.id });
      await tx.data.posts.create({ title: "two", author: alice.id });
      await tx.data.posts.update(first.id, { title: "one again" });
    });
    await heard.until((events) => events.length >= 4);
    expect(heard.changes()).toEqual(["created:one", "created:two", "updated:one again"]);
  });

  test("a subscriber resumes after a sequence from the log, and hears gap when the log no longer holds it", async () => {
    const first = recorder();
    const stop = await backend.as(alice).data.posts.subscribe({}, first.push);
    await backend.as(alice).data.posts.create({ title: "a", author: alice.id });
    await first.until((events) => events.length >= 2);
    stop();
    const last = (first.events[1] as { sequence: string }).sequence;
    await backend.as(alice).data.posts.create({ title: "b", author: alice.id });
    await backend.system.data.notes.create({ text: "not a realtime collection" });
    await backend.as(bob).data.posts.create({ title: "bob's draft", author: bob.id });
    await backend.as(alice).data.posts.create({ title: "c", author: alice.id });
    const resumed = recorder();

    await backend.as(alice).data.posts.subscribe({ after: last }, resumed.push);
    expect(resumed.changes()).toEqual(["created:b", "created:c"]);
    expect(resumed.events.at(-1)).toMatchObject({ type: "ready" });

    // Sequences are opaque: they tell nothing of how many writes came between two of them.
    expect(last).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const malformed = backend.as(alice).data.posts.subscribe({ after: "12" }, () => {});
    await expect(malformed).rejects.toMatchObject({ code: "INVALID_QUERY", details: { path: "after" } });
    const foreign = recorder();
    await backend.as(alice).data.posts.subscribe({ after: "A".repeat(22) }, foreign.push);
    expect(foreign.events.map((e) => e.type)).toEqual(["ready", "gap"]);

    // Everything older than retention is deleted: resuming from before it is a gap.
    const pruned = instance({ retention: 1 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await partsOf(pruned).realtime.prune();
    const gapped = recorder();
    await pruned.as(alice).data.posts.subscribe({ after: last }, gapped.push);
    expect(gapped.events.map((e) => e.type)).toEqual(["ready", "gap"]);
    // Resuming from the last event is whole even with an empty log.
    const current = (resumed.events.at(-1) as { sequence: string }).sequence;
    const whole = recorder();
    await pruned.as(alice).data.posts.subscribe({ after: current }, whole.push);
    expect(whole.events.map((e) => e.type)).toEqual(["ready"]);
  });

  test("an iterator hears events; one that lets too many wait ends with slow", async () => {
    const slow = instance({ maxBuffered: 3 });
    const events = slow.as(alice).data.posts.subscribe({});
    const first = await events.next();
    expect(first.value).toMatchObject({ type: "ready" });
    for (let i = 0; i < 6; i++) await slow.as(alice).data.posts.create({ title: `p${i}`, author: alice.id });
    // Nobody takes them: three wait, the fourth ends the subscription.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seen: string[] = [];
    for await (const event of events) {
      seen.push(event.type);
      if (event.type === "end") expect(event.reason).toBe("slow");
    }
    expect(seen).toEqual(["created", "created", "created", "end"]);
  });

  test("limits per caller and per process, a bad where, a collection not realtime, a transaction", async () => {
    const limited = instance({ maxPerCaller: 2, maxPerProcess: 3 });
    const stops = [await limited.as(alice).data.posts.subscribe({}, () => {}), await limited.as(alice).data.posts.subscribe({}, () => {})];
    await expect(limited.as(alice).data.posts.subscribe({}, () => {})).rejects.toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", details: { limit: "maxPerCaller", max: 2 } });
    stops.push(await limited.as(bob).data.posts.subscribe({}, () => {}));
    await expect(limited.as(null).data.posts.subscribe({}, () => {})).rejects.toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", details: { limit: "maxPerProcess" } });
    stops.pop()!();
    stops.pop()!();
    // In-process, anonymous callers and the system scope are the host's code: only the process's limit counts them.
    stops.push(await limited.as(null).data.posts.subscribe({}, () => {}), await limited.as(null).data.posts.subscribe({}, () => {}));
    await expect(limited.system.data.posts.subscribe({}, () => {})).rejects.toMatchObject({ details: { limit: "maxPerProcess" } });
    await expect(limited.as(alice).data.posts.subscribe({ where: { nope: 1 } } as never, () => {})).rejects.toMatchObject({ code: "INVALID_QUERY" });
    await expect(limited.as(alice).data.posts.subscribe({ where: { notes: "x" } } as never, () => {})).rejects.toMatchObject({ code: "INVALID_QUERY" });
    await expect(backend.as(alice).data.notes.subscribe({}, () => {})).rejects.toThrow('The collection "notes" is not realtime');
    await expect(backend.system.transaction((tx) => tx.data.posts.subscribe({}, () => {}))).rejects.toThrow("inside a transaction");
    const iterator = backend.as(alice).data.posts.subscribe({ where: { nope: 1 } } as never);
    await expect(iterator.next()).rejects.toMatchObject({ code: "INVALID_QUERY" });
  });

  test("raw writes through realtime.write are heard like writes of the data API; other raw writes are not", async () => {
    const draft = await backend.as(bob).data.posts.create({ title: "raw", author: bob.id });
    const heard = recorder();
    await backend.as(alice).data.posts.subscribe({}, heard.push);
    const published = db.dialect === "postgres" ? true : 1;
    // Not announced: not heard.
    await backend.db.updateTable("posts").set({ title: "unheard" }).where("id", "=", draft.id).execute();
    await backend.realtime.write("posts", [draft.id, "no-such-id"], (db) =>
      db.updateTable("posts").set({ published: published as never, title: "raw" }).where("id", "=", draft.id).execute(),
    );
    // A write that changes nothing is not an event.
    await backend.realtime.write("posts", [draft.id], async () => {});
    await backend.realtime.write("posts", [draft.id], (db) => db.deleteFrom("posts").where("id", "=", draft.id).execute());
    await heard.until((events) => events.length >= 3);
    await partsOf(backend).realtime.sync();
    expect(heard.changes()).toEqual(["entered:raw", "deleted:raw"]);
    await expect(backend.realtime.write("notes", [draft.id], async () => {})).rejects.toThrow('"notes" is not realtime');
    await expect(backend.realtime.write("posts", [""], async () => {})).rejects.toThrow("non-empty strings");
    expect(backend.realtime.subscriptions).toBe(1);
  });

  test("closing the backend ends its subscriptions with closing", async () => {
    const closing = instance();
    const heard = recorder();
    await closing.as(alice).data.posts.subscribe({}, heard.push);
    await closing.close();
    expect(heard.events.map((e) => e.type)).toEqual(["ready", "end"]);
    expect(heard.events[1]).toEqual({ type: "end", reason: "closing" });
  });

  test("a write on one instance is heard by subscribers of another on the same database", async () => {
    const other = instance();
    const heard = recorder();
    await other.as(alice).data.posts.subscribe({}, heard.push);
    await backend.as(alice).data.posts.create({ title: "from elsewhere", author: alice.id });
    await heard.until((events) => events.length >= 2);
    expect(heard.changes()).toEqual(["created:from elsewhere"]);
  });
});

describe("realtime options", () => {
  test("unknown or bad options are refused", () => {
    expect(() => createBackend({ collections: { authors, posts }, database: undefined, realtime: { retention: -1 } })).toThrow("positive integer");
    expect(() => createBackend({ collections: { authors, posts }, realtime: { nope: 1 } as never })).toThrow('unknown option "nope"');
  });
});
