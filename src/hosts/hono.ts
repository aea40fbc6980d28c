/**
 * `cimiento/hono`: the backend as a Hono app, to mount with `app.route()`.
 * @module
 */
import { Hono } from "hono";
import { partsOf } from "../backend/backend-parts.js";

/**
 * The backend's HTTP API as a Hono app, to mount with `app.route(path, ...)`. It answers every
 * path under its mount (an unknown one with the backend's `ROUTE_NOT_FOUND`), so add the host's
 * routes beside it. `honoApp.mount("/api", backend.fetch)` works too.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { toHono } from "cimiento/hono";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.text("host routes live here"));
 * app.route("/api", toHono(backend));
 * ```
 */
export function toHono(backend: object): Hono {
  return new Hono().route("/", partsOf(backend).app);
}
