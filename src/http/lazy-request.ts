/**
 * @internal Requests for host code that cost what is read of them: a Fetch `Request` by its
 * prototype chain, its method, URL and headers at hand, and everything else (its body, `signal`,
 * `clone()`...) read from a whole `Request` made the first time it is needed. The Node transport
 * gives one to host code (no Fetch `Request` exists there), and the Fetch transport one whose
 * body is the body the backend already read.
 * @module
 */
import { inspect, type InspectOptionsStylized } from "node:util";

/** What a lazy request is made from: its method and URL, its headers and the whole request, each made when needed. */
export interface LazySource {
  readonly method: string;
  readonly url: string;
  headers(): Headers;
  /** The whole request, with these headers. */
  whole(headers: Headers): Request;
}

const SOURCE = Symbol("source");
const HEADERS = Symbol("headers");
const WHOLE = Symbol("whole");

interface LazyRequest {
  readonly [SOURCE]: LazySource;
  [HEADERS]?: Headers;
  [WHOLE]?: Request;
}

/**
 * The prototype of lazy requests of `Class`: a Fetch `Request` (by its prototype chain) whose
 * method, URL and headers are its source's, and whose other members (its body, `signal`,
 * `clone()`...) are those of a whole `Request`, made the first time one is read. Making a whole
 * `Request` costs several microseconds; a host's `resolve` that reads a header costs well under
 * one. What reads a request's private slots (`new Request(lazy)`, `fetch(lazy)`) needs the whole
 * one: see `wholeRequest`.
 */
function lazyPrototypeOf(Class: typeof Request): object {
  const prototype = Object.create(Class.prototype) as Record<PropertyKey, unknown>;
  const headers = (request: LazyRequest) => (request[HEADERS] ??= request[SOURCE].headers());
  const whole = (request: LazyRequest) => (request[WHOLE] ??= request[SOURCE].whole(headers(request)));
  const own: PropertyDescriptorMap = {
    method: {
      get(this: LazyRequest) {
        return this[SOURCE].method;
      },
    },
    url: {
      get(this: LazyRequest) {
        return this[SOURCE].url;
      },
    },
    headers: {
      get(this: LazyRequest) {
        return headers(this);
      },
    },
  };
  // Along the chain: a host's `@hono/node-server` may have put a subclass in place of the global.
  for (let level: object | null = Class.prototype; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name === "constructor" || name in own) continue;
      const descriptor = Object.getOwnPropertyDescriptor(level, name)!;
      if (descriptor.get !== undefined) {
        own[name] = {
          get(this: LazyRequest) {
            return (whole(this) as unknown as Record<string, unknown>)[name];
          },
        };
      } else if (typeof descriptor.value === "function") {
        own[name] = {
          value(this: LazyRequest, ...args: unknown[]) {
            const request = whole(this) as unknown as Record<string, (...values: unknown[]) => unknown>;
            return request[name]!(...args);
          },
        };
      }
    }
  }
  // As console.log shows it (Request's own inspection reads private slots this object lacks).
  own[inspect.custom] = {
    value(this: LazyRequest, depth: number, options: InspectOptionsStylized, show: typeof inspect) {
      return `Request ${show({ method: this[SOURCE].method, url: this[SOURCE].url }, { ...options, depth: depth - 1 })}`;
    },
  };
  Object.defineProperties(prototype, own);
  return prototype;
}

let prototypeFor: typeof Request | undefined;
let lazyPrototype: object | undefined;

/**
 * A request made lazily from `source` (see `lazyPrototypeOf`), a `Request` of the global class
 * as it is now (a host's `@hono/node-server` may have put its own in place of Node's).
 */
export function lazyRequest(source: LazySource): Request {
  if (prototypeFor !== globalThis.Request) {
    prototypeFor = globalThis.Request;
    lazyPrototype = lazyPrototypeOf(prototypeFor);
  }
  const lazy = Object.create(lazyPrototype!) as { [SOURCE]: LazySource };
  lazy[SOURCE] = source;
  return lazy as unknown as Request;
}

/**
 * The whole `Request` of a lazy one (made now if it was not), or the request itself: for host
 * code that may pass it on whole (`fetch(request)`, `new Request(request)`), which a lazy
 * request cannot serve.
 */
export function wholeRequest(request: Request): Request {
  const lazy = request as unknown as Partial<LazyRequest>;
  if (lazy[SOURCE] === undefined) return request;
  return (lazy[WHOLE] ??= lazy[SOURCE].whole((lazy[HEADERS] ??= lazy[SOURCE].headers())));
}
