/**
 * An Express app with routes of its own and the quickstart's backend mounted under /api. Run it
 * with `npm run example:express` (PORT and QUICKSTART_DB as for the quickstart).
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { toNodeHandler } from "cimiento/node";
import { openBackend } from "../quickstart/backend.js";
import { printDemoRequests } from "../quickstart/requests.js";

const { backend, demo } = await openBackend();

const app = express();
app.use("/api", toNodeHandler(backend)); // before any body parser: the backend reads its own bodies
app.use(express.json()); // for the host's own routes
app.get("/", (_req, res) => {
  res.send("An Express app; the backend's API is under /api.");
});
app.get("/stats", async (_req, res) => {
  // The host's own code uses the backend in-process, through a scope.
  res.json({ posts: await backend.system.data.posts.count(), comments: await backend.system.data.comments.count() });
});

const server = app.listen(Number(process.env["PORT"] ?? 3000), "127.0.0.1", () => {
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  console.log(`\nThe Express app listens on ${origin} (its own routes: / and /stats; the API: ${origin}/api)`);
  printDemoRequests(`${origin}/api`, demo);
  console.log("\nStop with Ctrl+C; the data is kept for the next run.");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void backend.close().then(() => process.exit(0));
  });
}
