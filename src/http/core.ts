/**
 * @internal The HTTP core of a backend, which no transport knows: its routes, and what every
 * request gets whichever transport carried it (a request id, CORS, the refusal once closing, the
 * body limit, the one answer to errors, the security headers). The transports are thin:
 * `backend.fetch` and `cimiento/hono` carry Fetch requests, `cimiento/node` Node's.
 * @module
 */
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import { tryDecodeURIComponent } from "hono/utils/url";
import { apiError } from "../errors/api-error.js";
import { declaresMoreThan, tooLarge } from "./body.js";
import { emptyAnswer, Exchange, type Answer, type Arrival } from "./exchange.js";
import type { RequestGate } from "./gate.js";
import type { CorsOptions } from "./options.js";
import { REQUEST_ID, SECURITY_HEADERS } from "./response-headers.js";

/** What a route does with a request: its answer, or an error thrown for the core to answer. */
export type RouteHandler = (x: Exchange) => Answer | Promise<Answer>;

/** A route of the core: a method (or `ALL`), a path in Hono's syntax (`/collections/:name`), a handler. */
export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: RouteHandler;
}

/** An incoming request id is kept when it is a short token of these characters (as Hono's requestId()). */
const SAFE_ID = /^[\w\-=]{1,255}$/;

/** This request's id: the incoming one when it is a safe token, otherwise a new UUID. */
function requestIdOf(incoming: string | null): string {
  return incoming !== null && SAFE_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * A value thrown that is not an `Error` (`throw "no"` in a hook, say), as the core answers it;
 * `value` is what was thrown.
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
function refuseWhenClosing(gate: RequestGate): void {
  if (gate.closing) {
    throw apiError("UNAVAILABLE", "The backend is shutting down; try again shortly.", { reason: "closing", retryAfter: RETRY_AFTER_CLOSING });
  }
}

/** CORS as the options say, answered as Hono's `cors()` answers (the same headers, the same preflight). */
class Cors {
  readonly #allowOrigin: (origin: string) => string | null;
  readonly #anyOrigin: boolean;
  readonly #credentials: boolean;
  readonly #allowMethods: string;
  readonly #allowHeaders: string | undefined;
  readonly #exposeHeaders: string | undefined;
  readonly #maxAge: string;

  constructor(options: CorsOptions) {
    const { origin } = options;
    this.#anyOrigin = origin === "*";
    this.#allowOrigin =
      typeof origin === "function"
        ? (asked) => (origin(asked) ? asked : null)
        : typeof origin === "string"
          ? (asked) => (origin === "*" ? "*" : origin === asked ? asked : null)
          : (asked) => (origin.includes(asked) ? asked : null);
    this.#credentials = options.credentials ?? false;
    this.#allowMethods = (options.allowMethods ?? ["GET", "POST", "PATCH", "DELETE", "PUT"]).join(",");
    this.#allowHeaders = options.allowHeaders?.length ? options.allowHeaders.join(",") : undefined;
    this.#exposeHeaders = options.exposeHeaders?.length ? options.exposeHeaders.join(",") : undefined;
    this.#maxAge = String(options.maxAge ?? 600);
  }

  /** Adds the CORS headers to the request's answer; the answer itself to a preflight (`OPTIONS`). */
  apply(x: Exchange): Answer | undefined {
    const allowed = this.#allowOrigin(x.header("origin") ?? "");
    if (allowed) x.addHeader("access-control-allow-origin", allowed);
    if (this.#credentials) x.addHeader("access-control-allow-credentials", "true");
    if (this.#exposeHeaders !== undefined) x.addHeader("access-control-expose-headers", this.#exposeHeaders);
    if (!this.#anyOrigin) x.addHeader("vary", "Origin");
    if (x.method !== "OPTIONS") return undefined;
    x.addHeader("access-control-max-age", this.#maxAge);
    x.addHeader("access-control-allow-methods", this.#allowMethods);
    const requested = x.header("access-control-request-headers");
    const headers = this.#allowHeaders ?? requested?.split(",").map((name) => name.trim()).join(",");
    if (headers) {
      x.addHeader("access-control-allow-headers", headers);
      x.addHeader("vary", "Access-Control-Request-Headers");
    }
    return emptyAnswer();
  }
}

/** What the core needs besides its routes. */
export interface CoreSettings {
  /** The requests being answered; once closing, new ones are refused. */
  readonly gate: RequestGate;
  /** The largest body in bytes. */
  readonly bodyLimit: number;
  readonly cors: CorsOptions | undefined;
  /** The answer to an error thrown by a route (or by the core before it); it must not throw. */
  readonly answerError: (error: Error, x: Exchange) => Promise<Answer>;
}

/** The parameters of a route whose path has none. */
export const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

type Matched = [[Route, Record<string, number | string>][], (string | undefined)[]?];

/** The routes of a backend and the one way a request of any transport is answered. */
export class HttpCore {
  readonly routes: Route[] = [];
  readonly #settings: CoreSettings;
  readonly #cors: Cors | undefined;
  #router: SmartRouter<Route> | undefined;

  constructor(settings: CoreSettings) {
    this.#settings = settings;
    this.#cors = settings.cors === undefined ? undefined : new Cors(settings.cors);
  }

  /** Adds a route; the first added of those that match a request answers it. */
  on(method: string, path: string, handler: RouteHandler): void {
    if (this.#router !== undefined) throw new Error("The HTTP core takes no routes once it has answered a request.");
    this.routes.push({ method, path, handler });
  }

  /**
   * Answers a request (`HEAD` as `GET`), routed by Hono's own router (the one a Hono app has), with
   * the path parameters percent-decoded as Hono decodes them.
   */
  handle(arrival: Arrival): Promise<Answer> {
    const router = (this.#router ??= this.#build());
    const [matched, stash] = router.match(arrival.method === "HEAD" ? "GET" : arrival.method, arrival.path) as unknown as Matched;
    const first = matched[0];
    if (first === undefined) return this.run(undefined, arrival, NO_PARAMS);
    const [route, found] = first;
    let params = NO_PARAMS;
    for (const name in found) {
      if (params === NO_PARAMS) params = Object.create(null) as Record<string, string>;
      const raw = stash === undefined ? (found[name] as string) : stash[found[name] as number];
      if (raw !== undefined) (params as Record<string, string>)[name] = raw.includes("%") ? tryDecodeURIComponent(raw) : raw;
    }
    return this.run(route, arrival, params);
  }

  #build(): SmartRouter<Route> {
    const router = new SmartRouter<Route>({ routers: [new RegExpRouter(), new TrieRouter()] });
    for (const route of this.routes) router.add(route.method, route.path, route);
    return router;
  }

  /**
   * Answers a request for `route` (`undefined`: none matched, `ROUTE_NOT_FOUND`) with the path
   * parameters `params` (percent-decoded): the request id, CORS, the refusal once closing, the
   * body limit, the route counted among the requests in flight, any error answered, and the
   * answer finished with the request id, the security headers, `Cache-Control` and the headers
   * the request added. `failed` is told the error an error answer answers.
   */
  async run(route: Route | undefined, arrival: Arrival, params: Readonly<Record<string, string>>, failed?: (error: Error) => void): Promise<Answer> {
    const x = new Exchange(arrival, params);
    x.requestId = requestIdOf(arrival.headers.get(REQUEST_ID));
    const { gate } = this.#settings;
    let answer: Answer;
    let entered = false;
    try {
      if (arrival.refused !== undefined) throw arrival.refused;
      const preflight = this.#cors?.apply(x);
      if (preflight !== undefined) answer = preflight;
      else {
        refuseWhenClosing(gate);
        // Counted until answered, its error answer too (a host's formatError may read the database).
        gate.enter();
        entered = true;
        if (route === undefined) throw apiError("ROUTE_NOT_FOUND", `No route for ${arrival.method} ${arrival.path}.`);
        if (arrival.method !== "GET" && arrival.method !== "HEAD" && declaresMoreThan(arrival.headers, this.#settings.bodyLimit)) {
          throw tooLarge(this.#settings.bodyLimit);
        }
        answer = await route.handler(x);
      }
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new ThrownValue(thrown);
      failed?.(error);
      answer = await this.#settings.answerError(error, x);
    } finally {
      if (entered) gate.leave();
    }
    return finish(answer, x);
  }
}

/** Headers that several values join into one: `Vary` (a list). */
const LIST = "vary";

/** The answer with the request id, the security headers, `Cache-Control` and the request's added headers. */
function finish(answer: Answer, x: Exchange): Answer {
  const headers = answer.headers;
  headers[REQUEST_ID] = x.requestId;
  for (const [name, value] of SECURITY_HEADERS) headers[name] = value;
  if (x.cacheControl !== undefined) headers["cache-control"] = x.cacheControl;
  if (x.added !== undefined) {
    for (const [name, value] of x.added) {
      const current = headers[name];
      if (name === "set-cookie") headers[name] = current === undefined ? [value] : [...(Array.isArray(current) ? current : [current]), value];
      else if (current === undefined) headers[name] = value;
      else if (name === LIST) headers[name] = `${String(current)}, ${value}`;
    }
  }
  return answer;
}
