/**
 * @internal Built-in auth over HTTP: who calls (session cookie, `Authorization` header, API
 * key), CSRF protection for cookies, and the `/auth/*` routes.
 * @module
 */
import type { Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Principal } from "../access/principal.js";
import { apiError } from "../errors/api-error.js";
import { validationError } from "../errors/validation.js";
import type { Auth, Identity } from "./auth.js";
import { clientAddress, isCrossOrigin, isPlainLoopback, proxyMatcher, socketAddress } from "./client.js";

/** Who called, and how. */
export interface Caller {
  readonly user: Principal | null;
  /** How the credential came: its identity and token, or nothing for anonymous calls. */
  readonly via: "cookie" | "header" | null;
  readonly identity: Identity | null;
  readonly token: string | null;
}

const ANONYMOUS: Caller = { user: null, via: null, identity: null, token: null };
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** What the routes need from the HTTP app. */
export interface AuthRouteHelpers {
  /** The body as a JSON object (415/400 otherwise). */
  objectBody(request: Request): Promise<Record<string, unknown>>;
  /** The user record as the user itself may read it. */
  ownRecord(user: Principal): Promise<Record<string, unknown>>;
}

/** @internal The HTTP side of built-in auth. */
export class AuthHttp {
  readonly #auth: Auth;
  readonly #trusted: (address: string) => boolean;
  readonly #production = process.env["NODE_ENV"] === "production";

  constructor(auth: Auth) {
    this.#auth = auth;
    this.#trusted = proxyMatcher(auth.settings.trustedProxies);
    const cookie = auth.settings.cookie;
    if (cookie !== null && cookie.name.startsWith("__Host-") && (cookie.domain !== undefined || cookie.path !== "/")) {
      throw new TypeError('auth.sessions.cookie: a "__Host-" cookie has no domain and the path "/".');
    }
  }

