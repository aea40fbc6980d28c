/**
 * One server of the benchmark, in its own process: `node --import tsx bench/server.ts <json>`
 * (what it serves is built by servers.ts).
 * It listens on a random loopback port, says so over IPC, and answers `"cpu"` with the CPU time
 * it has used and `"stats"` with its peak resident memory.
 * @module
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { buildServer } from "./servers.js";
import type { ServerSpec } from "./variants.js";

async function listen(server: Server): Promise<number> {
  if (!server.listening) await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function start(spec: ServerSpec): Promise<{ port: number; close: () => Promise<void> }> {
  const built = buildServer(spec);
  const server =
    built.kind === "fetch"
      ? (serve({ fetch: built.fetch, port: 0, hostname: "127.0.0.1" }) as Server)
      : createServer(built.listener).listen(0, "127.0.0.1");
  return { port: await listen(server), close: () => built.close() };
}

function cpuMicroseconds(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const spec = JSON.parse(process.argv[2]!) as ServerSpec;
const running = await start(spec);
process.on("message", (message) => {
  if (message === "cpu") process.send!({ cpuUs: cpuMicroseconds() });
  if (message === "stats") process.send!({ maxRssKb: process.resourceUsage().maxRSS });
  if (message === "exit") void running.close().finally(() => process.exit(0));
});
process.send!({ port: running.port });
