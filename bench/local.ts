/**
 * The local API in-process: `backend.system` and `backend.as(user)` against the same raw
 * prepared statements, for get, list and create (tinybench).
 * @module
 */
import { Bench } from "tinybench";
import { postgres, sqlite } from "./cimiento.js";
import type { BenchDatabase } from "./databases.js";
import { benchBackend, createBody } from "./fixture.js";
import { postgresStore } from "./raw/postgres-store.js";
import { sqliteStore } from "./raw/sqlite-store.js";
import { checkNewPost, PAGE } from "./raw/store.js";

/** Who calls: raw statements, the system scope, or a caller through `backend.as(user)`. */
export type LocalVariant = "raw" | "system" | "as";

/** What one measured task gave. */
export interface LocalFigure {
  readonly operation: "get" | "list" | "create";
  readonly variant: LocalVariant;
  readonly dialect: "sqlite" | "postgres";
  readonly opsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** Runs the in-process tasks on a fresh copy of `database`. */
export async function measureLocal(database: BenchDatabase, milliseconds: number): Promise<LocalFigure[]> {
  const target = await database.copy();
  const raw = database.dialect === "sqlite" ? sqliteStore(target) : postgresStore(target, 1);
  const backend =
    database.dialect === "sqlite"
      ? benchBackend(sqlite({ file: target }), "host")
      : benchBackend(postgres({ connectionString: target, max: 1 }), "host");
  const user = { id: database.caller.userId, role: "member" };
  const ids = database.ids;
  let next = 0;
  const id = () => ids[(next = (next + 1) % ids.length)]!;
  const listOptions = { where: { published: true }, orderBy: [{ views: "desc" }], limit: PAGE } as const;
  const body = createBody(user.id);
  const tasks: Record<LocalFigure["operation"], Record<LocalVariant, () => unknown>> = {
    get: {
      raw: () => raw.get(id(), user.id),
      system: () => backend.system.data.posts.get(id()),
      as: () => backend.as(user).data.posts.get(id()),
    },
    list: {
      raw: () => raw.list(user.id, false),
      system: () => backend.system.data.posts.list(listOptions),
      as: () => backend.as(user).data.posts.list(listOptions),
    },
    create: {
      raw: () => raw.create(checkNewPost(body)!),
      system: () => backend.system.data.posts.create(body),
      as: () => backend.as(user).data.posts.create(body),
    },
  };
  const figures: LocalFigure[] = [];
  try {
    for (const [operation, variants] of Object.entries(tasks) as [LocalFigure["operation"], Record<LocalVariant, () => unknown>][]) {
      const bench = new Bench({ time: milliseconds, warmupTime: Math.min(200, milliseconds / 2) });
      for (const [variant, fn] of Object.entries(variants)) bench.add(variant, fn as () => Promise<unknown>);
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result.state !== "completed") throw new Error(`The in-process task ${operation}/${task.name} ${result.state}.`);
        figures.push({
          operation,
          variant: task.name as LocalVariant,
          dialect: database.dialect,
          opsPerSecond: 1000 / result.period,
          p50Us: result.latency.p50 * 1000,
          p99Us: result.latency.p99 * 1000,
        });
      }
    }
    return figures;
  } finally {
    await backend.close();
    await raw.close();
    await database.discard(target);
  }
}
