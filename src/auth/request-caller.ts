/**
 * @internal Who calls, by one set of rules for the backend's routes and a host's own: a token in
 * `Authorization`, the session cookie (with CSRF protection), or nobody. Read from a view of the
 * request, which a Hono context, a Fetch `Request`, a Node request or headers alone all give.
 * @module
 */
import type { Identity } from "../define/auth-api.js";
import type { Principal } from "../define/principal.js";
import { apiError } from "../errors/api-error.js";
import { isCrossOrigin } from "./client.js";
import type { SessionCookie } from "./session-cookie.js";
import type { Sessions } from "./sessions.js";
import type { AuthSettings } from "./settings.js";

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

/** Reads a request header by its lower-case name, `null` when absent (a Fetch `Headers` is one). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What deciding the caller reads of a request. */
export interface RequestView {
  readonly method: string;
  /** Its URL, or at least its host (`http://host/`), for the origin check; `""` when unknown. */
  readonly url: string;
  readonly headers: HeaderReader;
  /** What tells a development server: `@hono/node-server`'s env (`{ incoming }`), if any. */
  readonly env: unknown;
}

/** Who calls a request, or why nobody does. */
export type FoundCaller =
  /** No credential; `staleCookie` when the cookie named no live session (it is cleared). */
  | { readonly kind: "anonymous"; readonly staleCookie: boolean }
  /** A token in `Authorization` that is unknown, expired or revoked. */
  | { readonly kind: "unknown-token" }
  /** `refreshed` when this use extended a session (its cookie is sent again with the new expiry). */
  | { readonly kind: "caller"; readonly caller: Caller; readonly refreshed: boolean };

/** The one place that decides who calls. */
export class RequestCallers {
  readonly #settings: Pick<AuthSettings, "schemes" | "trustedOrigins">;
  readonly #sessions: Pick<Sessions, "find">;
  readonly #verifyToken: (token: string) => Promise<Identity | null>;
  readonly #cookie: SessionCookie;

  constructor(
    settings: Pick<AuthSettings, "schemes" | "trustedOrigins">,
    sessions: Pick<Sessions, "find">,
    verifyToken: (token: string) => Promise<Identity | null>,
    cookie: SessionCookie,
  ) {
    this.#settings = settings;
    this.#sessions = sessions;
    this.#verifyToken = verifyToken;
    this.#cookie = cookie;
  }

  /** The token of `Authorization` when its scheme is one of the options'; `undefined` otherwise. */
  #headerToken(headers: HeaderReader): string | undefined {
    const header = headers.get("authorization");
    if (header === null) return undefined;
    const space = header.indexOf(" ");
    const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
    return this.#settings.schemes.has(scheme) ? header.slice(space + 1).trim() : undefined;
  }

  /**
   * Who calls: a token in `Authorization` with a configured scheme, else the session cookie,
   * else nobody. A write with the cookie from another origin throws 403 `CROSS_ORIGIN_REQUEST`.
   */
  async find(request: RequestView): Promise<FoundCaller> {
    const bearer = this.#headerToken(request.headers);
    if (bearer !== undefined) {
      const identity = await this.#verifyToken(bearer);
      if (identity === null) return { kind: "unknown-token" };
      return { kind: "caller", caller: { user: identity.user, via: "header", identity, token: bearer }, refreshed: false };
    }
    const token = this.#cookie.read(request.headers);
    if (token === undefined || token === "") return { kind: "anonymous", staleCookie: false };
    if (!SAFE_METHODS.has(request.method) && isCrossOrigin(request, this.#settings.trustedOrigins)) {
      throw apiError("CROSS_ORIGIN_REQUEST", "A write with the session cookie must come from this site (or a trusted origin).");
    }
    const found = await this.#sessions.find(token);
    if (found === null) return { kind: "anonymous", staleCookie: true };
    const identity = { user: found.user, session: found.session };
    return { kind: "caller", caller: { user: found.user, via: "cookie", identity, token }, refreshed: found.refreshed };
  }

  /**
   * Whether the session cookie would be this request's credential (no token in `Authorization`
   * with a configured scheme) and the request comes from another site, neither this origin nor
   * a trusted one. A link or a redirect from another site is such a request: browsers send a
   * `SameSite=Lax` cookie with it.
   */
  crossSiteCookie(request: RequestView): boolean {
    if (!this.#cookie.read(request.headers)) return false;
    if (this.#headerToken(request.headers) !== undefined) return false;
    return isCrossOrigin(request, this.#settings.trustedOrigins);
  }
}
