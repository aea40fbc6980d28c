/**
 * @internal Who calls over HTTP with built-in auth: a token in `Authorization`, the session
 * cookie (with CSRF protection), or nobody; and from which address.
 * @module
 */
import type { Context } from "hono";
import type { Principal } from "../define/principal.js";
import { apiError } from "../errors/api-error.js";
import type { Auth, Identity } from "./auth.js";
import { clientAddress, isCrossOrigin, proxyMatcher, socketAddress } from "./client.js";
import { clientAddressOf } from "./ip-address.js";
import { SessionCookie } from "./session-cookie.js";
import type { Client } from "./sessions.js";

/** Who called, and how. */
export interface Caller {
  readonly user: Principal | null;
  /** How the credential came: its identity and token, or nothing for anonymous calls. */
  readonly via: "cookie" | "header" | null;
  readonly identity: Identity | null;
  readonly token: string | null;
}

/** An anonymous caller. */
export const ANONYMOUS: Caller = { user: null, via: null, identity: null, token: null };
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** @internal The HTTP side of built-in auth: the caller of a request, and its session cookie. */
export class AuthHttp {
  readonly auth: Auth;
  readonly cookie: SessionCookie;
  readonly #trusted: (address: string) => boolean;

  constructor(auth: Auth) {
    this.auth = auth;
    this.#trusted = proxyMatcher(auth.settings.trustedProxies);
    this.cookie = new SessionCookie(auth.settings.cookie, this.#trusted);
  }

  /** The client's address and user agent. */
  client(c: Context): Client {
    const custom = this.auth.settings.clientAddress;
    const address =
      custom !== undefined ? clientAddressOf(custom(c.req.raw)) : clientAddress(socketAddress(c.env), c.req.header("x-forwarded-for") ?? null, this.#trusted);
    const userAgent = c.req.header("user-agent");
    return { ...(address === undefined ? {} : { address }), ...(userAgent === undefined ? {} : { userAgent }) };
  }

  /** The token of `Authorization` when its scheme is one of the options'; `undefined` otherwise. */
  #headerToken(c: Context): string | undefined {
    const header = c.req.header("authorization");
    if (header === undefined) return undefined;
    const space = header.indexOf(" ");
    const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
    return this.auth.settings.schemes.has(scheme) ? header.slice(space + 1).trim() : undefined;
  }

  /**
   * Who calls: a token in `Authorization` with a configured scheme (an unknown, expired or
   * revoked one is refused with 401), else the session cookie (an invalid one is cleared and the
   * call is anonymous; a write with it from another origin is refused), else anonymous.
   */
  async identify(c: Context): Promise<Caller> {
    const bearer = this.#headerToken(c);
    if (bearer !== undefined) {
      const identity = await this.auth.verifyToken(bearer);
      if (identity === null) throw apiError("INVALID_SESSION", "The token is unknown, expired or revoked; sign in again.");
      return { user: identity.user, via: "header", identity, token: bearer };
    }
    const token = this.cookie.read(c);
    if (token === undefined || token === "") return ANONYMOUS;
    if (!SAFE_METHODS.has(c.req.method) && isCrossOrigin(c.req.raw, this.auth.settings.trustedOrigins)) {
      throw apiError("CROSS_ORIGIN_REQUEST", "A write with the session cookie must come from this site (or a trusted origin).");
    }
    const found = await this.auth.parts.sessions.find(token);
    if (found === null) {
      this.cookie.clear(c);
      return ANONYMOUS;
    }
    if (found.refreshed) this.cookie.set(c, token, found.session.expiresAt);
    const identity = { user: found.user, session: found.session };
    return { user: found.user, via: "cookie", identity, token };
  }

  /**
   * Whether the session cookie would be this request's credential (no token in `Authorization`
   * with a configured scheme) and the request comes from another site, neither this origin nor
   * a trusted one. A link or a redirect from another site is such a request: browsers send a
   * `SameSite=Lax` cookie with it.
   */
  crossSiteCookie(c: Context): boolean {
    if (!this.cookie.read(c)) return false;
    if (this.#headerToken(c) !== undefined) return false;
    return isCrossOrigin(c.req.raw, this.auth.settings.trustedOrigins);
  }
}
