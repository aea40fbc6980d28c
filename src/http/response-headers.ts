/**
 * @internal The request id and the security headers every answer gets, and the answer's headers
 * set on a response of `cimiento/hono` where they cost least. This is the one place that reads a
 * private slot of `@hono/node-server`'s Response (the same in its 1.x and 2.x);
 * test/perf/response-headers.test.ts fails when that slot changes, rather than let every
 * response of a Hono mount silently take the slower path.
 * @module
 */

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

/** The header of the request id. */
export const REQUEST_ID = "x-request-id";

type Bag = Record<PropertyKey, unknown>;

let probedFor: unknown;
let cacheKey: symbol | undefined;

/**
 * The key under which `@hono/node-server`'s Response keeps `[status, body, headers]` when it was
 * made with a string or bytes body: the headers given at construction, which it writes to the
 * socket as they are. Found by making one such Response per global `Response` class;
 * `undefined` for a class without it (the platform's own).
 */
export function responseCacheKey(): symbol | undefined {
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
 * The plain object of headers that `@hono/node-server` writes as it is for this response, when
 * it has one: a response it made with a string or bytes body and headers given as an object
 * (as Hono's `c.body()` makes one when no header was prepared). `undefined` otherwise.
 */
export function plainHeaders(response: Response): Record<string, unknown> | undefined {
  const key = responseCacheKey();
  const cache = key === undefined ? undefined : (response as unknown as Bag)[key];
  return Array.isArray(cache) && cache.length === 3 && isPlainRecord(cache[2]) ? cache[2] : undefined;
}

/** Given to Hono's `c.body()` with the answer, which sets it: not set again here. */
const CONTENT_TYPE = "content-type";
const VARY = "vary";

/**
 * Sets an answer's headers on a response Hono's context made with the answer's `Content-Type`
 * (replacing any of the same name; `Set-Cookie` values are added).
 *
 * On a response with {@link plainHeaders}, they are set on that object, which costs well under a
 * microsecond, where setting them on a Fetch `Headers` (which converts the object, and validates
 * every name and value) costs several. Any other response, such as one whose headers a host
 * middleware prepared, gets them on its `Headers`, and keeps every header it had. Several
 * `Set-Cookie` values always go to the `Headers` (an object would join them with commas).
 */
export function setAnswerHeaders(response: Response, headers: Readonly<Record<string, string | string[]>>): void {
  const cookies = headers["set-cookie"];
  const record = Array.isArray(cookies) && cookies.length > 1 ? undefined : plainHeaders(response);
  if (record !== undefined) {
    for (const name in headers) {
      const value = headers[name]!;
      if (name !== CONTENT_TYPE) record[name] = Array.isArray(value) ? value[0] : value;
    }
    return;
  }
  const target = response.headers;
  // A host middleware's (before the answer was made): the backend says nothing of what serves it.
  target.delete("x-powered-by");
  for (const name in headers) {
    const value = headers[name]!;
    if (name === CONTENT_TYPE) continue;
    // A host's `Vary` (set before the answer was made) is kept, the answer's added to it.
    if (name === VARY) target.append(name, value as string);
    else if (!Array.isArray(value)) target.set(name, value);
    else for (const one of value) target.append(name, one);
  }
}
