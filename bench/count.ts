/**
 * The counted requests of one process run under `valgrind --tool=callgrind` by callgrind.ts:
 * `node --expose-gc bench/.count.mjs <json>` (a `CountTask`; the file is this module bundled by
 * esbuild, so that no TypeScript loader runs under valgrind). It builds one handler on its copy
 * of the database and, for each of the task's items in turn, answers `warmup` requests,
 * empties the young generation, then answers `count` counted ones. Around each counted phase it calls
 * `os.getPriority()`, which nothing else calls: callgrind, told
 * `--dump-before=uv_os_getpriority`, dumps its counters there, so that each counted phase is a
 * dump of its own, without start-up and warm-up: item `j`'s is dump `2j + 2`.
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { getPriority } from "node:os";
import { getRequestListener } from "@hono/node-server";
import { postgres, sqlite } from "./cimiento.js";
import { benchBackend } from "./fixture.js";
import { postgresStore } from "./raw/postgres-store.js";
import { sqliteStore } from "./raw/sqlite-store.js";
import { requestHeaders, scenarioOf, type BenchCaller, type HttpScenario } from "./scenarios.js";
import { buildServer, MOUNT } from "./servers.js";

/**
 * What one process counts: scenarios through one Hono variant (served by `@hono/node-server`, as
 * the HTTP rounds serve it) or one `node:http` variant, on loopback in the same process and
 * called over one kept-alive connection (items are scenario keys); or the in-process get (items `raw`, the prepared
 * statement, and `as`, `backend.as(user)`).
 */
export type CountSubject = "hono-raw" | "hono-cimiento" | "node-raw" | "node-cimiento" | "local";

/** What a counting process is told. */
export interface CountTask {
  readonly subject: CountSubject;
  /** What is counted, in this order. */
  readonly items: readonly string[];
  readonly dialect: "sqlite" | "postgres";
  /** The SQLite file, or the PostgreSQL connection string, of this process's copy. */
  readonly target: string;
  /** A JSON file of the seeded ids the caller may read, and the caller (`{ ids, caller }`). */
  readonly idsFile: string;
  /** Uncounted requests before each item's counted ones. */
  readonly warmup: number;
  /** Counted requests of each item. */
  readonly count: number;
  /** The seed of the ids' random order, the same for every item. */
  readonly seed: number;
}

/** The ids in a repeatable random order (mulberry32 from `seed`). */
function seededPick(ids: readonly string[], seed: number): () => string {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const random = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return ids[Math.floor(random * ids.length)]!;
  };
}

/** Marks a phase boundary for callgrind (see the module's note). */
function mark(): void {
  getPriority(0);
}

type Operation = (id: string) => Promise<void>;

/**
 * The bytes of one HTTP/1.1 request of `scenario` to `id`, as the load generator sends them (its
 * headers, and the body's length).
 */
function requestBytes(scenario: HttpScenario, caller: BenchCaller, id: string): string {
  const path = `${MOUNT}${scenario.path.replace(":id", id)}${scenario.query === undefined ? "" : `?${scenario.query}`}`;
  const body = scenario.body?.(caller);
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = Object.entries(requestHeaders(scenario, caller)).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  const length = body === undefined ? "" : `content-length: ${Buffer.byteLength(text)}\r\n`;
  return `${scenario.method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}${length}\r\n${text}`;
}

/**
 * A client of one kept-alive connection: sends a request's bytes and resolves with the answer's
 * status once the whole answer came (by its `Content-Length`, or the last chunk of a chunked one).
 */
function connection(socket: Socket): (bytes: string) => Promise<number> {
  let received = "";
  let waiting: ((status: number) => void) | undefined;
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    received += chunk;
    const end = received.indexOf("\r\n\r\n");
    if (end < 0 || waiting === undefined) return;
    const head = received.slice(0, end).toLowerCase();
    const length = /\ncontent-length: *(\d+)/.exec(head);
    const whole = length !== null ? received.length >= end + 4 + Number(length[1]) : received.endsWith("\r\n0\r\n\r\n");
    if (!whole) return;
    const status = Number(received.slice(9, 12));
    received = "";
    const resolve = waiting;
    waiting = undefined;
    resolve(status);
  });
  return (bytes) =>
    new Promise((resolve) => {
      waiting = resolve;
      socket.write(bytes);
    });
}

/** Each item's operation: a request answered and its whole body read, or one local get. */
function operations(task: CountTask, caller: BenchCaller): { operation: (item: string) => Operation; close: () => Promise<void> } {
  if (task.subject === "local") {
    const raw = task.dialect === "sqlite" ? sqliteStore(task.target) : postgresStore(task.target, 1);
    const backend =
      task.dialect === "sqlite"
        ? benchBackend(sqlite({ file: task.target }), "host")
        : benchBackend(postgres({ connectionString: task.target, max: 1 }), "host");
    const user = { id: caller.userId, role: "member" };
    const gets: Record<string, (id: string) => unknown> = {
      raw: (id) => raw.get(id, user.id),
      as: (id) => backend.as(user).data.posts.get(id),
    };
    return {
      operation: (item) => {
        const get = gets[item];
        if (get === undefined) throw new Error(`There is no local item "${item}".`);
        return async (id) => {
          if ((await get(id)) === null) throw new Error(`The ${item} get found nothing.`);
        };
      },
      close: async () => {
        await backend.close();
        await raw.close();
      },
    };
  }
  // A server per scenario, as the HTTP rounds have: its auth is the scenario's. A Hono variant is
  // served as bench/server.ts serves it (by @hono/node-server, whose Request and Response stand
  // in for the platform's), a node:http one by its listener.
  const closing: (() => Promise<void>)[] = [];
  const subject = task.subject;
  return {
    operation: (item) => {
      const scenario = scenarioOf(item);
      const built = buildServer({ variant: subject, scenario: item, dialect: task.dialect, target: task.target });
      const server = createServer(built.kind === "node" ? built.listener : getRequestListener(built.fetch)).listen(0, "127.0.0.1");
      let send: Promise<(bytes: string) => Promise<number>> | undefined;
      closing.push(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await built.close();
      });
      return async (id) => {
        send ??= new Promise((resolve) => {
          const open = () => {
            const socket = connect((server.address() as AddressInfo).port, "127.0.0.1", () => resolve(connection(socket)));
          };
          if (server.listening) open();
          else server.once("listening", open);
        });
        const status = await (await send)(requestBytes(scenario, caller, id));
        if (status !== scenario.status) throw new Error(`${subject} answered ${scenario.key} with ${status}.`);
      };
    },
    close: async () => {
      for (const close of closing) await close();
    },
  };
}

const collect = (globalThis as { gc?: (options: { type: "minor" }) => void }).gc;
if (collect === undefined) throw new Error("count.ts runs with --expose-gc.");
const task = JSON.parse(process.argv[2]!) as CountTask;
const { ids, caller } = JSON.parse(readFileSync(task.idsFile, "utf8")) as { ids: string[]; caller: BenchCaller };
const { operation, close } = operations(task, caller);
try {
  for (const item of task.items) {
    const run = operation(item);
    const next = seededPick(ids, task.seed);
    for (let i = 0; i < task.warmup; i++) await run(next());
    // Every counted phase starts from an empty young generation, whatever came before it. Not a
    // full collection: that throws away optimised code, which the counted phase would then
    // spend recompiling.
    collect({ type: "minor" });
    mark();
    for (let i = 0; i < task.count; i++) await run(next());
    mark();
  }
} finally {
  await close();
}
