/**
 * @internal One-use tokens sent by e-mail (password reset, e-mail verification): stored only as
 * a hash, taken once, expiring.
 * @module
 */
import type { Kysely } from "kysely";
import { apiError, type ApiError } from "../errors/api-error.js";
import type { BuiltInAuthOptions } from "./options.js";
import { durationMs } from "./settings.js";
import type { AuthDB, AuthStore } from "./store.js";
import { Sweeper } from "./sweep.js";
import { hashToken, randomToken } from "./tokens.js";

/** What a one-use token is for. */
export type TokenPurpose = AuthDB["cimiento_tokens"]["purpose"];

/** What a token holds: its account, or a pending sign-up's address and fields. */
export interface TokenValues {
  readonly user: string | null;
  readonly email: string | null;
  readonly payload: string | null;
  readonly purpose: TokenPurpose;
}

/** A token refused: unknown, used, expired, or for another purpose. */
export const invalidToken = (): ApiError => apiError("INVALID_TOKEN", "This token is invalid, was already used, or has expired.");

/** The tokens of `cimiento_tokens`. */
export class OneUseTokens {
  readonly #store: AuthStore;
  readonly #ttl: Readonly<Record<TokenPurpose, number>>;
  readonly #sweeper = new Sweeper("cimiento_tokens");

  constructor(store: AuthStore, ttl: BuiltInAuthOptions["tokenTtl"] = {}) {
    this.#store = store;
    this.#ttl = {
      "verify-email": durationMs(ttl.verifyEmail ?? "3d", "auth.tokenTtl.verifyEmail"),
      "reset-password": durationMs(ttl.resetPassword ?? "1h", "auth.tokenTtl.resetPassword"),
    };
  }

  /** Stores a new token with `db`; returns it (the only time it is seen). */
  async issue(db: Kysely<AuthDB>, values: TokenValues): Promise<string> {
    const token = randomToken();
    const now = this.#store.now();
    await db
      .insertInto("cimiento_tokens")
      .values({ ...this.#store.stamps(), ...values, tokenHash: hashToken(token), expiresAt: now + this.#ttl[values.purpose] })
      .execute();
    // Expired tokens are never taken again: a new one now and then drops a batch of them.
    await this.#sweeper.maybeSweep(db, now);
    return token;
  }

  /** Takes a token with `db`: deletes it and returns what it holds, or throws `INVALID_TOKEN`. */
  async consume(db: Kysely<AuthDB>, token: unknown, purpose: TokenPurpose): Promise<Omit<TokenValues, "purpose">> {
    if (typeof token !== "string" || token.length < 16 || token.length > 256) throw invalidToken();
    const row = await db
      .deleteFrom("cimiento_tokens")
      .where("tokenHash", "=", hashToken(token))
      .where("purpose", "=", purpose)
      .returning(["user", "email", "payload", "expiresAt"])
      .executeTakeFirst();
    if (row === undefined || Number(row.expiresAt) <= this.#store.now()) throw invalidToken();
    return row;
  }

  /** Voids the reset tokens of a user (a reset used one), with `db`. */
  async voidResets(db: Kysely<AuthDB>, userId: string): Promise<void> {
    await db.deleteFrom("cimiento_tokens").where("user", "=", userId).where("purpose", "=", "reset-password").execute();
  }

  /** Voids the pending sign-ups of an address (one of them became its account), with `db`. */
  async voidSignUps(db: Kysely<AuthDB>, email: string): Promise<void> {
    await db.deleteFrom("cimiento_tokens").where("email", "=", email).where("user", "is", null).execute();
  }
}
