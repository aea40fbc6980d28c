/**
 * @internal What every request and response of the backend gets, in one middleware: a request
 * id, the security headers and (for requests with a body) the body limit.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { apiError } from "../errors/api-error.js";
import type { RequestGate } from "./gate.js";
import { finishResponse, REQUEST_ID } from "./response-headers.js";

/** An incoming request id is kept when it is a short token of these characters (as Hono's requestId()). */
const SAFE_ID = /^[\w\-=]{1,255}$/;

/** This request's id: the incoming one when it is a safe token, otherwise a new UUID. */
export function requestIdOf(c: Context): string {
  const incoming = c.req.header(REQUEST_ID);
  return incoming !== undefined && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * A value thrown that is not an `Error` (`throw "no"` in a hook, say): Hono's `onError` answers
 * `Error`s only, so the frame throws this in its place; `value` is what was thrown.
 */
export class ThrownValue extends Error {
  readonly value: unknown;
  constructor(value: unknown) {
    super("A value that is not an Error was thrown.");
    this.value = value;
  }
}

/** The seconds a client is told to wait before it tries again a backend that is closing. */
const RETRY_AFTER_CLOSING = 1;

/** Throws 503 `UNAVAILABLE` (with `Retry-After`) once the backend is closing. */
export function refuseWhenClosing(gate: RequestGate): void {
  if (gate.closing) {
    throw apiError("UNAVAILABLE", "The backend is shutting down; try again shortly.", { reason: "closing", retryAfter: RETRY_AFTER_CLOSING });
  }
}

/**
 * The middleware: decides the request id (`c.get("requestId")`), refuses the request with 503
 * `UNAVAILABLE` once the backend is closing (unless `refuseClosing` is false: then a later
 * middleware does, after CORS), runs the body limit (when given, for requests that may have a
 * body), then the rest, counted in `gate` until it is answered, and finishes the response (with
 * the `Cache-Control` of `c.get("cacheControl")`, when the request set one). It answers no error:
 * errors go to the app's `onError`, which finishes its own response (an error thrown by the body
 * limit here never comes back to this middleware).
 */
export function frame<E extends { Variables: { requestId: string; cacheControl?: string } }>(
  limitBody: MiddlewareHandler<E> | undefined,
  gate: RequestGate,
  refuseClosing = true,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const id = requestIdOf(c);
    c.set("requestId", id);
    if (refuseClosing) refuseWhenClosing(gate);
    gate.enter();
    try {
      if (limitBody !== undefined && c.req.method !== "GET" && c.req.method !== "HEAD") await limitBody(c, next);
      else await next();
    } catch (thrown) {
      throw thrown instanceof Error ? thrown : new ThrownValue(thrown);
    } finally {
      gate.leave();
    }
    finishResponse(c.res, id, c.get("cacheControl"));
  };
}
