/**
 * Serves the RealWorld (Conduit) API under /api: `npm run example:realworld`. SQLite by default
 * (REALWORLD_DB, default ./data/realworld.db), PostgreSQL when DATABASE_URL is set; PORT
 * (default 3000) and HOST (default 127.0.0.1).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { postgres } from "cimiento/postgres";
import { sqlite } from "cimiento/sqlite";
import { conduit } from "./backend.js";

const url = process.env["DATABASE_URL"];
const backend = conduit(url ? postgres({ connectionString: url }) : sqlite({ file: process.env["REALWORLD_DB"] ?? "./data/realworld.db" }));
await backend.migrate();

const app = new Hono().mount("/api", backend.fetch);
const hostname = process.env["HOST"] ?? "127.0.0.1";
const server = serve({ fetch: app.fetch, port: Number(process.env["PORT"] ?? 3000), hostname }, (info) => {
  console.log(`Conduit listens on http://${hostname}:${info.port}/api (${url ? "PostgreSQL" : "SQLite"})`);
  console.log(`Try: curl http://${hostname}:${info.port}/api/articles`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    void backend.close().then(() => process.exit(0));
  });
}
