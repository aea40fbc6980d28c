/**
 * @internal The limits on credential requests: tries per account, requests per client address.
 * @module
 */
import { newId } from "../support/ids.js";
import { apiError, type ApiError } from "../errors/api-error.js";
import type { Logger } from "../define/logger.js";
import { addressGrouping, clientAddressOf } from "./ip-address.js";
import type { RateLimitOptions } from "./options.js";
import { databaseRateLimitStore, type RateLimitStore } from "./rate-limit.js";
import { rateLimitOf, type ResolvedRateLimit } from "./settings.js";
import type { AuthStore } from "./store.js";

/** A refused credential request: 429 with the seconds to wait. */
export function rateLimited(retryAfter: number): ApiError {
  return apiError("RATE_LIMITED", `Too many attempts; try again in ${retryAfter} seconds.`, { retryAfter });
}

/** The limits in force: where they count, and what each allows. */
interface Counting {
  readonly store: RateLimitStore;
  readonly signIn: ResolvedRateLimit;
  readonly perAddress: ResolvedRateLimit;
  readonly perRecipient: ResolvedRateLimit;
  readonly addressGroup: (address: string) => string;
}

/**
 * Counts credential requests in the rate-limit store, and refuses those past a limit. With
 * `rateLimit: false` it counts and refuses nothing.
 */
export class CredentialLimits {
  readonly #clock: AuthStore["clock"];
  /** `null` with `rateLimit: false`. */
  readonly #counting: Counting | null;

  constructor(store: AuthStore, rateLimit: RateLimitOptions | false | undefined, logger: Logger) {
    this.#clock = store.clock;
    if (rateLimit === false) {
      this.#counting = null;
      if (process.env["NODE_ENV"] === "production") {
        (logger.warn ?? logger.error).call(
          logger,
          'auth.rateLimit is false and NODE_ENV is "production": sign-in, sign-up, password reset and every other credential ' +
            "request are not rate-limited, so passwords can be guessed without limit. Remove rateLimit: false unless something " +
            "in front of this backend limits them.",
        );
      }
      return;
    }
    const options = rateLimit ?? {};
    this.#counting = {
      signIn: rateLimitOf(options.signIn, { max: 5, window: "15m" }, "auth.rateLimit.signIn"),
      perAddress: rateLimitOf(options.perAddress, { max: 30, window: "1m" }, "auth.rateLimit.perAddress"),
      perRecipient: rateLimitOf(options.perRecipient, { max: 3, window: "1h" }, "auth.rateLimit.perRecipient"),
      addressGroup: addressGrouping(options.ipv6Prefix ?? 64, "auth.rateLimit.ipv6Prefix"),
      store: options.store ?? databaseRateLimitStore(store.db, newId, () => store.stamp()),
    };
  }

  /**
   * Counts one credential request from `address` (an IPv6 one with the rest of its prefix);
   * 429 past the limit. Unknown addresses, and text that is not an IP address, are not counted.
   */
  async countAddress(address: string | undefined): Promise<void> {
    const canonical = clientAddressOf(address);
    if (canonical === undefined || this.#counting === null) return;
    await this.#hit(this.#counting, `address:${this.#counting.addressGroup(canonical)}`, this.#counting.perAddress);
  }

  /**
   * Takes one of the account's tries before a password is checked, or refuses with 429 when the
   * window has none left. Taken atomically by the store's `hit`, so concurrent guesses cannot all
   * pass a check made before any of them is counted; a right password clears the window.
   */
  async takeTry(email: string): Promise<void> {
    if (this.#counting === null) return;
    await this.#hit(this.#counting, `sign-in:${email}`, this.#counting.signIn);
  }

  /**
   * Counts one message that anybody could ask to be mailed to `email` (a reset link, a sign-up's
   * link, an "account exists" notice); `false` past the limit: the message is dropped, and the
   * request is answered as ever, so the answer tells nothing.
   */
  async mayMail(email: string): Promise<boolean> {
    if (this.#counting === null) return true;
    const hit = await this.#counting.store.hit(`mail:${email}`, this.#counting.perRecipient.windowMs, this.#clock.now());
    return hit.count <= this.#counting.perRecipient.max;
  }

  /** After the right password: the account's window is cleared, so only failures count. */
  async forgetTries(email: string): Promise<void> {
    await this.#counting?.store.reset(`sign-in:${email}`);
  }

  async #hit(counting: Counting, key: string, limit: ResolvedRateLimit): Promise<void> {
    const now = this.#clock.now();
    const hit = await counting.store.hit(key, limit.windowMs, now);
    if (hit.count > limit.max) throw rateLimited(Math.max(1, Math.ceil((hit.resetAt - now) / 1000)));
  }
}
