/**
 * A Hono app on @hono/node-server with routes of its own and the quickstart's backend mounted
 * under /api. Run it with `npm run example:hono` (PORT and QUICKSTART_DB as for the quickstart).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { toHono } from "cimiento/hono";
import { openBackend } from "../quickstart/backend.js";
import { printDemoRequests } from "../quickstart/requests.js";

const { backend, demo } = await openBackend();

const app = new Hono();
app.get("/", (c) => c.text("A Hono app; the backend's API is under /api."));
app.get("/stats", async (c) =>
  // The host's own code uses the backend in-process, through a scope.
  c.json({ posts: await backend.system.data.posts.count(), comments: await backend.system.data.comments.count() }),
);
app.route("/api", toHono(backend)); // or: app.mount("/api", backend.fetch)

const server = serve({ fetch: app.fetch, port: Number(process.env["PORT"] ?? 3000), hostname: "127.0.0.1" }, (info) => {
  const origin = `http://localhost:${info.port}`;
  console.log(`\nThe Hono app listens on ${origin} (its own routes: / and /stats; the API: ${origin}/api)`);
  printDemoRequests(`${origin}/api`, demo);
  console.log("\nStop with Ctrl+C; the data is kept for the next run.");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void backend.close().then(() => process.exit(0));
  });
}
