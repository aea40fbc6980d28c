/**
 * @internal API keys for server-to-server callers: made with their limits, stored only as a
 * hash, found by the key, listed and revoked.
 * @module
 */
import type { Selectable } from "kysely";
import { z } from "zod";
import type { Principal } from "../define/principal.js";
import { apiError } from "../errors/api-error.js";
import { NUL, NUL_REFUSED_ISSUE } from "../model/text.js";
import { checkBody } from "./body.js";
import type { ApiKeyInfo, CreateApiKeyInput, Duration } from "../define/auth-api.js";
import { durationMs } from "./settings.js";
import type { AuthDB, AuthStore } from "./store.js";
import { hashToken, randomToken } from "./tokens.js";

export type { ApiKeyInfo, CreateApiKeyInput } from "../define/auth-api.js";

/** The longest `expiresIn` of an API key: 100 years (the expiry must stay a date every database stores). */
const LONGEST_API_KEY_LIFETIME = 100 * 365.25 * 86_400_000;

const names = z
  .unknown()
  .check((ctx) => {
    if (!Array.isArray(ctx.value) || ctx.value.some((name) => typeof name !== "string")) {
      ctx.issues.push({ code: "invalid_type", expected: "array", input: ctx.value, message: "A list of names is expected" });
    }
  })
  .transform((value) => value as readonly string[])
  .optional();

/** What describes a key, whoever makes it: its name, its limits, its lifetime in milliseconds. */
const keyFields = {
  name: z
    .unknown()
    .check((ctx) => {
      const name = ctx.value;
      if (typeof name !== "string" || name.trim().length === 0 || name.length > 200) {
        ctx.issues.push({ code: "invalid_type", expected: "string", input: name, message: "A name of 1 to 200 characters is expected" });
      } else if (name.includes(NUL)) {
        ctx.issues.push({ code: "invalid_format", format: "regex", input: name, message: NUL_REFUSED_ISSUE });
      }
    })
    .transform((name) => (name as string).trim()),
  collections: names,
  actions: names,
  expiresIn: z
    .unknown()
    .transform((value, ctx) => {
      let lifetime: number | undefined;
      try {
        lifetime = durationMs(value as Duration, "expiresIn");
      } catch {
        // Refused below with the same issue as a lifetime past the longest.
      }
      if (lifetime === undefined || lifetime > LONGEST_API_KEY_LIFETIME) {
        const message = 'A duration of at most 100 years is expected: milliseconds, or like "90d"';
        ctx.issues.push({ code: "invalid_format", format: "duration", input: typeof value === "string" ? value : undefined, message });
        return z.NEVER;
      }
      return lifetime;
    })
    .optional(),
};

/** A key a caller makes for itself (`POST /auth/api-keys`): nothing but these fields. */
export const apiKeyBody = z.strictObject(keyFields);

/** A key made in-process (`backend.auth.apiKeys.create`), which also names its owner or role. */
const apiKeyInput = z.object(keyFields);

/** What a key is made of, checked. */
export type ApiKeyFields = z.output<typeof apiKeyBody>;

type KeyRow = Selectable<AuthDB["cimiento_api_keys"]>;