  /**
   * Whether the cookie is `Secure` for this request: always for `__Secure-` and `__Host-` names
   * (browsers, and Hono, refuse them otherwise), else as configured. `"auto"` leaves it off only
   * for a development server (`NODE_ENV` not "production") reached over a plain loopback socket
   * that is not a trusted proxy; never by the Host header, which a proxy on the same machine
   * sets to localhost too.
   */
  #secure(c: Context, cookie: NonNullable<Auth["settings"]["cookie"]>): boolean {
    if (cookie.name.startsWith("__Secure-") || cookie.name.startsWith("__Host-")) return true;
    if (cookie.secure !== "auto") return cookie.secure;
    return this.#production || !isPlainLoopback(c.env, this.#trusted);
  }

  /** The client's address and user agent. */
  client(c: Context): { address?: string; userAgent?: string } {
    const custom = this.#auth.settings.clientAddress;
    const address =
      custom !== undefined ? custom(c.req.raw) : clientAddress(socketAddress(c.env), c.req.header("x-forwarded-for") ?? null, this.#trusted);
    const userAgent = c.req.header("user-agent");
    return { ...(address === undefined ? {} : { address }), ...(userAgent === undefined ? {} : { userAgent }) };
  }

  #setCookie(c: Context, token: string, expiresAt: Date): void {
    const cookie = this.#auth.settings.cookie;
    if (cookie === null) return;
    setCookie(c, cookie.name, token, {
      httpOnly: true,
      secure: this.#secure(c, cookie),
      sameSite: cookie.sameSite,
      path: cookie.path,
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
      expires: expiresAt,
    });
  }

  #clearCookie(c: Context): void {
    const cookie = this.#auth.settings.cookie;
    if (cookie === null) return;
    // The same attributes as when it was set: browsers drop a clearing cookie that lacks Secure
    // for a prefixed or SameSite=None cookie.
    deleteCookie(c, cookie.name, {
      httpOnly: true,
      secure: this.#secure(c, cookie),
      sameSite: cookie.sameSite,
      path: cookie.path,
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
    });
  }

  /**
   * Who calls: a token in `Authorization` with a configured scheme (an unknown, expired or
   * revoked one is refused with 401), else the session cookie (an invalid one is cleared and the
   * call is anonymous; a write with it from another origin is refused), else anonymous.
   */
  async identify(c: Context): Promise<Caller> {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const space = header.indexOf(" ");
      const scheme = space > 0 ? header.slice(0, space).toLowerCase() : "";
      if (this.#auth.settings.schemes.has(scheme)) {
        const token = header.slice(space + 1).trim();
        const identity = await this.#auth.verifyToken(token);
        if (identity === null) throw apiError("INVALID_SESSION", "The token is unknown, expired or revoked; sign in again.");
        return { user: identity.user, via: "header", identity, token };
      }
    }
    const cookie = this.#auth.settings.cookie;
    const token = cookie === null ? undefined : getCookie(c, cookie.name);
    if (token === undefined || token === "") return ANONYMOUS;
    if (!SAFE_METHODS.has(c.req.method) && isCrossOrigin(c.req.raw, this.#auth.settings.trustedOrigins)) {
      throw apiError("CROSS_ORIGIN_REQUEST", "A write with the session cookie must come from this site (or a trusted origin).");
    }
    const found = await this.#auth.session(token);
    if (found === null) {
      this.#clearCookie(c);
      return ANONYMOUS;
    }
    if (found.refreshed) this.#setCookie(c, token, found.identity.session!.expiresAt);
    return { user: found.identity.user, via: "cookie", identity: found.identity, token };
  }

  /**
   * Whether the session cookie would be this request's credential (no token in `Authorization`
   * with a configured scheme) and the request comes from another site, neither this origin nor
   * a trusted one. A link or a redirect from another site is such a request: browsers send a
   * `SameSite=Lax` cookie with it.
   */
  crossSiteCookie(c: Context): boolean {
    const cookie = this.#auth.settings.cookie;
    if (cookie === null || !getCookie(c, cookie.name)) return false;
    const header = c.req.header("authorization");
    if (header !== undefined && this.#auth.settings.schemes.has(header.slice(0, Math.max(0, header.indexOf(" "))).toLowerCase())) return false;
    return isCrossOrigin(c.req.raw, this.#auth.settings.trustedOrigins);
  }

  /** Installs the `/auth/*` routes. */
  install(app: Hono, caller: (c: Context) => Promise<Caller>, helpers: AuthRouteHelpers): void {
    const auth = this.#auth;

    // Tokens, keys and the caller's account: never stored by a browser or shared cache.
    app.use("/auth/*", async (c, next) => {
      await next();
      c.header("cache-control", "no-store");
    });

    const sessionOf = async (c: Context) => {
      const current = await caller(c);
      if (current.identity?.session === undefined) {
        throw current.identity?.apiKey !== undefined
          ? apiError("FORBIDDEN", "This route needs a session; an API key cannot use it.")
          : apiError("UNAUTHORIZED", "Sign in first.");
      }
      return { user: current.identity.user, session: current.identity.session, token: current.token! };
    };
    /** Refuses a credential write carrying the session cookie from another origin (login CSRF included). */
    const sameOrigin = (c: Context) => {
      if (isCrossOrigin(c.req.raw, auth.settings.trustedOrigins) && c.req.header("cookie") !== undefined) {
        throw apiError("CROSS_ORIGIN_REQUEST", "This request must come from this site (or a trusted origin).");
      }
    };
    const signedIn = async (c: Context, result: { user: Principal; token: string; session: { expiresAt: Date } }, status: 200 | 201) => {
      this.#setCookie(c, result.token, result.session.expiresAt);
      return c.json({ user: await helpers.ownRecord(result.user), token: result.token, session: result.session }, status);
    };

    app.post("/auth/sign-up", async (c) => {
      sameOrigin(c);
      if (!auth.settings.signUp) throw apiError("ROUTE_NOT_FOUND", "Sign-up is closed.");
      const result = await auth.signUp(await helpers.objectBody(c.req.raw), this.client(c));
      if (result === null) return c.json({ status: "email-sent", message: "Check your e-mail to finish signing up." }, 202);
      return signedIn(c, result, 201);
    });
    app.post("/auth/sign-in", async (c) => {
      sameOrigin(c);
      const body = await helpers.objectBody(c.req.raw);
      return signedIn(c, await auth.signIn(body["email"] as string, body["password"] as string, this.client(c)), 200);
    });
    app.post("/auth/verify-email", async (c) => {
      sameOrigin(c);
      return signedIn(c, await auth.verifyEmail(await helpers.objectBody(c.req.raw), this.client(c)), 200);
    });
    app.post("/auth/request-password-reset", async (c) => {
      sameOrigin(c);
      const body = await helpers.objectBody(c.req.raw);
      await auth.requestPasswordReset(body["email"], this.client(c).address);
      return c.json({ status: "email-sent", message: "If this address has an account, a message is on its way to it." }, 202);
    });
    app.post("/auth/reset-password", async (c) => {
      sameOrigin(c);
      await auth.resetPassword(await helpers.objectBody(c.req.raw), this.client(c).address);
      return c.body(null, 204);
    });
    app.post("/auth/sign-out", async (c) => {
      const current = await caller(c);
      if (current.identity?.session !== undefined) await auth.revokeSession(current.token!);
      this.#clearCookie(c);
      return c.body(null, 204);
    });
    app.get("/auth/session", async (c) => {
      const { user, session } = await sessionOf(c);
      return c.json({ user: await helpers.ownRecord(user), session });
    });
    app.post("/auth/revoke-all", async (c) => {
      const { user } = await sessionOf(c);
      const revoked = await auth.revokeSessions(user.id);
      this.#clearCookie(c);
      return c.json({ revoked });
    });
    app.post("/auth/change-password", async (c) => {
      const { user, session } = await sessionOf(c);
      await auth.changePassword(user, session.id, await helpers.objectBody(c.req.raw), this.client(c).address);
      return c.body(null, 204);
    });
    app.get("/auth/api-keys", async (c) => {
      const { user } = await sessionOf(c);
      return c.json({ items: await auth.apiKeys.list(user.id) });
    });
    app.post("/auth/api-keys", async (c) => {
      const { user } = await sessionOf(c);
      const body = await helpers.objectBody(c.req.raw);
      const known = new Set(["name", "collections", "actions", "expiresIn"]);
      const unknown = Object.keys(body).filter((name) => !known.has(name));
      if (unknown.length > 0) {
        throw validationError(
          "Invalid API key",
          unknown.map((name) => ({ path: [name], code: "unrecognized_keys", message: `Unknown field "${name}"` })),
        );
      }
      const created = await auth.apiKeys.create({ ...(body as { name: string }), userId: user.id });
      return c.json(created, 201);
    });
    app.delete("/auth/api-keys/:id", async (c) => {
      const { user } = await sessionOf(c);
      const id = c.req.param("id");
      const own = (await auth.apiKeys.list(user.id)).some((key) => key.id === id);
      if (!own || !(await auth.apiKeys.revoke(id))) throw apiError("NOT_FOUND", `No API key with id "${id}".`);
      return c.body(null, 204);
    });
  }
}
