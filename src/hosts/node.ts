/**
 * `cimiento/node`: the backend as a `node:http` request listener, for Express, Koa and
 * `node:http` servers. It reads Node's request and writes Node's response itself, with no Fetch
 * `Request` or `Response` in between (host code that asks for the request, such as a `resolve`
 * of host auth, gets a Fetch `Request` made then).
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { partsOf } from "../backend/backend-parts.js";
import { NodeArrival, writeAnswer } from "../http/node-transport.js";

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
  const { core, logger } = partsOf(backend);
  // Writing can fail only on a broken connection or a header a host's formatError made: the
  // answer is cut, and the failure logged.
  const failed = (res: ServerResponse) => (error: unknown) => {
    logger.error("An answer could not be written.", { error });
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end();
    } else res.destroy();
  };
  return (req, res) => {
    const arrival = new NodeArrival(req, res);
    return core
      .handle(arrival)
      .then((answer) => writeAnswer(answer, req, res, arrival.closeAfter))
      .catch(failed(res));
  };
}

/** Ends the subscriptions of a backend made by `createBackend` (of anything else: nothing). */
function endSubscriptions(backend: Closable): void {
  let realtime: ReturnType<typeof partsOf>["realtime"];
  try {
    realtime = partsOf(backend).realtime;
  } catch {
    return;
  }
  void realtime.close();
}

/** What {@link closeOnSignals} can close: a backend, or anything with such a `close`. */
export interface Closable {
  close(options?: { timeout?: number }): Promise<void>;
}

/** Options of {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /**
   * The signals that start the shutdown.
   * @default ["SIGTERM", "SIGINT"]
   */
  signals?: readonly NodeJS.Signals[];
  /**
   * The most milliseconds the shutdown waits for requests in flight, in all; connections still
   * open then are cut, and the backend closes.
   * @default 10000
   */
  timeout?: number;
  /**
   * Whether the process exits once shut down (with code 0, or 1 when closing failed). A second
   * signal during the shutdown exits at once, with code 1.
   * @default true
   */
  exit?: boolean;
  /** Told when the shutdown starts and ends. @default console */
  log?: (message: string) => void;
}

/**
 * Shuts a `node:http` server (an Express or Koa app's, too) and the backend down gracefully on
 * SIGTERM or SIGINT, as process managers and containers stop a process:
 * 1. the server stops accepting connections and closes the idle ones;
 * 2. requests in flight are answered, each with `Connection: close`, so that no client sends
 *    another on its connection, and every connection closes once answered; subscriptions
 *    (Server-Sent Events) end at once, their last event `end` with the reason `"closing"`;
 * 3. after `timeout` milliseconds, the connections still open are cut;
 * 4. `backend.close()` stops the worker of this process (waiting for its running jobs) and
 *    closes the database;
 * 5. the process exits (unless `exit: false`).
 *
 * Returns the shutdown itself, to start it from code (a test, another signal); it runs once.
 * Set the server's own timeouts beside it (docs/deploy.md).
 *
 * @example
 * ```ts
 * import express from "express";
 * import { closeOnSignals, toNodeHandler } from "cimiento/node";
 *
 * const app = express();
 * app.use("/api", toNodeHandler(backend));
 * const server = app.listen(3000);
 * closeOnSignals(server, backend, { timeout: 10_000 });
 * ```
 */
export function closeOnSignals(server: Server, backend: Closable, options: CloseOnSignalsOptions = {}): () => Promise<void> {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const timeout = options.timeout ?? 10_000;
  if (!(Number.isFinite(timeout) && timeout >= 0)) throw new TypeError(`closeOnSignals({ timeout }) takes milliseconds (0 or more), not ${timeout}.`);
  const exit = options.exit ?? true;
  const log = options.log ?? ((message: string) => console.log(`[cimiento] ${message}`));
  let shutdown: Promise<void> | undefined;

  // Every answer from now on closes its connection once sent.
  const closeAfter = (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader("connection", "close");
    res.once("finish", () => server.closeIdleConnections());
  };

  async function close(): Promise<void> {
    const started = Date.now();
    server.on("request", closeAfter);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Event streams never end on their own: they end now, their last event `end` with "closing",
    // and their connections close, rather than being cut at the timeout.
    endSubscriptions(backend);
    // A connection whose answer began before the signal (an event stream, a slow request) goes
    // idle once answered, and a kept-alive client would hold it open: it is closed then.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeout)));
    if ((await Promise.race([closed, late])) === "late") {
      log(`Connections still open after ${timeout} ms were cut.`);
      server.closeAllConnections();
    }
    clearTimeout(timer);
    clearInterval(sweep);
    await backend.close({ timeout: Math.max(0, timeout - (Date.now() - started)) });
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (shutdown !== undefined) {
      if (exit) {
        log(`${signal} again: exiting now.`);
        process.exit(1);
      }
      return;
    }
    log(`${signal}: shutting down (at most ${timeout} ms).`);
    void run().then(
      () => {
        log("Shut down.");
        if (exit) process.exit(0);
      },
      (error: unknown) => {
        console.error("[cimiento] The shutdown failed.", error);
        if (exit) process.exit(1);
      },
    );
  }

  function run(): Promise<void> {
    shutdown ??= close().finally(() => {
      if (!exit) for (const signal of signals) process.off(signal, onSignal);
    });
    return shutdown;
  }

  for (const signal of signals) process.on(signal, onSignal);
  return run;
}
