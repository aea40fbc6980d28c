/**
 * A small round-robin reverse proxy on `node:http`, in front of the instances of the cluster
 * example: each request goes to the next instance in turn, its body and its answer streamed
 * (Server-Sent Events pass through as they are written), with the client's address appended to
 * `X-Forwarded-For`. A GET or HEAD that an instance refuses (it is restarting, say) goes to the
 * next one; when none answers, the client gets `502`. Enough for a demo and for tests; in production put nginx,
 * HAProxy, Caddy or your platform's load balancer there.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Hop-by-hop headers, which a proxy does not pass on (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

/** A round-robin proxy over `targets` (origins such as `http://127.0.0.1:3001`); call `listen` on it. */
export function roundRobinProxy(targets: readonly string[]): Server {
  if (targets.length === 0) throw new TypeError("roundRobinProxy() needs at least one target.");
  let next = 0;

  function forward(req: IncomingMessage, res: ServerResponse, tries: number): void {
    const target = new URL(targets[next]!);
    next = (next + 1) % targets.length;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const client = req.socket.remoteAddress ?? "unknown";
    const forwarded = req.headers["x-forwarded-for"];
    headers["x-forwarded-for"] = forwarded === undefined ? client : `${String(forwarded)}, ${client}`;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      // Written as it arrives: an event stream reaches the client event by event.
      res.flushHeaders();
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    // The client went away before its answer ended (an event stream closed, say): so does the
    // request upstream.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // An instance that is down (restarting, say) refused a request without a body: the next one gets it.
      if (error.code === "ECONNREFUSED" && tries + 1 < targets.length && (req.method === "GET" || req.method === "HEAD")) {
        req.unpipe(upstream);
        forward(req, res, tries + 1);
        return;
      }
      res.writeHead(502, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ type: "about:blank", title: "Bad Gateway", status: 502, detail: "No instance answered." }));
    });
    req.pipe(upstream);
  }

  return createServer((req, res) => forward(req, res, 0));
}
