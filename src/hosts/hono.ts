/**
 * `cimiento/hono`: the backend as a Hono app, to mount with `app.route()`.
 * @module
 */
import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { partsOf } from "../backend/backend-parts.js";
import type { Route } from "../http/core.js";
import type { Answer } from "../http/exchange.js";
import { bodyFor, FetchArrival } from "../http/fetch-transport.js";
import { setAnswerHeaders } from "../http/response-headers.js";

/**
 * An answer as the response of Hono's context: made with `c.body()`, so that headers a host
 * middleware prepared with `c.header()` are kept, then given the answer's own headers.
 */
function respond(c: Context, answer: Answer): Response {

  const type = answer.headers["content-type"];
  const body = bodyFor(answer, c.req.method);
  const response = c.body(body as string, answer.status as ContentfulStatusCode, typeof type === "string" ? { "content-type": type } : {});
  setAnswerHeaders(response, answer.headers);
  return response;
}

/**
 * The backend's HTTP API as a Hono app, to mount with `app.route(path, ...)`. It answers every
 * path under its mount (an unknown one with the backend's `ROUTE_NOT_FOUND`), so add the host's
 * routes beside it. `honoApp.mount("/api", backend.fetch)` works too.
 *
 * Hono routes each request to the backend's route, which answers its own errors (with the
 * backend's error answers): the host's `onError` never sees an error of the backend's routes,
 * and headers a host middleware sets (with `c.header()`, before or after) reach its answers.
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
  const { core } = partsOf(backend);
  const mounted = new Hono();
  const serve = (route: Route | undefined) => async (c: Context) => {
    const params = Object.assign(Object.create(null), route === undefined ? {} : c.req.param()) as Record<string, string>;
    // A host middleware sees the error a route answered in `c.error`, as with Hono's own onError.
    return respond(c, await core.run(route, new FetchArrival(c.req.raw, c.env, c.req.path), params, (error) => (c.error = error)));
  };
  for (const route of core.routes) mounted.on(route.method, route.path, serve(route));
  // Last, so that every route above wins; unknown paths, and CORS preflights, are the core's too.
  mounted.all("*", serve(undefined));
  return mounted;
}
