/**
 * `cimiento/node`: the backend as a `node:http` request listener, for Express, Koa and
 * `node:http` servers. The bridge is the host's `@hono/node-server` (a peer dependency, 1.x or
 * 2.x), as a second copy in the process would put its own class in place of the global
 * `Request`, which cannot copy the first copy's requests.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { partsOf } from "../backend/backend-parts.js";

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A request that a body parser (such as `express.json()`) may have read already. */
type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: Buffer };

/**
 * The backend's HTTP API as a Node request handler. It works mounted under a path (Express
 * strips the mount path from `req.url`), and behind a body parser such as `express.json()`: a
 * body it already read is passed on as JSON.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { toNodeHandler } from "cimiento/node";
 *
 * const app = express();
 * app.use("/api", toNodeHandler(backend));
 * app.listen(3000);
 *
 * // or: http.createServer(toNodeHandler(backend)).listen(3000);
 * ```
 */
export function toNodeHandler(backend: object): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { app } = partsOf(backend);
  const listener = getRequestListener((request, env) => app.fetch(request, env));
  return (req, res) => {
    const parsed = req as ParsedRequest;
    // The stream was consumed by a body parser: rebuild the body from what it parsed.
    if (parsed.readableEnded && parsed.rawBody === undefined && parsed.body !== undefined) {
      const body = parsed.body;
      // Bytes (express.raw) and text (express.text) are the body as sent. express.json parses to
      // a value, also to a bare string with { strict: false }: a string that is not itself JSON
      // text was such a value, and is sent again as JSON.
      const json = /\bjson\b/i.test(req.headers["content-type"] ?? "");
      parsed.rawBody = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === "string" && !(json && !isJsonText(body)) ? body : JSON.stringify(body));
    }
    return listener(req, res);
  };
}
