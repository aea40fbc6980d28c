/**
 * The headers of the lazy `Request` the Node transport gives host code: `get()` and `has()` read
 * Node's raw headers where they lie, and must answer exactly what a Fetch `Headers` made of the
 * same raw headers answers (repeated names joined, cookies with `; `, names in any case, values
 * trimmed); everything else is a whole `Headers`, and once one is made, every read is its.
 */
import { createServer, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NodeArrival } from "../../src/http/node-transport.js";

let port = 0;
let server: ReturnType<typeof createServer>;
/** Each request's observation, made in the server by the test that sends it. */
let observe: (request: Request, incoming: IncomingMessage) => unknown = () => null;
let observed: Promise<unknown> = Promise.resolve(null);

beforeAll(async () => {
  // Lenient, as some hosts run it: a NUL in a header value reaches the request.
  server = createServer({ insecureHTTPParser: true }, (incoming, response) => {
    let settle!: (value: unknown) => void;
    observed = new Promise((resolve) => (settle = resolve));
    try {
      settle(observe(new NodeArrival(incoming, response).request(), incoming));
    } catch (error) {
      settle(error);
    }
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends a request with these raw header lines, and returns what `observe` made of it. */
async function send(lines: readonly string[], look: (request: Request, incoming: IncomingMessage) => unknown): Promise<unknown> {
  observe = look;
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const answered = new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.write(`GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${lines.map((line) => `${line}\r\n`).join("")}\r\n`);
  await answered;
  socket.destroy();
  return observed;
}

/** A Fetch `Headers` of a request's raw headers, as the whole request has them. */
function fetchHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  return headers;
}

const NAMES = ["x-one", "X-One", "x-two", "cookie", "Cookie", "accept", "x-spaced", "x-empty", "x-absent", "host", "authorization"];

describe("the lazy Request's headers over Node", () => {
  test("get() and has() answer what a Headers of the same raw headers answers, and so does the core's reader", async () => {
    const seen = await send(
      [
        "X-One: a",
        "x-one: b",
        "X-Two: only",
        "Cookie: s=1",
        "cookie: t=2",
        "Accept: text/html, application/json",
        "X-Spaced: \t inner  value \t",
        "X-Empty:",
        "Authorization: Bearer first",
        "Authorization: Bearer second",
      ],
      (request, incoming) => {
        const lazy = NAMES.map((name) => [name, request.headers.get(name), request.headers.has(name)]);
        const core = new NodeArrival(incoming).headers;
        const whole = fetchHeaders(incoming);
        return {
          lazy,
          core: NAMES.map((name) => [name, core.get(name.toLowerCase())]),
          fetch: NAMES.map((name) => [name, whole.get(name), whole.has(name)]),
        };
      },
    );
    const { lazy, core, fetch } = seen as { lazy: unknown[]; core: unknown[]; fetch: [string, string | null, boolean][] };
    expect(lazy).toEqual(fetch);
    expect(core).toEqual(fetch.map(([name, value]) => [name, value]));
    expect(core).toContainEqual(["authorization", "Bearer first, Bearer second"]);
    expect(lazy).toContainEqual(["X-One", "a, b", true]);
    expect(lazy).toContainEqual(["cookie", "s=1; t=2", true]);
    expect(lazy).toContainEqual(["x-absent", null, false]);
  });

  test("they are a Headers, iterate as one, and an invalid name throws as Headers throws", async () => {
    const seen = (await send(["X-One: a", "X-One: b"], (request, incoming) => {
      const headers = request.headers;
      let thrown: unknown;
      try {
        headers.get("bad name");
      } catch (error) {
        thrown = error;
      }
      return { isHeaders: headers instanceof Headers, entries: [...headers], keys: [...headers.keys()], fetch: [...fetchHeaders(incoming)], thrown };
    })) as { isHeaders: boolean; entries: unknown; keys: string[]; fetch: unknown; thrown: unknown };
    expect(seen.isHeaders).toBe(true);
    expect(seen.entries).toEqual(seen.fetch);
    expect(seen.keys).toContain("x-one");
    expect(seen.thrown).toBeInstanceOf(TypeError);
  });

  test("what host code sets is what it reads, and the whole request carries it", async () => {
    const seen = (await send(["X-One: a"], (request) => {
      request.headers.set("x-one", "changed");
      request.headers.append("x-added", "yes");
      const whole = request.clone();
      return {
        one: request.headers.get("x-one"),
        added: request.headers.has("x-added"),
        same: request.headers === request.headers,
        wholeOne: whole.headers.get("x-one"),
        wholeAdded: whole.headers.get("x-added"),
      };
    })) as Record<string, unknown>;
    expect(seen).toEqual({ one: "changed", added: true, same: true, wholeOne: "changed", wholeAdded: "yes" });
  });

  test("a NUL in any header's value makes every read throw, as a Headers of those raw headers throws", async () => {
    const seen = (await send(["X-Junk: a\u0000b", "Authorization: Bearer t"], (request, incoming) => {
      const outcome = (read: () => unknown) => {
        try {
          return { value: read() };
        } catch (error) {
          return { thrown: (error as Error).constructor.name };
        }
      };
      return { lazy: outcome(() => request.headers.get("authorization")), fetch: outcome(() => fetchHeaders(incoming).get("authorization")) };
    })) as { lazy: unknown; fetch: unknown };
    expect(seen.fetch).toEqual({ thrown: "TypeError" });
    expect(seen.lazy).toEqual(seen.fetch);
  });
});