function parseList(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

/** The keys of `cimiento_api_keys`. */
export class ApiKeys {
  readonly #store: AuthStore;
  /** The principal of a user, or `null` when it no longer exists. */
  readonly #principalOf: (userId: string) => Promise<Principal | null>;

  /** How many keys one user may hold. */
  readonly maxPerUser: number;

  constructor(store: AuthStore, principalOf: (userId: string) => Promise<Principal | null>, options: { maxPerUser?: number } = {}) {
    this.#store = store;
    this.#principalOf = principalOf;
    const max = options.maxPerUser ?? 100;
    if (!Number.isInteger(max) || max < 1) throw new TypeError("auth.apiKeys.maxPerUser must be a positive integer.");
    this.maxPerUser = max;
  }

  /** Who a key belongs to (and the key); `null` when unknown, expired, or its owner is gone. */
  async find(key: string): Promise<{ user: Principal; apiKey: ApiKeyInfo } | null> {
    if (key.length > 256) return null;
    const { db } = this.#store;
    const row = await db.selectFrom("cimiento_api_keys").selectAll().where("keyHash", "=", hashToken(key)).executeTakeFirst();
    const now = this.#store.now();
    if (row === undefined || (row.expiresAt !== null && Number(row.expiresAt) <= now)) return null;
    // Written at most once a minute: a key used by every request would otherwise write on each.
    if (row.lastUsedAt === null || now - Number(row.lastUsedAt) > 60_000) {
      await db.updateTable("cimiento_api_keys").set({ lastUsedAt: now }).where("id", "=", row.id).execute();
      row.lastUsedAt = now;
    }
    const apiKey = this.#info(row);
    if (row.user === null) return { user: { id: row.id, role: row.role ?? "system" } as Principal, apiKey };
    const user = await this.#principalOf(row.user);
    return user === null ? null : { user, apiKey };
  }

  /** Makes a key from untrusted input (422 for a malformed one); `key` is shown this once. */
  async create(input: CreateApiKeyInput): Promise<{ key: string; apiKey: ApiKeyInfo }> {
    const fields = checkBody(apiKeyInput, "Invalid API key", input);
    return this.make(fields, input.userId === undefined ? { role: input.role ?? "system" } : { userId: input.userId });
  }

  /** Makes a key of checked fields, for a user (404 when there is none) or with a role of the system. */
  async make(fields: ApiKeyFields, owner: { userId: string } | { role: string }): Promise<{ key: string; apiKey: ApiKeyInfo }> {
    const { db } = this.#store;
    const userId = "userId" in owner ? owner.userId : null;
    if (userId !== null) {
      const found = await db.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
      if (found === undefined) throw apiError("NOT_FOUND", `No users record with id "${userId}".`);
      const { count } = await db
        .selectFrom("cimiento_api_keys")
        .select((eb) => eb.fn.countAll().as("count"))
        .where("user", "=", userId)
        .executeTakeFirstOrThrow();
      if (Number(count) >= this.maxPerUser) {
        throw apiError("LIMIT_EXCEEDED", `A user holds at most ${this.maxPerUser} API keys: revoke one to make another (auth.apiKeys.maxPerUser).`, {
          limit: "apiKeys.maxPerUser",
          max: this.maxPerUser,
        });
      }
    }
    const key = randomToken("ck_");
    const row = {
      ...this.#store.stamps(),
      keyHash: hashToken(key),
      name: fields.name,
      start: key.slice(0, 8),
      user: userId,
      role: "role" in owner ? owner.role : null,
      collections: fields.collections === undefined ? null : JSON.stringify(fields.collections),
      actions: fields.actions === undefined ? null : JSON.stringify(fields.actions),
      expiresAt: fields.expiresIn === undefined ? null : this.#store.now() + fields.expiresIn,
      lastUsedAt: null,
    };
    await db.insertInto("cimiento_api_keys").values(row).execute();
    return { key, apiKey: this.#info(row) };
  }

  /** The keys of a user, or (with `null`) of the system; at most `limit` of them, oldest first. */
  async list(userId: string | null, limit?: number): Promise<ApiKeyInfo[]> {
    let query = this.#store.db
      .selectFrom("cimiento_api_keys")
      .selectAll()
      .where("user", userId === null ? "is" : "=", userId)
      .orderBy("id");
    if (limit !== undefined) query = query.limit(limit);
    const rows = await query.execute();
    return rows.map((row) => this.#info(row));
  }

  /** Revokes a key of a user, in one statement; `false` when the user has none with this id (another's key included). */
  async revokeOwn(id: string, userId: string): Promise<boolean> {
    const result = await this.#store.db.deleteFrom("cimiento_api_keys").where("id", "=", id).where("user", "=", userId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Revokes a key; `false` when there was none with this id. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.#store.db.deleteFrom("cimiento_api_keys").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  #info(row: Omit<KeyRow, "createdAt"> & { createdAt: unknown }): ApiKeyInfo {
    return {
      id: row.id,
      name: row.name,
      start: row.start,
      userId: row.user,
      role: row.user === null ? row.role : null,
      collections: parseList(row.collections),
      actions: parseList(row.actions),
      createdAt: this.#store.date(row.createdAt),
      expiresAt: row.expiresAt === null ? null : new Date(Number(row.expiresAt)),
      lastUsedAt: row.lastUsedAt === null ? null : new Date(Number(row.lastUsedAt)),
    };
  }
}
