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

/** What a request served by `@hono/node-server` carries in Hono's `c.env`: Node's request. */
interface NodeEnv {
  readonly incoming?: { readonly httpVersionMajor?: unknown };
}

/**
 * Whether the request is HTTP/1 as Node received it (behind `@hono/node-server`), where a request
 * with neither `Content-Length` nor `Transfer-Encoding` has no body (RFC 9112, 6.3).
 */
export function isNodeHttp1(env: unknown): boolean {
  return typeof env === "object" && env !== null && (env as NodeEnv).incoming?.httpVersionMajor === 1;
}

/**
 * The body as text; `PAYLOAD_TOO_LARGE` past `limit` bytes; `INVALID_JSON` when it ends before
 * it is whole (the client stopped sending, or the server's `requestTimeout` cut it: a client's
 * doing, not a failure of the backend). `http1`: the request came over HTTP/1 (see
 * `isNodeHttp1`), so its framing headers say whether it has a body.
 */
export async function bodyText(request: Request, limit: number, http1: boolean): Promise<string> {
  try {
    return await readBody(request, limit, http1);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw apiError("INVALID_JSON", "The body ended before it was whole.");
  }
}

async function readBody(request: Request, limit: number, http1: boolean): Promise<string> {
  const { headers } = request;
  if (!headers.has("transfer-encoding")) {
    const declared = headers.get("content-length");
    if (declared !== null) {
      // The HTTP parser ends the body at the declared length: checking it is checking the body.
      if (Number(declared) > limit) throw tooLarge(limit);
      return request.text();
    }
    if (http1) return "";
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
