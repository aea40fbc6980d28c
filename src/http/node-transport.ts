/**
 * @internal The Node transport of the HTTP core: a request as Node's `IncomingMessage` gives it
 * (read where it lies: no Fetch `Request` is made unless host code asks for one), and the answer
 * written straight to Node's `ServerResponse`.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { getPath } from "hono/utils/url";
import { constants as http2 } from "node:http2";
import { apiError } from "../errors/api-error.js";
import { tooLarge } from "./body.js";
import type { Answer, Arrival, HeaderReader } from "./exchange.js";
import { lazyRequest } from "./lazy-request.js";

/** A request that a body parser (such as `express.json()`) may have read already. */
type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: Buffer };

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The body a parser in front (Express's `json()`, `raw()`, `text()`) read, as it was sent; `null`
 * when none did. Bytes and text are the body as sent. `json()` parses to a value, also to a bare
 * string with `{ strict: false }`: a string that is not itself JSON text was such a value, and is
 * sent again as JSON.
 */
function parsedBody(request: ParsedRequest): Buffer | null {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  const body = request.body;
  if (body === undefined) return null;
  if (Buffer.isBuffer(body)) return body;
  const json = /\bjson\b/i.test(request.headers["content-type"] ?? "");
  return Buffer.from(typeof body === "string" && !(json && !isJsonText(body)) ? body : JSON.stringify(body));
}

/**
 * Node's headers, read as a Fetch `Headers` of the raw headers reads them: every value of a
 * repeated name joined, where Node's `headers` keeps only the first of some (`Content-Type`,
 * `Authorization`), so that the core reads what it reads on every mount.
 */
class NodeHeaders implements HeaderReader {
  readonly #incoming: IncomingMessage;
  constructor(incoming: IncomingMessage) {
    this.#incoming = incoming;
  }
  get(name: string): string | null {
    return fetchHeader(this.#incoming, name);
  }
}

/** Whether a character code is whitespace a Fetch `Headers` trims from values. */
const trimmed = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;

/**
 * The value of the lowercase header `name` as a Fetch `Headers` made of the request's raw headers
 * has it: every value of the name joined (`; ` between cookies, `, ` between others), each
 * trimmed; `null` when there is none.
 */
function fetchHeader(incoming: IncomingMessage, name: string): string | null {
  const raw = incoming.rawHeaders;
  let joined: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length !== name.length || raw[i]!.toLowerCase() !== name) continue;
    let value = raw[i + 1]!;
    if (value.length > 0 && (trimmed(value.charCodeAt(0)) || trimmed(value.charCodeAt(value.length - 1)))) value = value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
    joined = joined === null ? value : `${joined}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return joined;
}

/** A `Host` header a URL can have: a name or an IPv4 or bracketed IPv6 address, and a port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::\d{0,5})?$/;

/** Whether a request target has a dot segment (`/./`, `/../`, percent-encoded too), which URLs resolve. */
const DOT_SEGMENT = /\/(?:\.|%2e)/i;

const decoder = new TextDecoder();

/** Node's headers as a Fetch `Headers` (HTTP/2 pseudo-headers left out). */
function headersOf(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]![0] !== ":") headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** A Node request, as the core reads it. */
export class NodeArrival implements Arrival {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly headers: HeaderReader;
  readonly env: { readonly incoming: IncomingMessage };
  readonly refused: Error | undefined;
  readonly #incoming: ParsedRequest;
  readonly #response: ServerResponse | undefined;
  #body: string | undefined;
  /** Whether host code took the body's stream (a whole `Request` made before the backend read it). */
  #taken = false;

  /** `response`: the answer's, whose closing before it is sent aborts the request's `signal`. */
  constructor(incoming: IncomingMessage, response?: ServerResponse) {
    this.#incoming = incoming;
    this.#response = response;
    this.method = incoming.method ?? "GET";
    this.env = { incoming };
    this.headers = new NodeHeaders(incoming);
    let target = incoming.url ?? "/";
    const scheme = (incoming.socket as { encrypted?: boolean } | null)?.encrypted === true ? "https" : "http";
    let host = incoming.headers.host ?? (incoming.headers[":authority"] as string | undefined) ?? "localhost";
    let refused: Error | undefined;
    if (!HOST.test(host)) {
      refused = apiError("INVALID_REQUEST", "The Host header is not a host a URL can have.");
      host = "localhost";
    }
    if (target.includes("\\")) {
      refused ??= apiError("INVALID_REQUEST", "The request's target has a backslash, which no URL path holds.");
      target = "/";
    }
    if (target[0] === "/") {
      // Dot segments are resolved, as a URL resolves them (and a Fetch host before the backend).
      if (DOT_SEGMENT.test(target)) {
        const resolved = new URL(target, "http://localhost");
        target = resolved.pathname + resolved.search;
      }
      this.url = `${scheme}://${host}${target}`;
    } else {
      // An absolute target (`GET http://host/path`, as sent to a proxy) is its own URL.
      let absolute: URL | undefined;
      try {
        absolute = new URL(target);
      } catch {
        refused ??= apiError("INVALID_REQUEST", "The request's target is not a path nor a URL.");
      }
      this.url = absolute?.href ?? `${scheme}://${host}/`;
    }
    this.path = getPath(this as unknown as Request);
    this.refused = refused;
  }

  /**
   * Whether the answer closes the connection: when the request's body has not all come (a body
   * refused by its length or part-way is not read to its end, as Node would otherwise do).
   */
  get closeAfter(): boolean {
    return !this.#incoming.complete;
  }

  async text(limit: number): Promise<string> {
    const incoming = this.#incoming;
    if (this.#taken) throw apiError("INVALID_JSON", "The body was read by the host before the backend could read it.");
    if (incoming.readableEnded) {
      // The stream was read by a body parser in front: its result is the body.
      const parsed = parsedBody(incoming);
      if (parsed !== null && parsed.byteLength > limit) throw tooLarge(limit);
      return (this.#body = parsed === null ? "" : decoder.decode(parsed));
    }
    const { headers } = incoming;
    if (headers["transfer-encoding"] === undefined) {
      const declared = headers["content-length"];
      // The HTTP parser ends the body at the declared length: checking it is checking the body.
      if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
      // Over HTTP/1, a request with neither header has no body (RFC 9112, 6.3).
      if (declared === undefined && incoming.httpVersionMajor === 1) return (this.#body = "");
    }
    return (this.#body = await this.#read(limit));
  }

  /** Reads the body's bytes as they come, and stops at the first past `limit`. */
  #read(limit: number): Promise<string> {
    const incoming = this.#incoming;
    return new Promise((resolve, reject) => {
      // The client left before the body was read: nothing more will come.
      if (incoming.destroyed || incoming.errored !== null) {
        reject(apiError("INVALID_JSON", "The body ended before it was whole."));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = () => {
        incoming.off("data", onData);
        incoming.off("end", onEnd);
        incoming.off("error", onBroken);
        incoming.off("close", onBroken);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > limit) {
          stop();
          // The rest is not read: the connection closes once the 413 is sent (see closeAfter).
          incoming.pause();
          reject(tooLarge(limit));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        stop();
        resolve(decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
      };
      // The client stopped sending, or the server's requestTimeout cut it: a client's doing.
      const onBroken = () => {
        stop();
        reject(apiError("INVALID_JSON", "The body ended before it was whole."));
      };
      incoming.on("data", onData);
      incoming.on("end", onEnd);
      incoming.on("error", onBroken);
      incoming.on("close", onBroken);
    });
  }

  /** The request as host code reads it: a lazy `Request` (see lazy-request.ts). */
  request(): Request {
    const incoming = this.#incoming;
    let readable: boolean | undefined;
    return lazyRequest({
      method: this.method,
      url: this.url,
      headers: () => headersOf(incoming),
      // A value with a NUL (which Node's lenient parser lets through) makes a Fetch `Headers`
      // throw: then every read goes to the whole one, and throws as it does.
      header: (name) => ((readable ??= !incoming.rawHeaders.some((value, i) => i % 2 === 1 && value.includes("\0"))) ? fetchHeader(incoming, name) : undefined),
      whole: (headers) => this.#whole(headers),
    });
  }

  /**
   * The whole Fetch `Request`: the body the backend read (or the rest of Node's stream, which the
   * backend then cannot read), and a `signal` aborted when the client leaves before its answer.
   */
  #whole(headers: Headers): Request {
    const incoming = this.#incoming;
    const init: RequestInit & { duplex?: "half" } = { method: this.method, headers };
    const response = this.#response;
    if (response !== undefined) {
      const controller = new AbortController();
      const left = () => {
        if (!response.writableFinished) controller.abort(new Error("The client closed the connection before the answer."));
      };
      if (response.closed) left();
      else response.once("close", left);
      init.signal = controller.signal;
    }
    if (this.method !== "GET" && this.method !== "HEAD") {
      if (this.#body !== undefined) init.body = this.#body;
      else if (!incoming.readableEnded) {
        this.#taken = true;
        init.body = Readable.toWeb(incoming) as ReadableStream<Uint8Array>;
        init.duplex = "half";
      }
    }
    return new Request(this.url, init);
  }
}

/** Writes a stream's chunks as they come, waiting while the client is slow; stops when it goes. */
async function pump(stream: ReadableStream<Uint8Array>, response: ServerResponse): Promise<void> {
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  // The client left before the answer began (while the subscription was being made).
  if (response.destroyed) {
    cancel();
    return;
  }
  response.once("close", cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (response.destroyed) {
        cancel();
        return;
      }
      if (!response.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            response.off("drain", go);
            response.off("close", go);
            resolve();
          };
          response.on("drain", go);
          response.on("close", go);
        });
      }
    }
    response.end();
  } catch {
    response.destroy();
  } finally {
    response.off("close", cancel);
  }
}

