/**
 * @internal The Node transport of the HTTP core: a request as Node's `IncomingMessage` gives it
 * (read where it lies: no Fetch `Request` is made unless host code asks for one), and the answer
 * written straight to Node's `ServerResponse`.
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { getPath } from "hono/utils/url";
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

/** Node's headers, read as a Fetch `Headers` reads them (a repeated header's values joined). */
class NodeHeaders implements HeaderReader {
  readonly #headers: IncomingHttpHeaders;
  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }
  get(name: string): string | null {
    const value = this.#headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
}

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
  /** Whether the answer closes the connection (a body refused part-way is not read to its end). */
  closeAfter = false;
  readonly #incoming: ParsedRequest;
  #body: string | undefined;

  constructor(incoming: IncomingMessage) {
    this.#incoming = incoming;
    this.method = incoming.method ?? "GET";
    this.env = { incoming };
    this.headers = new NodeHeaders(incoming.headers);
    const target = incoming.url ?? "/";
    const scheme = (incoming.socket as { encrypted?: boolean } | null)?.encrypted === true ? "https" : "http";
    const host = incoming.headers.host ?? (incoming.headers[":authority"] as string | undefined) ?? "localhost";
    let url = `${scheme}://${host}${target}`;
    // The path is the target's, whatever the Host header holds.
    let path = getPath({ url: `http://localhost${target}` } as Request);
    // An absolute target (`GET http://host/path`, as sent to a proxy) is its own URL.
    if (target[0] !== "/") {
      try {
        url = new URL(target).href;
      } catch {
        url = `${scheme}://${host}/`;
      }
      path = getPath({ url } as Request);
    }
    this.url = url;
    this.path = path;
  }

  async text(limit: number): Promise<string> {
    const incoming = this.#incoming;
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
          incoming.pause();
          // The rest is not read: the connection closes once the 413 is sent.
          this.closeAfter = true;
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
    return lazyRequest({ method: this.method, url: this.url, headers: () => headersOf(this.#incoming), whole: (headers) => this.#whole(headers) });
  }

  /** The whole Fetch `Request`, with the body read so far (or the rest of Node's stream). */
  #whole(headers: Headers): Request {
    const incoming = this.#incoming;
    const init: RequestInit & { duplex?: "half" } = { method: this.method, headers };
    if (this.method !== "GET" && this.method !== "HEAD") {
      if (this.#body !== undefined) init.body = this.#body;
      else if (!incoming.readableEnded) {
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
  response.once("close", cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || response.destroyed) break;
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
  } else delete headers["connection"]; // HTTP/2 refuses the header: its connections are not per request
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

