/**
 * @internal The password of each account: the rule a new one follows, its hash (in
 * `cimiento_credentials`), and the check of a password against it. A hash imported from
 * another system is stored as `imported:<hash>` and checked by its own algorithm until the
 * first sign-in replaces it.
 * @module
 */
import type { Kysely } from "kysely";
import { z } from "zod";
import { IMPORTED_PREFIX, parseImportedHash } from "./imported-hashes.js";
import type { PasswordOptions } from "./options.js";
import { scryptHasher, type PasswordHasher } from "./password.js";
import type { AuthDB, AuthStore } from "./store.js";
import { randomToken } from "./tokens.js";

/** The length a password is counted in: code points, as people count characters. */
const lengthOf = (password: string) => [...password].length;

/** Passwords: their rule, hashing, and where their hashes live. */
export class Credentials {
  readonly #store: AuthStore;
  readonly #hasher: PasswordHasher;
  /** The shortest and longest new password, in characters. */
  readonly minLength: number;
  readonly maxLength: number;
  #dummyHash: Promise<string> | undefined;

  constructor(store: AuthStore, options: PasswordOptions = {}) {
    this.#store = store;
    this.#hasher = options.hasher ?? scryptHasher();
    this.minLength = options.minLength ?? 8;
    this.maxLength = options.maxLength ?? 128;
    if (!Number.isInteger(this.minLength) || this.minLength < 1 || this.maxLength < this.minLength || this.maxLength > 1024) {
      throw new TypeError("auth.password: minLength must be at least 1 and maxLength from minLength to 1024.");
    }
  }

  /** A new password, as a body member: a string of `minLength` to `maxLength` characters. */
  newPassword(): z.ZodType<string> {
    const { minLength, maxLength } = this;
    return z.string({ error: "A password is a string" }).check((ctx) => {
      const length = lengthOf(ctx.value);
      if (length < minLength) {
        ctx.issues.push({ code: "too_small", origin: "string", minimum: minLength, inclusive: true, input: ctx.value, message: `A password has at least ${minLength} characters` });
      } else if (length > maxLength) {
        ctx.issues.push({ code: "too_big", origin: "string", maximum: maxLength, inclusive: true, input: ctx.value, message: `A password has at most ${maxLength} characters` });
      }
    });
  }

  /**
   * A password to check, as a body member: any non-empty string not much longer than a new one
   * may be (a password set under an older, longer rule still signs in).
   */
  givenPassword(): z.ZodType<string> {
    const longest = 4 * this.maxLength;
    const message = "A password is expected";
    return z.string({ error: message }).check((ctx) => {
      if (ctx.value.length === 0 || ctx.value.length > longest) ctx.issues.push({ code: "invalid_type", expected: "string", input: ctx.value, message });
    });
  }

  hash(password: string): Promise<string> {
    return this.#hasher.hash(password);
  }

  /**
   * A hash made by another system, as a body member: one {@link parseImportedHash} recognises
   * and bounds, as it is stored (`imported:<hash>`), or an issue saying why not.
   */
  importedHash(): z.ZodType<string, string> {
    return z.string({ error: "A password hash is a string" }).transform((hash, ctx) => {
      const imported = parseImportedHash(hash);
      if (typeof imported === "string") {
        ctx.issues.push({ code: "custom", input: undefined, message: imported });
        return z.NEVER;
      }
      // A library that is not installed fails the import now, not the user's sign-in later.
      imported.prepare();
      return `${IMPORTED_PREFIX}${hash}`;
    });
  }

  /** Whether `password` matches `hash`; unknown accounts are checked against a stand-in hash. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (hash?.startsWith(IMPORTED_PREFIX)) {
      const imported = parseImportedHash(hash.slice(IMPORTED_PREFIX.length));
      return typeof imported !== "string" && (await imported.verify(password));
    }
    const ok = await this.#hasher.verify(hash ?? (await this.#dummy()), password);
    return ok && hash != null;
  }

  /**
   * The hash to store in place of `hash`, which `password` matched: the current hasher's, for
   * an imported hash or one made with older parameters; `undefined` when `hash` is current.
   */
  async replacementOf(hash: string, password: string): Promise<string | undefined> {
    return hash.startsWith(IMPORTED_PREFIX) || this.#hasher.needsRehash(hash) ? this.#hasher.hash(password) : undefined;
  }

  /**
   * Replaces a user's hash with `replacement`, with `db` (the transaction of the sign-in), if it
   * is still `hash`: a password set meanwhile is kept.
   */
  async replace(db: Kysely<AuthDB>, userId: string, hash: string, replacement: string): Promise<void> {
    await db
      .updateTable("cimiento_credentials")
      .set({ passwordHash: replacement, updatedAt: this.#store.stamp() })
      .where("user", "=", userId)
      .where("passwordHash", "=", hash)
      .execute();
  }

  /** The hash of a user's password; `undefined` for an account without one. */
  async hashOf(userId: string): Promise<string | undefined> {
    const row = await this.#store.db.selectFrom("cimiento_credentials").select("passwordHash").where("user", "=", userId).executeTakeFirst();
    return row?.passwordHash;
  }

  /** Sets the hash of a user's password, with `db` (a transaction, say). */
  async store(db: Kysely<AuthDB>, userId: string, hash: string): Promise<void> {
    const updated = await db
      .updateTable("cimiento_credentials")
      .set({ passwordHash: hash, updatedAt: this.#store.stamp() })
      .where("user", "=", userId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await db.insertInto("cimiento_credentials").values({ ...this.#store.stamps(), user: userId, passwordHash: hash }).execute();
    }
  }

  /** A hash to check unknown accounts' passwords against, so they take as long as known ones. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#hasher.hash(randomToken());
    return this.#dummyHash;
  }
}
