/**
 * The options of built-in authentication.
 * @module
 */
import type { Duration } from "../define/auth-api.js";
import type { Principal } from "../define/principal.js";
import type { AuthEmails, Mailer } from "./mail.js";
import type { PasswordHasher } from "./password.js";
import type { RateLimitStore } from "./rate-limit.js";

export type { Duration } from "../define/auth-api.js";

/** The session cookie. */
export interface SessionCookieOptions {
  /** @default "cimiento_session" */
  name?: string;
  /** The cookie's `Domain`; absent: the host that answered only. */
  domain?: string;
  /** @default "/" */
  path?: string;
  /**
   * `Secure` (sent over HTTPS only). `"auto"`: on, except outside production (`NODE_ENV` is not
   * `"production"`) for a request over a plain-HTTP socket from this machine's loopback address
   * that is not one of `trustedProxies`; decided by the socket, never by the `Host` header.
   * Without a socket (`backend.fetch` alone) it is on. Always on with `sameSite: "none"` and for
   * names that start with `__Secure-` or `__Host-` (a `__Host-` cookie takes no `domain` and the
   * path `"/"`).
   * @default "auto"
   */
  secure?: boolean | "auto";
  /** @default "lax" */
  sameSite?: "lax" | "strict" | "none";
}

/** Sessions: how long they last and how clients present them. */
export interface SessionOptions {
  /**
   * How long a session lasts without use. It slides: use extends it (at most once per
   * `refreshAfter`).
   * @default "30d"
   */
  ttl?: Duration;
  /**
   * How often use extends a session; shorter than `ttl`.
   * @default the smaller of "1d" and half of `ttl`
   */
  refreshAfter?: Duration;
  /** The session cookie, or `false` for header-only clients. @default {} */
  cookie?: SessionCookieOptions | false;
  /**
   * The `Authorization` schemes that carry a token, compared case-insensitively: add `"Token"`
   * for clients that send `Authorization: Token <token>`.
   * @default ["Bearer"]
   */
  schemes?: readonly string[];
}

/** E-mail and password accounts. */
export interface PasswordOptions {
  /**
   * Whether sign-up must be confirmed by a link sent to the address before the account exists.
   * On (the default), sign-up takes the address and the user's fields but no password, and
   * answers alike for new and taken addresses, so it cannot be used to learn who has an
   * account; whoever follows the link chooses the password (`POST /auth/verify-email`), so a
   * sign-up sent by someone else never sets it. Off, sign-up takes the password, signs in at
   * once, and answers 409 `EMAIL_TAKEN` for a taken address.
   * @default true
   */
  requireEmailVerification?: boolean;
  /** Whether `POST /auth/sign-up` is open; off, accounts come from `backend.auth.createUser`. @default true */
  signUp?: boolean;
  /**
   * Whether a forgotten password can be reset with a mailed link (`POST
   * /auth/request-password-reset` and `POST /auth/reset-password`). Off, both answer 404, and
   * passwords are set by their owner (`change-password`) or by the host (`backend.auth.setPassword`).
   * @default true
   */
  reset?: boolean;
  /** @default 8 */
  minLength?: number;
  /** @default 128 */
  maxLength?: number;
  /** @default scryptHasher() (N = 2^17, r = 8, p = 1) */
  hasher?: PasswordHasher;
}

/** A limit: at most `max` in each `window`. */
export interface RateLimit {
  max: number;
  window: Duration;
}

/**
 * Rate limits on credential routes. They are on in every environment, unless `rateLimit: false`
 * turns them off.
 */
export interface RateLimitOptions {
  /** Failed sign-ins per account (an e-mail address, known or not). @default { max: 5, window: "15m" } */
  signIn?: RateLimit;
  /** Credential requests (sign-up, sign-in, resets, verification, password change) per client address. @default { max: 30, window: "1m" } */
  perAddress?: RateLimit;
  /**
   * Messages anybody can have mailed to one address (reset links, sign-up links, "account
   * exists" notices); past it they are dropped, and the request is answered as ever.
   * @default { max: 3, window: "1h" }
   */
  perRecipient?: RateLimit;
  /**
   * How `perAddress` counts IPv6 clients: by the network of this many leading bits, since one
   * subscriber commonly holds a whole /64 and can send from any address in it. `128` counts
   * each IPv6 address alone. IPv4 addresses (IPv4-mapped IPv6 ones too) count one by one.
   * @default 64
   */
  ipv6Prefix?: number;
  /** Where counters live. @default the backend's database (table `cimiento_rate_limits`) */
  store?: RateLimitStore;
}

