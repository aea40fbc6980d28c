/**
 * @internal The session cookie: read, set with the attributes of the options, cleared with the
 * same ones.
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
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

  /** The token the request's cookie carries, if any. */
  read(c: Context): string | undefined {
    return this.#cookie === null ? undefined : getCookie(c, this.#cookie.name);
  }

  /**
   * Sets the cookie to `token` until `expiresAt`, or 400 days from now when that is later (a
   * longer session, or a backend clock ahead of this machine's).
   */
  set(c: Context, token: string, expiresAt: Date): void {
    const cookie = this.#cookie;
    if (cookie === null) return;
    const expires = new Date(Math.min(expiresAt.getTime(), Date.now() + LONGEST_COOKIE_LIFETIME));
    setCookie(c, cookie.name, token, { ...this.#attributes(c, cookie), expires });
  }

  clear(c: Context): void {
    const cookie = this.#cookie;
    if (cookie === null) return;
    // The same attributes as when it was set: browsers drop a clearing cookie that lacks Secure
    // for a prefixed or SameSite=None cookie.
    deleteCookie(c, cookie.name, this.#attributes(c, cookie));
  }

  #attributes(c: Context, cookie: CookieSettings) {
    return {
      httpOnly: true,
      secure: this.#secure(c, cookie),
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
  #secure(c: Context, cookie: CookieSettings): boolean {
    if (cookie.name.startsWith("__Secure-") || cookie.name.startsWith("__Host-")) return true;
    if (cookie.secure !== "auto") return cookie.secure;
    return this.#production || !isPlainLoopback(c.env, this.#trusted);
  }
}
