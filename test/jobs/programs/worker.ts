/**
 * A worker process: argv[2] is JSON `{ connection, concurrency, leaseDuration, pollInterval }`.
 * It prints "ready" once its worker runs, and stops gracefully on SIGTERM.
 */
import type { Connection } from "./connection.js";
import { workBackend } from "./work-schema.js";

const options = JSON.parse(process.argv[2]!) as {
  connection: Connection;
  concurrency: number;
  leaseDuration: number;
  pollInterval: number;
};
const backend = workBackend(options.connection, {
  error: (message, details) => console.error(message, details),
  warn: () => {},
});
backend.jobs.start({ concurrency: options.concurrency, leaseDuration: options.leaseDuration, pollInterval: options.pollInterval });
process.on("SIGTERM", () => {
  void backend.close().then(() => process.exit(0));
});
process.stdout.write("ready\n");
