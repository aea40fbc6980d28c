/**
 * @internal One request as the backend's routes see it, whatever carried it (a Fetch `Request`
 * or Node's `IncomingMessage`), and the answer they give, which each transport writes its own
 * way. Nothing here knows a transport: `fetch-transport.ts` and `node-transport.ts` make the
 * arrivals and write the answers.
 * @module
 */
import type { Caller, HeaderReader } from "../auth/request-caller.js";
import { wholeRequest } from "./lazy-request.js";

export type { HeaderReader } from "../auth/request-caller.js";

/** What a transport gives of one request. */
export interface Arrival {
  /** The method, in upper case. */
  readonly method: string;
  /** The path the routes match, percent-decoded as Hono decodes it. */
  readonly path: string;
  /** The whole URL (`http://host/path?query`), for the origin checks and host code. */
  readonly url: string;
  readonly headers: HeaderReader;
  /**
   * `{ incoming }` when Node's request is at hand (as `@hono/node-server` gives it to Hono as its
   * env): its socket tells the client's address and whether the connection is TLS.
   */
  readonly env: unknown;
  /**
   * The body as text: `PAYLOAD_TOO_LARGE` past `limit` bytes, `INVALID_JSON` when it ends before
   * it is whole.
   */
  text(limit: number): Promise<string>;
  /** The request as a Fetch `Request`, for host code (made when first asked for, where it is not one). */
  request(): Request;
  /** Why the transport refuses the request before any route (a malformed `Host`, say), if it does. */
  readonly refused?: Error;
}

/** What an answer's body may be: text or bytes (sent whole), a stream (Server-Sent Events), or none. */
export type AnswerBody = string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;

/**
 * The answer to a request: its status, its headers by lower-case name (`set-cookie` may hold
 * several values), its body. Its headers object is its own: the core adds to it before a
 * transport writes it.
 */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: AnswerBody;
}

/** The query string of a URL, without its `?`; `""` when there is none. */
export function queryOf(url: string): string {
  const start = url.indexOf("?");
  return start < 0 ? "" : url.slice(start + 1);
}

/** A JSON answer, as Hono's `c.json()` makes one. */
export function jsonAnswer(value: unknown, status = 200): Answer {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** An answer with no body (204 unless told). */
export function emptyAnswer(status = 204): Answer {
  return { status, headers: {}, body: null };
}

/** One request being answered: its arrival, its route's parameters, and what the request decided so far. */
export class Exchange {
  readonly arrival: Arrival;
  readonly #params: Readonly<Record<string, string>>;
  /** The request id, decided before any route runs. */
  requestId = "";
  /** Who calls, once decided. */
  caller: Caller | undefined = undefined;
  /** The answer's `Cache-Control`: the first value set stays. */
  cacheControl: string | undefined = undefined;
  /** Headers every answer to this request gets besides its own (cookies, CORS), in order. */
  added: [string, string][] | undefined = undefined;
  #request: Request | undefined;

  /** `params`: the route's path parameters, percent-decoded, in an object with no prototype. */
  constructor(arrival: Arrival, params: Readonly<Record<string, string>>) {
    this.arrival = arrival;
    this.#params = params;
  }

  get method(): string {
    return this.arrival.method;
  }

  get path(): string {
    return this.arrival.path;
  }

  /** A request header by its lower-case name. */
  header(name: string): string | undefined {
    return this.arrival.headers.get(name) ?? undefined;
  }

  /** A parameter of the route's path, percent-decoded. */
  param(name: string): string {
    return this.#params[name] ?? "";
  }

  /** The parameters of the route's path, percent-decoded, by name. */
  get params(): Readonly<Record<string, string>> {
    return this.#params;
  }

  /** The request as a Fetch `Request`, for host code: lazy over Node (see lazy-request.ts). */
  get request(): Request {
    return (this.#request ??= this.arrival.request());
  }

  /**
   * The request as a whole Fetch `Request`, for host code that may pass it on (an action's
   * `request`, `formatError`): made when asked for.
   */
  wholeRequest(): Request {
    return wholeRequest(this.request);
  }

  /** Sets the answer's `Cache-Control`, unless an earlier step set it. */
  setCacheControl(value: string): void {
    this.cacheControl ??= value;
  }

  /** Adds a header to the answer, whichever it is (`Set-Cookie` and `Vary` add to those it has). */
  addHeader(name: string, value: string): void {
    (this.added ??= []).push([name, value]);
  }
}
