/**
 * @internal Who calls over HTTP with built-in auth, as the backend's routes see it (a token in
 * `Authorization`, the session cookie with CSRF protection, or nobody, decided by
 * `RequestCallers`), and from which address.
 * @module
 */
import type { Context } from "hono";
import { apiError } from "../errors/api-error.js";
import type { Auth } from "./auth.js";
import { clientAddress, socketAddress } from "./client.js";
import { clientAddressOf } from "./ip-address.js";
import { ANONYMOUS, type Caller, type RequestView } from "./request-caller.js";
import type { SessionCookie } from "./session-cookie.js";
import type { Client } from "./sessions.js";

export { ANONYMOUS, type Caller } from "./request-caller.js";

/** What deciding the caller reads of a request the backend serves. */
function viewOf(c: Context): RequestView {
  return { method: c.req.method, url: c.req.url, headers: c.req.raw.headers, env: c.env };
}

/** @internal The HTTP side of built-in auth: the caller of a request, and its session cookie. */
export class AuthHttp {
  readonly auth: Auth;
  readonly cookie: SessionCookie;

  constructor(auth: Auth) {
    this.auth = auth;
    this.cookie = auth.cookie;
  }

  /** The client's address and user agent. */
  client(c: Context): Client {
    const custom = this.auth.settings.clientAddress;
    const address =
      custom !== undefined ? clientAddressOf(custom(c.req.raw)) : clientAddress(socketAddress(c.env), c.req.header("x-forwarded-for") ?? null, this.auth.trustedProxy);
    const userAgent = c.req.header("user-agent");
    return { ...(address === undefined ? {} : { address }), ...(userAgent === undefined ? {} : { userAgent }) };
  }

  /**
   * Who calls: a token in `Authorization` with a configured scheme (an unknown, expired or
   * revoked one is refused with 401), else the session cookie (an invalid one is cleared and the
   * call is anonymous; a write with it from another origin is refused; a refreshed one is sent
   * again), else anonymous.
   */
  async identify(c: Context): Promise<Caller> {
    const found = await this.auth.callers.find(viewOf(c));
    switch (found.kind) {
      case "unknown-token":
        throw apiError("INVALID_SESSION", "The token is unknown, expired or revoked; sign in again.");
      case "anonymous":
        if (found.staleCookie) this.cookie.clear(c);
        return ANONYMOUS;
      case "caller": {
        const { caller } = found;
        if (found.refreshed && caller.via === "cookie") this.cookie.set(c, caller.token!, caller.identity!.session!.expiresAt);
        return caller;
      }
    }
  }

  /**
   * Whether the session cookie would be this request's credential and the request comes from
   * another site (see `RequestCallers.crossSiteCookie`).
   */
  crossSiteCookie(c: Context): boolean {
    return this.auth.callers.crossSiteCookie(viewOf(c));
  }
}
