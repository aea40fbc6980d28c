/**
 * @internal Reading a request's body within the body limit, without building more than the
 * runtime needs: a body that declares its length is read whole (behind `@hono/node-server`,
 * straight from Node's request, with no Fetch stream in between), one that does not is counted
 * while it streams in and refused as soon as it passes the limit.
 * @module
 */
import { apiError } from "../errors/api-error.js";

/** The error of a body past the limit. */
export function tooLarge(limit: number): Error {
  return apiError("PAYLOAD_TOO_LARGE", `The body is larger than ${limit} bytes.`);
}

/** Whether the request says its body is longer than `limit` bytes (by `Content-Length`). */
export function declaresMoreThan(headers: Headers, limit: number): boolean {
  const declared = headers.get("content-length");
  return declared !== null && !headers.has("transfer-encoding") && Number(declared) > limit;
}

/** The body as text; `PAYLOAD_TOO_LARGE` past `limit` bytes. */
export async function bodyText(request: Request, limit: number): Promise<string> {
  const { headers } = request;
  if (headers.get("content-length") !== null && !headers.has("transfer-encoding")) {
    // The HTTP parser ends the body at the declared length: checking it is checking the body.
    if (declaresMoreThan(headers, limit)) throw tooLarge(limit);
    return request.text();
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
