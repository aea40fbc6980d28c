/**
 * @internal The session cookie: read, set with the attributes of the options (on a Hono context,
 * or as a `Set-Cookie` value for a host's own answer), cleared with the same ones.
 * @module
 */
import { parse, serialize } from "hono/utils/cookie";
/** A request being answered, as the cookie is set on its answer (the HTTP core's exchange is one). */
export interface CookieTarget {
  /** `@hono/node-server`'s env or the Node transport's (`{ incoming }`), whose socket tells a development server. */
  readonly arrival: { readonly env: unknown };
  /** Adds a header to the answer (`Set-Cookie` values add up). */
  addHeader(name: string, value: string): void;
}
import { isPlainLoopback } from "./client.js";
import type { AuthSettings } from "./settings.js";

type CookieSettings = NonNullable<AuthSettings["cookie"]>;

/**
 * The furthest `Expires` of a cookie, from now: browsers keep none longer (RFC 6265bis), and
 * Hono refuses to write one further.
 */
const LONGEST_COOKIE_LIFETIME = 400 * 86_400_000;

/** The session cookie of the options; every method does nothing when it is off (`cookie: false`). */
export class SessionCookie {
  readonly #cookie: CookieSettings | null;
  readonly #trusted: (address: string) => boolean;
  readonly #production = process.env["NODE_ENV"] === "production";

  constructor(cookie: CookieSettings | null, trusted: (address: string) => boolean) {
    if (cookie !== null && cookie.name.startsWith("__Host-") && (cookie.domain !== undefined || cookie.path !== "/")) {
      throw new TypeError('auth.sessions.cookie: a "__Host-" cookie has no domain and the path "/".');
    }
    this.#cookie = cookie;
    this.#trusted = trusted;
  }

  /** The token the request's cookie carries, if any (read as Hono's `getCookie` reads it). */
  read(headers: { get(name: string): string | null }): string | undefined {
    if (this.#cookie === null) return undefined;
    const header = headers.get("cookie");
    return header ? parse(header, this.#cookie.name)[this.#cookie.name] : undefined;
  }

  /**
   * Sets the cookie to `token` until `expiresAt`, or 400 days from now when that is later (a
   * longer session, or a backend clock ahead of this machine's).
   */
  set(x: CookieTarget, token: string, expiresAt: Date): void {
    const header = this.header(token, expiresAt, x.arrival.env);
    if (header !== undefined) x.addHeader("set-cookie", header);
  }

  /**
   * The `Set-Cookie` value that sets the cookie to `token` until `expiresAt` (as `set` does), for
   * a request whose `@hono/node-server` env is `env` (`{ incoming }`, or nothing); `undefined`
   * when the cookie is off.
   */
  header(token: string, expiresAt: Date, env: unknown): string | undefined {
    const cookie = this.#cookie;
    if (cookie === null) return undefined;
    const expires = new Date(Math.min(expiresAt.getTime(), Date.now() + LONGEST_COOKIE_LIFETIME));
    // What Hono's setCookie writes (without its prefix option).
    return serialize(cookie.name, token, { ...this.#attributes(env, cookie), expires });
  }

  /** Clears the cookie (an empty value with `Max-Age=0`, as Hono's `deleteCookie` writes it). */
  clear(x: CookieTarget): void {
    const cookie = this.#cookie;
    if (cookie === null) return;
    // The same attributes as when it was set: browsers drop a clearing cookie that lacks Secure
    // for a prefixed or SameSite=None cookie.
    x.addHeader("set-cookie", serialize(cookie.name, "", { ...this.#attributes(x.arrival.env, cookie), maxAge: 0 }));
  }

  #attributes(env: unknown, cookie: CookieSettings) {
    return {
      httpOnly: true,
      secure: this.#secure(env, cookie),
      sameSite: cookie.sameSite,
      path: cookie.path,
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
    };
  }

  /**
   * Whether the cookie is `Secure` for this request: always for `__Secure-` and `__Host-` names
   * (browsers, and Hono, refuse them otherwise), else as configured. `"auto"` leaves it off only
   * for a development server (`NODE_ENV` not "production") reached over a plain loopback socket
   * that is not a trusted proxy; never by the Host header, which a proxy on the same machine
   * sets to localhost too.
   */
  #secure(env: unknown, cookie: CookieSettings): boolean {
    if (cookie.name.startsWith("__Secure-") || cookie.name.startsWith("__Host-")) return true;
    if (cookie.secure !== "auto") return cookie.secure;
    return this.#production || !isPlainLoopback(env, this.#trusted);
  }
}