/**
 * Writes an answer to Node's response: text and bytes whole, with their length; a stream as it
 * comes (its headers sent at once). `closeAfter`: the connection closes once it is sent (HTTP/1).
 */
export function writeAnswer(answer: Answer, incoming: IncomingMessage, response: ServerResponse, closeAfter: boolean): void {
  const { status, headers, body } = answer;
  if (incoming.httpVersionMajor === 1) {
    if (closeAfter) headers["connection"] = "close";
  } else {
    // HTTP/2 refuses the header: its connections are not per request. A body not read to its end
    // ends with its stream instead, once the answer is sent.
    delete headers["connection"];
    const stream = (incoming as { stream?: { close?(code: number): void } }).stream;
    if (closeAfter && stream?.close !== undefined) response.once("finish", () => stream.close!(http2.NGHTTP2_NO_ERROR));
  }
  if (body === null) {
    response.writeHead(status, headers);
    response.end();
  } else if (typeof body === "string") {
    headers["content-length"] = String(Buffer.byteLength(body));
    response.writeHead(status, headers);
    response.end(body);
  } else if (body instanceof Uint8Array) {
    headers["content-length"] = String(body.byteLength);
    response.writeHead(status, headers);
    response.end(body);
  } else {
    response.writeHead(status, headers);
    if (incoming.method === "HEAD") {
      void body.cancel().catch(() => undefined);
      response.end();
      return;
    }
    response.flushHeaders();
    void pump(body, response);
  }
}