/** Links put in the messages auth sends, built from their token. */
export interface AuthLinks {
  /**
   * The link of a verification message. `signUp` says whether it finishes a sign-up, whose page
   * asks for the new account's password (`POST /auth/verify-email { token, password }`), or
   * confirms the address of an existing account (`{ token }`).
   * @example (token, { signUp }) => `https://app.example.com/${signUp ? "finish-sign-up" : "verify"}?token=${token}`
   */
  verifyEmail?: (token: string, context: { readonly signUp: boolean }) => string;
  /** @example (token) => `https://app.example.com/reset-password?token=${token}` */
  resetPassword?: (token: string) => string;
}

/**
 * Built-in authentication: accounts in the `users` collection, e-mail and password, sessions,
 * API keys, e-mail flows and rate limits. Every option has a safe default.
 *
 * @example
 * ```ts
 * createBackend({
 *   collections: { users, posts },
 *   auth: {
 *     password: {},
 *     sessions: { ttl: "30d", schemes: ["Bearer", "Token"] },
 *     mailer: smtpMailer({ host: "smtp.example.com", from: "no-reply@example.com" }),
 *     links: { resetPassword: (token) => `https://app.example.com/reset?token=${token}` },
 *   },
 * });
 * ```
 */
export interface BuiltInAuthOptions {
  /** E-mail and password accounts. @default {} */
  password?: PasswordOptions;
  /** Sessions. @default {} */
  sessions?: SessionOptions;
  /**
   * Rate limits on credentials, or `false` for none at all (for tests and benchmarks that sign
   * in many times: nothing is counted, nothing is refused with 429). With `false` and
   * `NODE_ENV=production`, the backend logs a warning when it is made.
   * @default the limits of {@link RateLimitOptions}, counted in the database
   */
  rateLimit?: RateLimitOptions | false;
  /**
   * Proxies whose `X-Forwarded-For` is believed, as addresses or CIDR ranges
   * (`["10.0.0.0/8", "::1"]`). None by default: the client address is the socket's, and a
   * client-sent `X-Forwarded-For` counts for nothing. Behind them, the client is the nearest
   * hop that is not a trusted proxy (`ip`, `ip:port` or `[ipv6]:port`); a hop that is no
   * address makes the proxy that wrote it the client. Name only proxies that append their
   * peer to `X-Forwarded-For`.
   * @default []
   */
  trustedProxies?: readonly string[];
  /**
   * The client address of a request, where the server gives no socket (Bun, Deno, workers:
   * from what the platform provides). When given, it decides the address, and
   * `trustedProxies` is not used.
   * @example
   * ```ts
   * clientAddress: (request) => request.headers.get("cf-connecting-ip") ?? undefined
   * ```
   */
  clientAddress?: (request: Request) => string | undefined;
  /**
   * Origins besides the API's own from which a browser may send cookie-authenticated writes
   * (`https://app.example.com`). Other cross-origin writes carrying the session cookie are
   * refused (`CROSS_ORIGIN_REQUEST`).
   * @default []
   */
  trustedOrigins?: readonly string[];
  /**
   * Sends the messages of sign-up (while `password.requireEmailVerification` is on), password
   * reset and `backend.auth.sendVerificationEmail`. Absent: outside production
   * (`NODE_ENV !== "production"`) they are written to the logger; in production, flows that
   * need mail answer 500 and log why, and the backend warns when it is made if sign-up or
   * password reset is open.
   */
  mailer?: Mailer;
  /** Replaces the default messages. */
  emails?: AuthEmails;
  /** Links to put in the messages; absent: the messages carry the bare token. */
  links?: AuthLinks;
  /** How long one-use tokens last. @default { verifyEmail: "3d", resetPassword: "1h" } */
  tokenTtl?: { verifyEmail?: Duration; resetPassword?: Duration };
  /**
   * API keys. `maxPerUser`: how many keys one user may hold; past it, making another (`POST
   * /auth/api-keys`, `backend.auth.apiKeys.create`) answers `400 LIMIT_EXCEEDED` until one is
   * revoked, and `GET /auth/api-keys` lists at most this many.
   * @default { maxPerUser: 100 }
   */
  apiKeys?: { maxPerUser?: number };
  /** Never with built-in auth: `resolve` replaces it. */
  resolve?: never;
}

/** Host-provided auth: the backend asks `resolve` who calls. */
export interface HostAuthOptions {
  /**
   * The caller of a request: a principal, or `null` for anonymous. Throw an `ApiError` (e.g.
   * 401) to refuse the request.
   * @example
   * ```ts
   * auth: { resolve: async (request) => verifyMyToken(request.headers.get("authorization")) }
   * ```
   */
  resolve(request: Request): Principal | null | Promise<Principal | null>;
}

/** How the backend learns who calls: built-in auth, or the host's `resolve`. */
export type AuthOptions = BuiltInAuthOptions | HostAuthOptions;
