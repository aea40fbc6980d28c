/**
 * @internal Reading a request's body within the body limit, without building more than the
 * runtime needs: a body that declares its length is read whole (behind `@hono/node-server`,
 * straight from Node's request, with no Fetch stream in between), one that does not is counted
 * while it streams in and refused as soon as it passes the limit.
 * @module
 */
import { ApiError, apiError } from "../errors/api-error.js";

/** The error of a body past the limit. */
export function tooLarge(limit: number): Error {
  return apiError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`);
}

/** Whether the request says its body is longer than `limit` bytes (by `Content-Length`). */
export function declaresMoreThan(headers: { get(name: string): string | null }, limit: number): boolean {
  const declared = headers.get("content-length");
  return declared !== null && headers.get("transfer-encoding") === null && Number(declared) > limit;
}

/** Node's request, as `@hono/node-server` gives it in Hono's `c.env` (`{ incoming }`). */
interface NodeIncoming {
  readonly httpVersionMajor?: unknown;
  readonly headers?: unknown;
  resume?(): unknown;
}

/** What reading a body over Node's HTTP/1 needs of Node's request: its headers, and to let it end. */
export interface Http1Incoming {
  readonly headers: Readonly<Record<string, unknown>>;
  resume(): unknown;
}

/**
 * Node's request when the request is HTTP/1 as Node received it (behind `@hono/node-server`),
 * where a request with neither `Content-Length` nor `Transfer-Encoding` has no body (RFC 9112,
 * 6.3); `undefined` otherwise.
 */
export function nodeHttp1(env: unknown): Http1Incoming | undefined {
  const incoming = typeof env === "object" && env !== null ? (env as { incoming?: NodeIncoming }).incoming : undefined;
  return incoming?.httpVersionMajor === 1 && typeof incoming.resume === "function" && typeof incoming.headers === "object" && incoming.headers !== null
    ? (incoming as Http1Incoming)
    : undefined;
}

/** Whether Node's HTTP/1 request came with neither `Content-Length` nor `Transfer-Encoding`: without a body. */
function unframed(incoming: Http1Incoming): boolean {
  return incoming.headers["content-length"] === undefined && incoming.headers["transfer-encoding"] === undefined;
}

/**
 * The body as text; `PAYLOAD_TOO_LARGE` past `limit` bytes; `INVALID_JSON` when it ends before
 * it is whole (the client stopped sending, or the server's `requestTimeout` cut it: a client's
 * doing, not a failure of the backend). `http1`: Node's request, when the request came over
 * HTTP/1 (see `nodeHttp1`), so that its framing headers say whether it has a body. One without
 * is let end without a read of the Fetch request: `@hono/node-server` sees the request ended
 * when the answer is written, rather than drain it afterwards with timers and listeners of its
 * own. A Fetch request without framing headers over a Node request with them (one a host
 * middleware put in place of the client's, with a body of its own) is read as a stream.
 */
export async function bodyText(request: Request, limit: number, http1?: Http1Incoming): Promise<string> {
  try {
    return await readBody(request, limit, http1);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw apiError("INVALID_JSON", "The body ended before it was whole.");
  }
}

async function readBody(request: Request, limit: number, http1: Http1Incoming | undefined): Promise<string> {
  const { headers } = request;
  if (!headers.has("transfer-encoding")) {
    const declared = headers.get("content-length");
    if (declared !== null) {
      // The HTTP parser ends the body at the declared length: checking it is checking the body.
      if (Number(declared) > limit) throw tooLarge(limit);
      return request.text();
    }
    if (http1 !== undefined && unframed(http1)) {
      http1.resume();
      return "";
    }
  }
  const body = request.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
