/**
 * @internal Who calls over HTTP with built-in auth, as the backend's routes see it (a token in
 * `Authorization`, the session cookie with CSRF protection, or nobody, decided by
 * `RequestCallers`), and from which address.
 * @module
 */
import { apiError } from "../errors/api-error.js";
import type { Auth } from "./auth.js";
import { clientAddress, socketAddress } from "./client.js";
import { clientAddressOf } from "./ip-address.js";
import { ANONYMOUS, type Caller, type RequestView } from "./request-caller.js";
import type { CookieTarget, SessionCookie } from "./session-cookie.js";
import type { Client } from "./sessions.js";

/** A request the backend's routes answer, as built-in auth reads it (the HTTP core's exchange is one). */
export interface AuthExchange extends CookieTarget {
  readonly arrival: RequestView;
  /** The request as a Fetch `Request`, for the host's `clientAddress`. */
  readonly request: Request;
  header(name: string): string | undefined;
}

export { ANONYMOUS, type Caller } from "./request-caller.js";

/** What deciding the caller reads of a request the backend serves. */
function viewOf(x: AuthExchange): RequestView {
  return x.arrival;
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
  client(x: AuthExchange): Client {
    const custom = this.auth.settings.clientAddress;
    const address =
      custom !== undefined ? clientAddressOf(custom(x.request)) : clientAddress(socketAddress(x.arrival.env), x.header("x-forwarded-for") ?? null, this.auth.trustedProxy);
    const userAgent = x.header("user-agent");
    return { ...(address === undefined ? {} : { address }), ...(userAgent === undefined ? {} : { userAgent }) };
  }

  /**
   * Who calls: a token in `Authorization` with a configured scheme (an unknown, expired or
   * revoked one is refused with 401), else the session cookie (an invalid one is cleared and the
   * call is anonymous; a write with it from another origin is refused; a refreshed one is sent
   * again), else anonymous.
   */
  async identify(x: AuthExchange): Promise<Caller> {
    const found = await this.auth.callers.find(viewOf(x));
    switch (found.kind) {
      case "unknown-token":
        throw apiError("INVALID_SESSION", "The token is unknown, expired or revoked; sign in again.");
      case "anonymous":
        if (found.staleCookie) this.cookie.clear(x);
        return ANONYMOUS;
      case "caller": {
        const { caller } = found;
        if (found.refreshed && caller.via === "cookie") this.cookie.set(x, caller.token!, caller.identity!.session!.expiresAt);
        return caller;
      }
    }
  }

  /**
   * Whether the session cookie would be this request's credential and the request comes from
   * another site (see `RequestCallers.crossSiteCookie`).
   */
  crossSiteCookie(x: AuthExchange): boolean {
    return this.auth.callers.crossSiteCookie(viewOf(x));
  }
}
