/**
 * The measuring side of retention.test.ts, in a process of its own run with `--single-threaded
 * --expose-gc`, so that nothing else (other tests, V8's background compilers and markers) moves
 * objects to the old generation meanwhile. Prints `{ action, create, hooks, computed, list }`: the
 * bytes each operation's calls moved there (see `leftBehind`). On SQLite in memory by default;
 * `postgres <url> <schema>` runs them on PostgreSQL, in that (existing, empty) schema.
 */
import { setImmediate as nextTask } from "node:timers/promises";
import { GCProfiler, type GCProfilerResult } from "node:v8";
import { z } from "zod";
import { action, collection, createBackend, field } from "../../../src/index.js";
import { sqlite } from "../../../src/dialects/sqlite/index.js";
import { postgres } from "../../../src/dialects/postgres/index.js";

const gc = (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc!;

/** What young-generation collections moved to the old generation: its growth across each of them. */
function promoted(result: GCProfilerResult | undefined): number {
  type Stats = GCProfilerResult["statistics"][number]["afterGC"];
  const oldSpace = (stats: Stats) => stats.heapSpaceStatistics.find((space) => space.spaceName === "old_space")!.spaceUsedSize;
  let bytes = 0;
  for (const collection of result?.statistics ?? []) {
    if (collection.gcType === "Scavenge") bytes += oldSpace(collection.afterGC) - oldSpace(collection.beforeGC);
  }
  return bytes;
}

const notes = collection("notes", {
  fields: {
    title: field.text(),
    body: field.text().optional(),
    owner: field.text(),
    published: field.boolean().default(false),
    likes: field.integer().default(0),
    tags: field.json(z.array(z.string())).default([]),
  },
  access: { list: () => true, get: () => true, create: () => true, update: () => true },
});

/** A collection with hooks: every write makes their contexts. */
const logged = collection("logged", {
  fields: { title: field.text() },
  access: { create: () => true },
  hooks: {
    beforeCreate: ({ data }) => data,
    afterCreate: ({ record, afterCommit }) => {
      if (record["title"] === "never") afterCommit(() => undefined);
    },
  },
});

/** A collection with a computed field: every write returns it, added to a copy of the written row. */
const lists = collection("lists", {
  fields: { title: field.text(), entries: field.hasMany("entries", { on: "list" }), entryCount: field.count("entries") },
  access: { create: () => true, get: () => true, list: () => true },
});
const entries = collection("entries", { fields: { list: field.belongsTo("lists") }, access: { list: () => true } });

const like = action({
  input: z.object({ id: z.string() }),
  access: () => true,
  async handler({ input, data }) {
    const note = await data.notes.get(input.id);
    return data.notes.update(input.id, { likes: (note!.likes as number) + 1 });
  },
});

/** Uncounted calls first: compiling what they run fills the old generation too. */
const WARM_UP = 2_000;
const CALLS = 2_000;

/**
 * The bytes young-generation collections move to the old generation during `CALLS` calls,
 * after as many uncounted ones: the least of three rounds, since a collection of the old
 * generation under way meanwhile makes young ones move more. A call that leaves objects behind
 * moves megabytes in every round.
 */
async function leftBehind(call: () => Promise<unknown>): Promise<number> {
  const calls = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await call();
      await nextTask();
    }
  };
  await calls(WARM_UP);
  let least = Infinity;
  for (let round = 0; round < 3; round++) {
    // A full collection first ends any marking under way, which would make young ones move more.
    gc({ type: "major" });
    const profiler = new GCProfiler();
    profiler.start();
    await calls(CALLS);
    gc({ type: "minor" });
    gc({ type: "minor" });
    least = Math.min(least, promoted(profiler.stop()));
  }
  return least;
}

const [dialect, url, schema] = process.argv.slice(2);
const database = dialect === "postgres" ? postgres({ connectionString: url!, schema: schema!, max: 2 }) : sqlite({ file: ":memory:" });
const backend = createBackend({ database, collections: { notes, logged, lists, entries }, actions: { like } });
await backend.migrate();
const id = (await backend.system.data.notes.create({ title: "First", owner: "u1" })).id as string;
await backend.system.data.notes.createMany(Array.from({ length: 25 }, (_, i) => ({ title: `Note ${i}`, owner: "u1", tags: ["a", "b"] })));
const user = { id: "u1", role: "member" };
const left = {
  // A page of 20 records: the driver's rows, decoded and answered.
  list: await leftBehind(() => backend.as(user).data.notes.list({ limit: 20 })),
  action: await leftBehind(() => backend.as(user).actions.like({ id })),
  create: await leftBehind(() => backend.system.data.notes.create({ title: "A note", owner: "u2", published: true })),
  hooks: await leftBehind(() => backend.system.data.logged.create({ title: "A line" })),
  computed: await leftBehind(() => backend.system.data.lists.create({ title: "A list" })),
};
await backend.close();
console.log(JSON.stringify(left));
