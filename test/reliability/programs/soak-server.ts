/**
 * The soak suite's server: the reliability app with built-in auth (cheap hashing, credential
 * limits raised out of the way), in its own process: `node soak-server.mjs <json>` with
 * `{ connection }`. It prints `ready <port>` once it listens, with a signed-up account.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createBackend, scryptHasher } from "cimiento";
import { closeOnSignals, toNodeHandler } from "cimiento/node";
import { open, type Connection } from "../../jobs/programs/connection.js";
import { notes, receipt, receipts, writeBatch } from "./app.js";

const SOAK_ACCOUNT = { email: "soak@example.com", password: "a soak test password" } as const;

const options = JSON.parse(process.argv[2]!) as { connection: Connection };
const backend = createBackend({
  database: open(options.connection),
  collections: { notes, receipts },
  actions: { writeBatch },
  jobs: { receipt },
  auth: {
    password: { requireEmailVerification: false, hasher: scryptHasher({ logN: 10 }) },
    rateLimit: { perAddress: { max: 1_000_000_000, window: "1m" }, signIn: { max: 1_000_000_000, window: "1m" } },
  },
});
await backend.migrate();
await backend.auth.createUser(SOAK_ACCOUNT);
backend.jobs.start({ concurrency: 4, pollInterval: 50 });
const server = createServer(toNodeHandler(backend));
closeOnSignals(server, backend, { timeout: 5_000, log: (message) => console.error(message) });
server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as AddressInfo).port}`));
