/**
 * The oracle of subscriptions: for random rules, filters and writes, what each subscriber heard,
 * applied to what `list` returned when it subscribed, is exactly what `list` returns after the
 * writes: the same records, each as the subscriber reads it. Seeded: a failure names its seed
 * (`CIMIENTO_ORACLE_SEED` replays it; `CIMIENTO_ORACLE_CASES` sets how many cases run).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { collection, createBackend, field, type Rule, type SubscriptionEvent } from "cimiento";
import type { Fields } from "cimiento/types";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { recordingLogger } from "../auth/support.js";

const CASES = Number(process.env["CIMIENTO_ORACLE_CASES"] ?? 300);
const SEED = Number(process.env["CIMIENTO_ORACLE_SEED"] ?? Date.now() % 1_000_000);

/** A small seeded generator (mulberry32). */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Random = ReturnType<typeof generator>;

const TAGS = ["a", "b", "c"] as const;
const NAMES = ["Ada", "Bo", "Cy"] as const;

/** A filter on posts, for a caller (`me`, or null): what rules and `where`s are made of. */
function filter(random: Random, me: string | null, authorIds: readonly string[], depth = 0): Record<string, unknown> {
  const kinds = depth < 2 ? 9 : 7;
  switch (random.int(kinds)) {
    case 0:
      return { published: random.chance(0.5) };
    case 1:
      return { score: { [random.pick(["gt", "gte", "lt", "lte", "eq", "ne"])]: random.int(10) } };
    case 2:
      return { tag: { in: TAGS.filter(() => random.chance(0.5)) } };
    case 3:
      return { author: me ?? random.pick(authorIds) };
    case 4:
      return { title: { [random.pick(["startsWith", "contains", "endsWith"])]: random.pick(["t", "1", "2", "x"]) } };
    case 5:
      return { author: { name: { in: NAMES.filter(() => random.chance(0.5)) } } };
    case 6:
      return { note: { isNull: random.chance(0.5) } };
    case 7:
      return { or: [filter(random, me, authorIds, depth + 1), filter(random, me, authorIds, depth + 1)] };
    default:
      return { and: [filter(random, me, authorIds, depth + 1), { not: filter(random, me, authorIds, depth + 1) }] };
  }
}

/** The list rule of the case being run, by caller; `true` or a filter. */
let listRule: (user: { id: string } | null) => boolean | Record<string, unknown> = () => true;

const authors = collection("authors", { fields: { name: field.text() }, access: { list: () => true, get: () => true } });
const posts = collection("posts", {
  fields: {
    title: field.text(),
    score: field.integer().default(0),
    published: field.boolean().default(false),
    tag: field.enum(TAGS).default("a"),
    note: field.text().optional(),
    author: field.belongsTo("authors"),
    secret: field.text().optional().access({ read: ({ user }) => user !== null && user.id.endsWith("0") }),
  },
  realtime: true,
  // The rule is built at random: typed as any rule of the fields, not checked as a literal filter.
  access: { list: (({ user }) => listRule(user)) as Rule<Fields>, get: (({ user }) => listRule(user)) as Rule<Fields> },
});

type Event = SubscriptionEvent<Record<string, unknown>>;

