/**
 * `cimiento/hono`: the backend as a Hono app, to mount with `app.route()`.
 * @module
 */
import { Hono } from "hono";
import { appOf } from "../http/registry.js";

/**
 * The backend's HTTP API as a Hono app of its own (routes added to it do not change the
 * backend). `honoApp.mount("/api", backend.fetch)` works too.
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
  return new Hono().route("/", appOf(backend));
}
