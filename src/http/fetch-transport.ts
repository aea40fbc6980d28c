/**
 * @internal The Fetch transport of the HTTP core: a Fetch `Request` (and the env a host passes,
 * such as `@hono/node-server`'s `{ incoming }`) as an arrival, and an answer as a `Response`.
 * `backend.fetch` and `cimiento/hono` carry requests this way.
 * @module
 */
import { getPath } from "hono/utils/url";
import { bodyText, nodeHttp1 } from "./body.js";
import type { HttpCore } from "./core.js";
import type { Answer, Arrival, HeaderReader } from "./exchange.js";
import { lazyRequest } from "./lazy-request.js";

/** A Fetch request, as the core reads it. */
export class FetchArrival implements Arrival {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly env: unknown;
  readonly #request: Request;
  #body: string | undefined;
  #given: Request | undefined;

  /** `path`: the path the request is routed by (its URL's, decoded, unless given). */
  constructor(request: Request, env: unknown, path?: string) {
    this.#request = request;
    this.method = request.method;
    this.url = request.url;
    this.env = env;
    this.path = path ?? getPath(request);
  }

  get headers(): HeaderReader {
    return this.#request.headers;
  }

  async text(limit: number): Promise<string> {
    return (this.#body = await bodyText(this.#request, limit, nodeHttp1(this.env)));
  }

  /**
   * The request itself until the backend read its body; after, a lazy request (lazy-request.ts)
   * with its method, URL and headers, whose body is what the backend read.
   */
  request(): Request {
    const request = this.#request;
    const body = this.#body;
    if (body === undefined) return request;
    return (this.#given ??= lazyRequest({
      method: request.method,
      url: request.url,
      headers: () => request.headers,
      whole: (headers) => new Request(request.url, { method: request.method, headers, body, signal: request.signal }),
    }));
  }
}

/**
 * An answer's headers as a Fetch `Response` takes them: the record itself, or name and value
 * pairs when `Set-Cookie` has several values (a record would join them with commas).
 */
export function headersInit(headers: Answer["headers"]): Record<string, string> | [string, string][] {
  let pairs: [string, string][] | undefined;
  for (const name in headers) {
    if (!Array.isArray(headers[name])) continue;
    pairs = [];
    for (const [key, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const one of value) pairs.push([key, one]);
      else pairs.push([key, value]);
    }
    break;
  }
  return pairs ?? (headers as Record<string, string>);
}

/** An answer's body, unless the request is a `HEAD` (a stream it has is cancelled: nobody reads it). */
export function bodyFor(answer: Answer, method: string): Answer["body"] {
  if (method !== "HEAD") return answer.body;
  if (answer.body instanceof ReadableStream) void answer.body.cancel().catch(() => undefined);
  return null;
}

/** An answer as a Fetch `Response` (without its body for `HEAD`). */
export function responseOf(answer: Answer, method: string): Response {
  return new Response(bodyFor(answer, method), { status: answer.status, headers: headersInit(answer.headers) });
}

/** The core as a Fetch handler: `backend.fetch`. */
export function fetchHandler(core: HttpCore): (request: Request, env?: unknown) => Promise<Response> {
  return async (request, env) => responseOf(await core.handle(new FetchArrival(request, env)), request.method);
}