describeEachDatabase("the oracle of subscriptions", (db) => {
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  const authorIds: string[] = [];

  function make(database: Parameters<typeof createBackend>[0]["database"]) {
    return createBackend({ database, collections: { authors, posts }, logger: recordingLogger(), realtime: { maxPerCaller: 100 } });
  }

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = make(fresh.database);
    await backend.migrate();
    for (const name of NAMES) authorIds.push((await backend.system.data.authors.create({ name })).id);
  });
  afterAll(async () => {
    await backend?.close();
    await drop?.();
  });

  test(`${CASES} random cases: what each subscriber heard makes its list (seed ${SEED})`, { timeout: 300_000 }, async () => {
    const random = generator(SEED);
    const system = backend.system.data.posts;
    const realtime = partsOf(backend).realtime;
    let heardChanges = 0;
    for (let n = 0; n < CASES; n++) {
      await system.deleteMany({ where: {} });
      // The rule of this case: a filter per caller (or true for some).
      const rules = new Map<string | null, boolean | Record<string, unknown>>();
      for (const caller of [null, ...authorIds]) rules.set(caller, random.chance(0.15) ? true : filter(random, caller, authorIds));
      listRule = (user) => rules.get(user?.id ?? null) ?? false;
      const made = async () =>
        system.create({
          title: `t${random.int(3)}${random.pick(["", "x"])}`,
          score: random.int(10),
          published: random.chance(0.5),
          tag: random.pick(TAGS),
          note: random.chance(0.3) ? null : "n",
          author: random.pick(authorIds),
          secret: random.chance(0.5) ? "s" : null,
        });
      for (let i = random.int(4); i > 0; i--) await made();

      const subscribers = await Promise.all(
        Array.from({ length: 1 + random.int(3) }, async () => {
          const id = random.chance(0.2) ? null : random.pick(authorIds);
          const user = id === null ? null : { id, role: "user" };
          const options = { where: random.chance(0.3) ? {} : filter(random, id, authorIds), ...(random.chance(0.3) ? { select: ["title", "score"] as const } : {}) };
          // Random filters are not typed: the scope is seen untyped.
          const scope = backend.as(user).data.posts as unknown as {
            list(options: unknown): Promise<{ items: Record<string, unknown>[] }>;
            subscribe(options: unknown, onEvent: (event: Event) => void): Promise<() => void>;
          };
          const events: Event[] = [];
          const stop = await scope.subscribe(options, (event) => void events.push(event));
          const start = await scope.list({ ...options, limit: 100 });
          return { scope, options, events, stop, start: start.items };
        }),
      );
      for (let i = 2 + random.int(8); i > 0; i--) {
        const ids = (await system.list({ select: [], limit: 100 })).items.map((post) => post.id);
        const choice = ids.length === 0 ? 0 : random.int(6);
        if (choice === 0) await made();
        else if (choice === 1) await system.delete(random.pick(ids));
        else if (choice === 5) await system.updateMany({ where: filter(random, null, authorIds) as never, data: { score: random.int(10) } });
        else {
          await system.update(random.pick(ids), {
            ...(random.chance(0.5) ? { published: random.chance(0.5) } : {}),
            ...(random.chance(0.5) ? { score: random.int(10) } : {}),
            ...(random.chance(0.3) ? { tag: random.pick(TAGS) } : {}),
            ...(random.chance(0.3) ? { author: random.pick(authorIds) } : {}),
            ...(random.chance(0.3) ? { title: `t${random.int(3)}` } : {}),
          });
        }
      }
      await realtime.sync();
      for (const subscriber of subscribers) {
        subscriber.stop();
        const held = new Map(subscriber.start.map((record) => [record["id"], record]));
        // The subscription started before the list: an event may repeat what the list shows.
        for (const event of subscriber.events) {
          if (!("record" in event)) continue;
          heardChanges++;
          const id = event.record["id"];
          if (event.type === "deleted" || event.type === "left") held.delete(id);
          else held.set(id, event.record);
        }
        const now = (await subscriber.scope.list({ ...subscriber.options, limit: 100 })).items;
        const context = `case ${n} (seed ${SEED}), options ${JSON.stringify(subscriber.options)}, events ${JSON.stringify(subscriber.events.map((e) => e.type))}`;
        expect(sorted([...held.values()]), context).toEqual(sorted(now));
      }
    }
    // The cases heard something: the comparison was not of empty sets only.
    expect(heardChanges).toBeGreaterThan(CASES);
  });
});

function sorted(records: Record<string, unknown>[]): Record<string, unknown>[] {
  return [...records].sort((a, b) => String(a["id"]).localeCompare(String(b["id"])));
}
