/**
 * @internal What every request and response of the backend gets, in one middleware: a request
 * id, the security headers and (for requests with a body) the body limit.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";

/**
 * The security headers of every response: Hono's `secureHeaders()` defaults but
 * Cross-Origin-Resource-Policy, which is off because the API is meant to be called from other
 * origins (CORS decides).
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["cross-origin-opener-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "no-referrer"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "SAMEORIGIN"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

const REQUEST_ID = "x-request-id";
/** Headers this module sets (so a response's own are replaced) or removes. */
const OWN = new Set([REQUEST_ID, "x-powered-by", ...SECURITY_HEADERS.map(([name]) => name)]);
/** An incoming request id is kept when it is a short token of these characters (as Hono's requestId()). */
const SAFE_ID = /^[\w\-=]{1,255}$/;

type Bag = Record<PropertyKey, unknown>;

/** This request's id: the incoming one when it is a safe token, otherwise a new UUID. */
export function requestIdOf(c: Context): string {
  const incoming = c.req.header(REQUEST_ID);
  return incoming !== undefined && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * The key under which `@hono/node-server`'s Response keeps `[status, body, headers]` when it was
 * made with a string or bytes body: the headers given at construction, which it writes to the
 * socket as they are. Found by making one such Response per global `Response` class.
 */
let probedFor: unknown;
let cacheKey: symbol | undefined;

function responseCacheKey(): symbol | undefined {
  const Constructor = globalThis.Response;
  if (Constructor !== probedFor) {
    probedFor = Constructor;
    const init = { headers: { "content-type": "text/plain" } };
    const probe = new Constructor("probe", init) as unknown as Bag;
    cacheKey = Object.getOwnPropertySymbols(probe).find((key) => {
      const value = probe[key];
      return Array.isArray(value) && value.length === 3 && value[1] === "probe" && value[2] === init.headers;
    });
  }
  return cacheKey;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * Sets the request id and the security headers on a response (replacing any of the same name)
 * and removes `X-Powered-By`.
 *
 * A response made by Hono's `c.json()` when no headers were prepared (no `c.header()` before the
 * route answered, by the host or by the backend) holds its headers as a plain object, which
 * `@hono/node-server` writes as it is. Those are set on that object, which costs well under a
 * microsecond, where setting them on a Fetch `Headers` (which converts the object, and validates
 * every name and value) costs several. Any other response, such as one whose headers a host
 * middleware prepared, gets them on its `Headers`, and keeps every header it had.
 */
export function finishResponse(response: Response, requestId: string): void {
  const key = responseCacheKey();
  const cache = key === undefined ? undefined : (response as unknown as Bag)[key];
  if (Array.isArray(cache) && cache.length === 3 && isPlainRecord(cache[2])) {
    const record = cache[2];
    for (const name in record) if (OWN.has(name.toLowerCase())) delete record[name];
    record[REQUEST_ID] = requestId;
    for (const [name, value] of SECURITY_HEADERS) record[name] = value;
    return;
  }
  const headers = response.headers;
  headers.set(REQUEST_ID, requestId);
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  headers.delete("x-powered-by");
}

/**
 * The middleware: decides the request id (`c.get("requestId")`), runs the body limit (when
 * given, for requests that may have a body), then the rest, and finishes the response.
 * `onError` answers an error thrown by the body limit; the handlers after it answer their own.
 */
export function frame<E extends { Variables: { requestId: string } }>(
  limitBody: MiddlewareHandler<E> | undefined,
  onError: (error: unknown, c: Context<E>) => Promise<Response>,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const id = requestIdOf(c as unknown as Context);
    c.set("requestId", id);
    try {
      if (limitBody !== undefined && c.req.method !== "GET" && c.req.method !== "HEAD") {
        const refused = await limitBody(c, next);
        if (refused instanceof Response) c.res = refused;
      } else await next();
    } catch (error) {
      c.res = await onError(error, c);
    }
    finishResponse(c.res, id);
  };
}
