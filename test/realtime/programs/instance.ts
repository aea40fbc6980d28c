/**
 * One instance of the cluster example's backend in its own process, for the multi-instance
 * suite: `node instance.mjs <json>` with `{ url, schema, name, cron, sessionCheckInterval }`. It
 * prints `ready <port>` once it listens, answers with `X-Instance: <name>`, and shuts down
 * gracefully on SIGTERM (closeOnSignals).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { closeOnSignals, toNodeHandler } from "cimiento/node";
import { clusterBackend } from "../../../examples/cluster/backend.js";

const options = JSON.parse(process.argv[2]!) as { url: string; schema: string; name: string; cron: string; sessionCheckInterval: number };
process.env["INSTANCE"] = options.name; // what its jobs record
const backend = clusterBackend({
  url: options.url,
  schema: options.schema,
  cron: options.cron,
  realtime: { sessionCheckInterval: options.sessionCheckInterval, heartbeat: 1_000 },
  logger: { error: (message, details) => console.error(message, details ?? ""), warn: (message, details) => console.error(message, details ?? "") },
});
await backend.migrate();
backend.jobs.start({ concurrency: 4, pollInterval: 250 });
const handle = toNodeHandler(backend);
const server = createServer((req, res) => {
  res.setHeader("x-instance", options.name);
  void handle(req, res);
});
closeOnSignals(server, backend, { timeout: 3_000, log: (message) => console.error(message) });
server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
