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
  /**
   * The value `headers()` would have for `name` (lowercase, a valid header name), read without
   * making it; `undefined` when it must be read from `headers()`. When given, the request's
   * `headers` are lazy too: a `Headers` made when more than `get()` and `has()` is asked of them.
   */
  header?(name: string): string | null | undefined;
  /** The whole request, with these headers. */
  whole(headers: Headers): Request;
}

const SOURCE = Symbol("source");
const HEADERS = Symbol("headers");
const WHOLE = Symbol("whole");
const REAL = Symbol("real");

/** Every member of a class's prototype chain but its constructor, by name, with its descriptor. */
function membersOf(prototype: object): Map<string, PropertyDescriptor> {
  const members = new Map<string, PropertyDescriptor>();
  for (let level: object | null = prototype; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name !== "constructor" && !members.has(name)) members.set(name, Object.getOwnPropertyDescriptor(level, name)!);
    }
  }
  return members;
}

/**
 * `own`, and descriptors that forward every other string-named member of `prototype`'s chain to
 * the object `target(this)` gives.
 */
function forwarding(prototype: object, own: PropertyDescriptorMap, target: (self: never) => object): PropertyDescriptorMap {
  const members: PropertyDescriptorMap = { ...own };
  for (const [name, descriptor] of membersOf(prototype)) {
    if (Object.hasOwn(own, name)) continue;
    if (descriptor.get !== undefined) {
      members[name] = {
        get(this: never) {
          return (target(this) as Record<string, unknown>)[name];
        },
      };
    } else if (typeof descriptor.value === "function") {
      members[name] = {
        value(this: never, ...args: unknown[]) {
          const object = target(this) as Record<string, (...values: unknown[]) => unknown>;
          return object[name]!(...args);
        },
      };
    }
  }
  return members;
}

/** A header name as `Headers` accepts one (an HTTP token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface LazyHeaders {
  readonly [SOURCE]: LazySource;
  [REAL]?: Headers;
}

/** The `Headers` a lazy one stands for, made now if it was not. */
function realHeaders(headers: LazyHeaders): Headers {
  return (headers[REAL] ??= headers[SOURCE].headers());
}

/**
 * The prototype of lazy headers of `Class`: a `Headers` (by its prototype chain) whose `get()`
 * and `has()` read the source's headers where they lie (what a host's `resolve` mostly does),
 * and whose other members are those of a whole `Headers`, made the first time one is used; from
 * then on every member is the whole one's, so that what a host sets is what it reads.
 */
function lazyHeadersPrototypeOf(Class: typeof Headers): object {
  const prototype = Object.create(Class.prototype) as object;
  const read = (headers: LazyHeaders, name: unknown): string | null | undefined => {
    if (headers[REAL] !== undefined || typeof name !== "string" || !TOKEN.test(name)) return undefined;
    return headers[SOURCE].header!(name.toLowerCase());
  };
  const own: PropertyDescriptorMap = {
    get: {
      value(this: LazyHeaders, name: string) {
        const value = read(this, name);
        return value !== undefined ? value : realHeaders(this).get(name);
      },
    },
    has: {
      value(this: LazyHeaders, name: string) {
        const value = read(this, name);
        return value !== undefined ? value !== null : realHeaders(this).has(name);
      },
    },
    [Symbol.iterator]: {
      value(this: LazyHeaders) {
        return realHeaders(this)[Symbol.iterator]();
      },
    },
    [inspect.custom]: {
      value(this: LazyHeaders, depth: number, options: InspectOptionsStylized, show: typeof inspect) {
        return show(realHeaders(this), { ...options, depth });
      },
    },
  };
  Object.defineProperties(prototype, forwarding(Class.prototype, own, realHeaders));
  return prototype;
}

/**
 * What makes lazy objects over a source: each of the prototype `prototypeOf` makes for the
 * global class as it is now (`current()`), made again when a host put another in its place.
 */
function lazyOf<C, T>(current: () => C, prototypeOf: (Class: C) => object): (source: LazySource) => T {
  let madeFor: C | undefined;
  let prototype: object | undefined;
  return (source) => {
    const Class = current();
    if (prototype === undefined || madeFor !== Class) {
      madeFor = Class;
      prototype = prototypeOf(Class);
    }
    const lazy = Object.create(prototype) as { [SOURCE]: LazySource };
    lazy[SOURCE] = source;
    return lazy as unknown as T;
  };
}

/** Headers made lazily from `source` (see `lazyHeadersPrototypeOf`), of the global class as it is now. */
const lazyHeaders = lazyOf<typeof Headers, Headers>(() => globalThis.Headers, lazyHeadersPrototypeOf);

/** A request's `Headers` as a `Request` can take them: lazy ones made whole. */
function wholeHeaders(headers: Headers): Headers {
  const lazy = headers as unknown as Partial<LazyHeaders>;
  return lazy[SOURCE] === undefined ? headers : realHeaders(lazy as LazyHeaders);
}

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
  const whole = (request: LazyRequest) => (request[WHOLE] ??= request[SOURCE].whole(wholeHeaders(headersOf(request))));
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
        return headersOf(this);
      },
    },
    // As console.log shows it (Request's own inspection reads private slots this object lacks).
    [inspect.custom]: {
      value(this: LazyRequest, depth: number, options: InspectOptionsStylized, show: typeof inspect) {
        return `Request ${show({ method: this[SOURCE].method, url: this[SOURCE].url }, { ...options, depth: depth - 1 })}`;
      },
    },
  };
  // Along the chain: a host's `@hono/node-server` may have put a subclass in place of the global.
  Object.defineProperties(prototype, forwarding(Class.prototype, own, whole));
  return prototype;
}

/** A lazy request's headers: lazy too when its source reads them where they lie. */
function headersOf(request: LazyRequest): Headers {
  if (request[HEADERS] !== undefined) return request[HEADERS];
  const source = request[SOURCE];
  return (request[HEADERS] = source.header === undefined ? source.headers() : lazyHeaders(source));
}

/**
 * A request made lazily from `source` (see `lazyPrototypeOf`), a `Request` of the global class
 * as it is now (a host's `@hono/node-server` may have put its own in place of Node's).
 */
export const lazyRequest = lazyOf<typeof Request, Request>(() => globalThis.Request, lazyPrototypeOf);

/**
 * The whole `Request` of a lazy one (made now if it was not), or the request itself: for host
 * code that may pass it on whole (`fetch(request)`, `new Request(request)`), which a lazy
 * request cannot serve.
 */
export function wholeRequest(request: Request): Request {
  const lazy = request as unknown as Partial<LazyRequest>;
  if (lazy[SOURCE] === undefined) return request;
  return (lazy[WHOLE] ??= lazy[SOURCE].whole(wholeHeaders(headersOf(lazy as LazyRequest))));
}
