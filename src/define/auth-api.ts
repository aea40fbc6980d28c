/**
 * What user code sees of authentication: `backend.auth` and `ctx.auth` in actions, and the
 * records it returns. Declared here, below the flows that implement it.
 * @module
 */
import type { Principal } from "./principal.js";
import type { AnyCollection } from "./types.js";
import type { CreateInput, Infer } from "./types.js";
import type { DefaultUsers } from "./users.js";

/**
 * A length of time: milliseconds, or a string such as `"30d"`, `"12h"`, `"15m"`, `"90s"`.
 */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d" | "w"}`;

/** A session, as `GET /auth/session` and `backend.auth` show it (never its token). */
export interface SessionInfo {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** An API key, as listed (never the key itself, only its first characters). */
export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  /** The key's first characters, to tell keys apart. */
  readonly start: string;
  /** The owner; `null` for a key of the system. */
  readonly userId: string | null;
  /** For a key of the system: the role its principal has. */
  readonly role: string | null;
  /** The collections it may use over HTTP; `null`: every one. */
  readonly collections: readonly string[] | null;
  /** The actions it may call over HTTP; `null`: every one. */
  readonly actions: readonly string[] | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/** What `backend.auth.apiKeys.create` takes. */
export interface CreateApiKeyInput {
  /** A label for people. */
  name: string;
  /** The owner, whose principal the key acts as; absent: a key of the system. */
  userId?: string;
  /** For a key of the system: the role of its principal (`{ id: keyId, role }`). @default "system" */
  role?: string;
  /** Limit the key to these collections (HTTP routes); absent: every one. */
  collections?: readonly string[];
  /** Limit the key to these actions (HTTP routes); absent: every one. */
  actions?: readonly string[];
  /** How long the key lasts, at most 100 years; absent: until revoked. */
  expiresIn?: Duration;
}

/** Who a token belongs to. */
export interface Identity {
  /** The principal rules see. */
  readonly user: Principal;
  /** Set when a session token was presented. */
  readonly session?: SessionInfo;
  /** Set when an API key was presented. */
  readonly apiKey?: ApiKeyInfo;
}

/**
 * A request of a host's own route, as `backend.auth.session` reads it: a Fetch `Request` (Hono's
 * `c.req.raw`), a Node request (`IncomingMessage`: Express's `req`, Koa's `ctx.req`), or its
 * headers alone (`Headers`, or a record of header names to values, such as `req.headers`).
 *
 * @example
 * ```ts
 * await backend.auth.session(c.req.raw);                      // Hono
 * await backend.auth.session(req);                            // Express, node:http
 * await backend.auth.session(ctx.req);                        // Koa
 * await backend.auth.session(req.headers, { method: "POST" }); // headers alone: say the method
 * ```
 */
export type SessionRequest =
  | Request
  | {
      readonly method?: string | undefined;
      readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
      /** Its socket: whether a refreshed cookie is `Secure` is judged by it (see the cookie's `secure`). */
      readonly socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | null | undefined;
    }
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * What `backend.auth.session` takes besides the request.
 *
 * @example
 * ```ts
 * const caller = await backend.auth.session(headers, { method: "DELETE" });
 * ```
 */
export interface SessionRequestOptions {
  /**
   * The request's method, for headers given alone (a request carries its own, and this is then
   * refused): a cookie may not authenticate a write (any method but GET, HEAD, OPTIONS) from
   * another origin. Pass it when the route changes anything.
   * @default "GET"
   */
  readonly method?: string;
}

/**
 * The caller of a request, as `backend.auth.session` finds it: a session (by the cookie or an
 * `Authorization` token) or an API key.
 *
 * @example
 * ```ts
 * const caller = await backend.auth.session(req);
 * if (caller?.apiKey !== undefined) console.log("the key", caller.apiKey.name, "acts as", caller.user.id);
 * if (caller?.session !== undefined) console.log("signed in until", caller.session.expiresAt);
 * ```
 */
export interface RequestCaller {
  /** The principal rules see: the session's user, or the API key's principal. */
  readonly user: Principal;
  /** The session, when the request carried a session token (cookie or header); `undefined` for an API key. */
  readonly session: SessionInfo | undefined;
  /**
   * The API key, when the request carried one; `undefined` for a session. Its `collections` and
   * `actions` limits are the backend's routes' to apply: check them in your route if it matters.
   */
  readonly apiKey: ApiKeyInfo | undefined;
  /**
   * A `Set-Cookie` header value to send with the answer, when this use extended a session that
   * came by the cookie (sessions slide, at most once per `sessions.refreshAfter`); `undefined`
   * otherwise. Without it the browser keeps the cookie's older expiry.
   */
  readonly setCookie: string | undefined;
}

/**
 * What `backend.auth.createUser` takes: the fields of the `users` collection as the system
 * writes them (so `role` and `emailVerified` too), and either a password or `passwordHash`, the
 * hash of one made by another system (bcrypt, argon2id or argon2i, scrypt: see "Importing users"
 * in the auth guide), checked at sign-in and then replaced by the backend's hasher. Without
 * either, the account signs in only after a password reset.
 *
 * @example
 * ```ts
 * await backend.auth.createUser({ email: "ada@example.com", password: "correct horse battery" });
 * // Moving accounts from another system, with the hashes it kept:
 * await backend.auth.createUser({ email: "grace@example.com", passwordHash: "$2b$12$...", emailVerified: true });
 * ```
 */
export type CreateUserInput<U extends AnyCollection = DefaultUsers> = CreateInput<U, "system"> & PasswordOrHash;

/** A password, or the hash of one from another system, or neither: never both. */
export type PasswordOrHash =
  | { password?: string; passwordHash?: never }
  | {
      password?: never;
      /**
       * The hash of the user's password as another system stored it: bcrypt (`$2a$`, `$2b$`,
       * `$2y$`), argon2id or argon2i (`$argon2id$v=19$...`), or scrypt (`$scrypt$...`, `$7$...`,
       * `scrypt$...`). A hash of another kind, malformed, or costlier than a sign-in may be is
       * refused (422 naming `passwordHash`).
       */
      passwordHash?: string;
    };

/**
 * Authentication in-process: `backend.auth`. For seeding accounts, tests, and hosts that run
 * their own sign-in flows.
 *
 * @example
 * ```ts
 * const ada = await backend.auth.createUser({ email: "ada@example.com", password: "correct horse battery" });
 * const { token } = await backend.auth.createSession(ada.id);
 * const identity = await backend.auth.verifyToken(token); // { user: { id, role, email, ... }, session }
 * ```
 */
export interface AuthApi<U extends AnyCollection = DefaultUsers> {
  /**
   * Creates an account (through the `users` collection, as the system) with its password, or
   * with `passwordHash`, the hash of its password imported from another system.
   */
  createUser(input: CreateUserInput<U>): Promise<Infer<U>>;
  /** Checks an e-mail and password (with the rate limits); the account's principal, or an `ApiError`. */
  signIn(email: string, password: string, client?: { address?: string; userAgent?: string }): Promise<{ user: Principal; token: string; session: SessionInfo }>;
  /** Opens a session for a user: its token is returned once and stored only as a hash. `404 NOT_FOUND` for an unknown user. */
  createSession(userId: string, client?: { address?: string; userAgent?: string }): Promise<{ token: string; session: SessionInfo }>;
  /** Who a session token or API key belongs to; `null` when unknown, expired or revoked. */
  verifyToken(token: string): Promise<Identity | null>;
  /**
   * The caller of a host's own route, by the rules of the backend's routes: a token in
   * `Authorization` with one of `sessions.schemes` (a session token or an API key), else the
   * session cookie. `null` without a credential, or for one that is unknown, expired or revoked.
   * A write (any method but GET, HEAD, OPTIONS) that carries only the session cookie from
   * another origin (neither this one nor one of `trustedOrigins`) is refused with
   * `403 CROSS_ORIGIN_REQUEST`, as the backend's routes refuse it. Anything but a request or
   * headers is a `TypeError`.
   *
   * @example
   * ```ts
   * app.get("/dashboard", async (req, res) => {
   *   const caller = await backend.auth.session(req); // Express: req; Hono: c.req.raw
   *   if (caller === null) return res.redirect("/sign-in");
   *   if (caller.setCookie !== undefined) res.append("Set-Cookie", caller.setCookie);
   *   const notes = await backend.as(caller).data.notes.list();
   *   res.json(notes);
   * });
   * ```
   */
  session(request: SessionRequest, options?: SessionRequestOptions): Promise<RequestCaller | null>;
  /** Ends the session of a token. */
  revokeSession(token: string): Promise<void>;
  /** Ends every session of a user (but `except`, a session id); returns how many ended. */
  revokeSessions(userId: string, options?: { except?: string }): Promise<number>;
  /** Sets a user's password, and ends its sessions. `404 NOT_FOUND` for an unknown user. */
  setPassword(userId: string, password: string): Promise<void>;
  /** Sends a user the link that verifies its e-mail address. */
  sendVerificationEmail(userId: string): Promise<void>;
  /** API keys for server-to-server callers. */
  readonly apiKeys: {
    /** Creates a key; `key` is shown this once and stored only as a hash. */
    create(input: CreateApiKeyInput): Promise<{ key: string; apiKey: ApiKeyInfo }>;
    /** The keys of a user, or (with `null`) of the system. */
    list(userId: string | null): Promise<ApiKeyInfo[]>;
    /** Revokes a key; `false` when there was none with this id. */
    revoke(id: string): Promise<boolean>;
  };
}
