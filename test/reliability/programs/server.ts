/**
 * A server of the reliability app in its own process: `node server.mjs <json>` with
 * `{ connection, timeout, worker, leaseDuration? }`. It prints `ready <port>` once it listens, and shuts down
 * gracefully on SIGTERM (closeOnSignals). At exit it prints to stderr the requests it received,
 * those it answered in full and those whose connection closed before the answer was whole:
 * `requests <received> <answered> <cut>`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { closeOnSignals, toNodeHandler } from "cimiento/node";
import type { Connection } from "../../jobs/programs/connection.js";
import { appBackend } from "./app.js";

const options = JSON.parse(process.argv[2]!) as { connection: Connection; timeout: number; worker: boolean; leaseDuration?: number };
const backend = appBackend(options.connection);
await backend.migrate();
if (options.worker) backend.jobs.start({ concurrency: 4, pollInterval: 20, ...(options.leaseDuration === undefined ? {} : { leaseDuration: options.leaseDuration }) });
const server = createServer(toNodeHandler(backend));
const counts = { received: 0, answered: 0, cut: 0 };
server.on("request", (_request, response) => {
  counts.received++;
  response.on("finish", () => counts.answered++);
  response.on("close", () => {
    if (!response.writableFinished) counts.cut++;
  });
});
process.on("exit", () => console.error(`requests ${counts.received} ${counts.answered} ${counts.cut}`));
closeOnSignals(server, backend, { timeout: options.timeout, log: (message) => console.error(message) });
server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
