/**
 * `cimiento/hono`: the backend as a Hono app, to mount with `app.route()`.
 * @module
 */
import { Hono, type Context, type ErrorHandler, type MiddlewareHandler, type Next } from "hono";
import { partsOf } from "../backend/backend-parts.js";

/**
 * A route's handler that answers its own errors as the backend's `onError` does. Hono's
 * `route()` does the same for every handler of an app that has an `onError`, with an error layer
 * it makes per request (a composition of its own, two async functions); this one is made once,
 * when mounted, and costs a request nothing until it fails. As Hono's, it answers `Error`s and
 * passes anything else thrown on (the backend's frame turns that into an `Error`).
 */
function answering(handler: MiddlewareHandler, onError: ErrorHandler): MiddlewareHandler {
  const fail = async (thrown: unknown, c: Context): Promise<Response> => {
    if (!(thrown instanceof Error)) throw thrown;
    c.error = thrown;
    c.res = await onError(thrown, c);
    return c.res;
  };
  return (c: Context, next: Next) => {
    let result: ReturnType<MiddlewareHandler>;
    try {
      result = handler(c, next);
    } catch (thrown) {
      return fail(thrown, c);
    }
    return result instanceof Promise ? result.catch((thrown: unknown) => fail(thrown, c)) : result;
  };
}

/**
 * The backend's HTTP API as a Hono app, to mount with `app.route(path, ...)`. It answers every
 * path under its mount (an unknown one with the backend's `ROUTE_NOT_FOUND`), so add the host's
 * routes beside it. `honoApp.mount("/api", backend.fetch)` works too.
 *
 * Every route answers its own errors (with the backend's error answers), so the app has Hono's
 * default `onError`, and mounting it adds no layer to a request; the host's `onError` never sees
 * an error of the backend's routes.
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
  const { app, answerError } = partsOf(backend);
  const mounted = new Hono();
  for (const route of app.routes) mounted.on(route.method, route.path, answering(route.handler as MiddlewareHandler, answerError));
  return mounted;
}
