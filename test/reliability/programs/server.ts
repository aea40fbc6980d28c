/**
 * A server of the reliability app in its own process: `node server.mjs <json>` with
 * `{ connection, timeout, worker, leaseDuration? }`. It prints `ready <port>` once it listens, and shuts down
 * gracefully on SIGTERM (closeOnSignals).
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
closeOnSignals(server, backend, { timeout: options.timeout, log: (message) => console.error(message) });
server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
