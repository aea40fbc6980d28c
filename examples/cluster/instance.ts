/**
 * One instance of the cluster example: the backend on the shared PostgreSQL schema, its job
 * worker (which runs the schedule too) and a `node:http` server on PORT (0: any free port). It
 * prints `ready <port>` once it listens, answers with `X-Instance: <name>`, and shuts down
 * gracefully on SIGTERM or SIGINT (closeOnSignals), or when the process that started it goes.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { closeOnSignals, toNodeHandler } from "cimiento/node";
import { clusterBackend, instanceName } from "./backend.js";

const INSTANCE = instanceName();
const backend = clusterBackend({
  url: process.env["DATABASE_URL"] ?? "postgres://root@127.0.0.1:5432/test",
  schema: process.env["CLUSTER_SCHEMA"] ?? "cimiento_cluster",
});
await backend.migrate(); // every instance may: the schema is brought up to date once, under a lock
backend.jobs.start({ concurrency: 4 });

const handle = toNodeHandler(backend);
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
  res.setHeader("x-instance", INSTANCE);
  void handle(req, res);
});
server.keepAliveTimeout = 5_000;
closeOnSignals(server, backend, { timeout: 5_000, log: (message) => console.error(`[${INSTANCE}] ${message}`) });
// Started by the example's launcher: when it goes away (even killed), so does this instance.
process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
server.listen(Number(process.env["PORT"] ?? 0), "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
