/**
 * @internal The request of a host's own route, whatever the host holds (a Fetch `Request`, a
 * Node request, headers alone), as the view deciding the caller reads: only the headers it
 * reads, its method, its host and its socket.
 * @module
 */
import type { RequestView } from "./request-caller.js";

/** The headers deciding the caller reads; `host` gives the origin check this server's host. */
const READ = new Set(["authorization", "cookie", "origin", "sec-fetch-site", "host"]);

/** An HTTP method: a token (RFC 9110). */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const EXPECTED =
  "backend.auth.session(request) takes a Fetch Request (in Hono, c.req.raw), a Node request (Express's req, Koa's ctx.req), Headers, or a record of header names to strings";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isHeaders(value: unknown): value is Headers {
  return value instanceof Headers || (isObject(value) && ["get", "has", "append", "forEach"].every((method) => typeof value[method] === "function"));
}

function isFetchRequest(value: Record<string, unknown>): value is Record<string, unknown> & Request {
  return value instanceof Request || (typeof value["url"] === "string" && typeof value["method"] === "string" && isHeaders(value["headers"]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === null || prototype === Object.prototype;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (!isObject(value)) return typeof value;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
}

/** The `http://host/` of a `Host` header, for the origin check; `""` without one. */
function urlOf(host: string | null): string {
  return host === null ? "" : `http://${host}/`;
}

/**
 * The headers deciding the caller reads, from a record of header names (in any case) to a
 * string or strings, which is checked whole: `TypeError` for any other value.
 */
function headersOf(record: Readonly<Record<string, unknown>>, what: string): { headers: Headers; authority: string | undefined } {
  const headers = new Headers();
  let authority: string | undefined;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined) continue;
    const values = typeof value === "string" ? [value] : Array.isArray(value) && value.every((one) => typeof one === "string") ? (value as string[]) : null;
    if (values === null) throw new TypeError(`${EXPECTED}: the header "${name}" of ${what} is ${describe(value)}, not a string or strings.`);
    const lower = name.toLowerCase();
    // HTTP/2 names the host ":authority" (Node's Http2ServerRequest keeps it among the headers).
    if (lower === ":authority") authority = values[0];
    if (!READ.has(lower)) continue;
    try {
      // Cookies are joined as one Cookie header joins them (RFC 6265); other headers as lists.
      for (const one of values) {
        if (lower === "cookie" && headers.has("cookie")) headers.set("cookie", `${headers.get("cookie")}; ${one}`);
        else headers.append(lower, one);
      }
    } catch {
      throw new TypeError(`${EXPECTED}: the header "${name}" of ${what} has a value no HTTP header can have.`);
    }
  }
  return { headers, authority };
}

function methodOf(options: unknown, request: "request" | "headers"): string | undefined {
  if (options === undefined) return undefined;
  if (!isPlainObject(options)) throw new TypeError(`backend.auth.session(request, options): options is ${describe(options)}, not { method }.`);
  const method = options["method"];
  if (method === undefined) return undefined;
  if (request === "request") {
    throw new TypeError("backend.auth.session(request, { method }): a request has its own method; { method } is for headers given alone.");
  }
  if (typeof method !== "string" || !METHOD.test(method)) {
    throw new TypeError(`backend.auth.session(headers, { method }): method must be an HTTP method such as "POST", not ${typeof method === "string" ? JSON.stringify(method) : describe(method)}.`);
  }
  return method.toUpperCase();
}

/**
 * The view of what a host passes to `backend.auth.session`: a Fetch `Request`, a Node request
 * (an object with `headers` and `method`, its socket judging a development server), `Headers`,
 * or a plain record of headers. Headers alone are a GET unless `options.method` says otherwise.
 * Anything else is a `TypeError` that says what is taken.
 */
export function hostRequestView(request: unknown, options: unknown): RequestView {
  if (isHeaders(request)) {
    return { method: methodOf(options, "headers") ?? "GET", url: urlOf(request.get("host")), headers: request, env: undefined };
  }
  if (!isObject(request)) throw new TypeError(`${EXPECTED}, not ${describe(request)}.`);
  if (isFetchRequest(request)) {
    methodOf(options, "request");
    return { method: request.method, url: request.url, headers: request.headers, env: undefined };
  }
  if (isObject(request["headers"]) && typeof request["method"] === "string") {
    methodOf(options, "request");
    const { headers, authority } = headersOf(request["headers"], "the request");
    // The socket of the request: a development server is told by it, as @hono/node-server's env gives it.
    return { method: request["method"], url: urlOf(headers.get("host") ?? authority ?? null), headers, env: { incoming: request } };
  }
  if (!isPlainObject(request)) throw new TypeError(`${EXPECTED}, not ${describe(request)}.`);
  const method = methodOf(options, "headers") ?? "GET";
  const { headers, authority } = headersOf(request, "the record");
  return { method, url: urlOf(headers.get("host") ?? authority ?? null), headers, env: undefined };
}
