/**
 * A server of the realtime benchmark: one backend with a realtime collection, served over HTTP
 * by `node:http`, on the database its parent names. Told by its parent over IPC: write records
 * (each with the time it was sent, so that subscribers measure the delivery), and report its
 * memory.
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { collection, createBackend, field, postgres, sqlite, toNodeHandler } from "./cimiento.js";
import { epochMs } from "./jobs-shared.js";

/** What the parent says once the server is up. */
export interface ServerTask {
  readonly dialect: "sqlite" | "postgres";
  readonly target: string;
  readonly schema?: string;
  readonly migrate: boolean;
}

export const ticks = collection("ticks", {
  fields: { n: field.integer(), sentAt: field.number(), visible: field.boolean().default(true) },
  realtime: true,
  access: { list: () => ({ visible: true }), create: () => true },
});

const task = JSON.parse(process.argv[2]!) as ServerTask;
const database = task.dialect === "sqlite" ? sqlite({ file: task.target }) : postgres({ connectionString: task.target, schema: task.schema, max: 10 });
const backend = createBackend({
  database,
  collections: { ticks },
  logger: { error: (message, data) => console.error(message, data), warn: () => {} },
  realtime: { maxPerProcess: 100_000, maxPerCaller: 100_000, maxBuffered: 100_000 },
});
if (task.migrate) await backend.migrate();
const server = createServer(toNodeHandler(backend));
server.keepAliveTimeout = 600_000;
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

type Message = { write?: { from: number; count: number; gap: number }; memory?: true; stop?: true };

process.on("message", async (message: Message) => {
  if (message.write !== undefined) {
    const { from, count, gap } = message.write;
    for (let n = from; n < from + count; n++) {
      await backend.system.data.ticks.create({ n, sentAt: epochMs() });
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
    }
    process.send!({ written: count });
  } else if (message.memory) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    globalThis.gc?.();
    const usage = process.memoryUsage();
    process.send!({ memory: { rss: usage.rss, heapUsed: usage.heapUsed }, subscriptions: backend.realtime.subscriptions });
  } else if (message.stop) {
    server.closeAllConnections();
    server.close();
    await backend.close();
    process.exit(0);
  }
});
process.send!({ port: (server.address() as AddressInfo).port });
