/**
 * The quickstart: a small blog backend on an embedded SQLite file, served over HTTP by
 * `node:http`. Run it with `npm start` (PORT and QUICKSTART_DB change the port and the file).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeHandler } from "cimiento/node";
import { openBackend } from "./backend.js";
import { withLivePage } from "./live.js";
import { printDemoRequests } from "./requests.js";

const { backend, demo } = await openBackend();

const server = createServer(withLivePage(toNodeHandler(backend)));
server.listen(Number(process.env["PORT"] ?? 3000), "127.0.0.1", () => {
  const base = `http://localhost:${(server.address() as AddressInfo).port}`;
  console.log(`\nThe API of the quickstart backend listens on ${base}`);
  printDemoRequests(base, demo);
  console.log(`\nWatch the published posts arrive, live: open ${base}/live, then create or publish one.`);
  console.log("\nStop with Ctrl+C; the data is kept for the next run.");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void backend.close().then(() => process.exit(0));
  });
}
