/**
 * @internal The options of built-in auth, checked and resolved once, when the backend is made.
 * @module
 */
import ms from "ms";
import type { BuiltInAuthOptions, Duration, RateLimit } from "./options.js";

/** @internal The settings auth runs with, resolved once. */
export interface AuthSettings {
  readonly ttl: number;
  readonly refreshAfter: number;
  readonly schemes: ReadonlySet<string>;
  readonly cookie: { name: string; domain: string | undefined; path: string; secure: boolean | "auto"; sameSite: "Lax" | "Strict" | "None" } | null;
  readonly requireEmailVerification: boolean;
  readonly signUp: boolean;
  /** Whether a forgotten password can be reset with a mailed link. */
  readonly passwordReset: boolean;
  readonly trustedProxies: readonly string[];
  readonly clientAddress: ((request: Request) => string | undefined) | undefined;
  readonly trustedOrigins: ReadonlySet<string>;
}

/** A limit resolved: at most `max` in each `windowMs`. */
export interface ResolvedRateLimit {
  readonly max: number;
  readonly windowMs: number;
}

/** Milliseconds of a duration; throws on a malformed one. */
export function durationMs(value: Duration, name: string): number {
  const result = typeof value === "number" ? value : ms(value as Parameters<typeof ms>[0]);
  if (typeof result !== "number" || !Number.isFinite(result) || result <= 0) {
    throw new TypeError(`${name}: "${String(value)}" is not a duration (a number of milliseconds, or like "30d", "15m").`);
  }
  return result;
}

/** A rate limit of the options, or `fallback`; throws on a malformed one. */
export function rateLimitOf(value: RateLimit | undefined, fallback: RateLimit, name: string): ResolvedRateLimit {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen.max) || chosen.max < 1) throw new TypeError(`${name}.max must be a positive integer.`);
  return { max: chosen.max, windowMs: durationMs(chosen.window, `${name}.window`) };
}

/** The sessions, cookie, sign-up and client settings of the options; throws on a malformed one. */
export function resolveSettings(options: BuiltInAuthOptions): AuthSettings {
  const password = options.password ?? {};
  const sessions = options.sessions ?? {};
  const cookie = sessions.cookie ?? {};
  const schemes = sessions.schemes ?? ["Bearer"];
  if (schemes.some((scheme) => !/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*$/.test(scheme))) {
    throw new TypeError("auth.sessions.schemes: each scheme is a token such as \"Bearer\" or \"Token\".");
  }
  const sameSite = cookie === false ? "lax" : (cookie.sameSite ?? "lax");
  const ttl = durationMs(sessions.ttl ?? "30d", "auth.sessions.ttl");
  // By default a session is extended at most once a day, and at least twice per ttl: with a
  // fixed "1d", a ttl shorter than a day never slid and was an absolute timeout.
  const refreshAfter = sessions.refreshAfter === undefined ? Math.min(86_400_000, ttl / 2) : durationMs(sessions.refreshAfter, "auth.sessions.refreshAfter");
  if (refreshAfter >= ttl) throw new TypeError("auth.sessions.refreshAfter must be shorter than auth.sessions.ttl, or sessions never slide.");
  return {
    ttl,
    refreshAfter,
    schemes: new Set(schemes.map((scheme) => scheme.toLowerCase())),
    cookie:
      cookie === false
        ? null
        : {
            name: cookie.name ?? "cimiento_session",
            domain: cookie.domain,
            path: cookie.path ?? "/",
            secure: sameSite === "none" ? true : (cookie.secure ?? "auto"),
            sameSite: sameSite === "lax" ? "Lax" : sameSite === "strict" ? "Strict" : "None",
          },
    requireEmailVerification: password.requireEmailVerification ?? true,
    signUp: password.signUp ?? true,
    passwordReset: password.reset ?? true,
    trustedProxies: options.trustedProxies ?? [],
    clientAddress: options.clientAddress,
    trustedOrigins: new Set(options.trustedOrigins ?? []),
  };
}
