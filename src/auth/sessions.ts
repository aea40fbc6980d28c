/**
 * @internal Sessions: opened with a random token stored only as its hash, found by it once per
 * request, extended while in use, ended one by one or all at once.
 * @module
 */
import type { CompiledQuery, Kysely } from "kysely";
import type { SessionInfo } from "../define/auth-api.js";
import type { Principal } from "../define/principal.js";
import type { CollectionModel } from "../model/model.js";
import { clientAddressOf } from "./ip-address.js";
import type { AuthSettings } from "./settings.js";
import { Sweeper } from "./sweep.js";
import type { AuthDB, AuthStore } from "./store.js";
import { hashToken, randomToken } from "./tokens.js";

export type { SessionInfo } from "../define/auth-api.js";

/** The client a session is opened for. */
export interface Client {
  address?: string;
  userAgent?: string;
}

/** A session found by its token: its user (the record as the system reads it, computed fields too) and the session. */
export interface FoundSession {
  readonly user: Principal;
  readonly session: SessionInfo;
  /** Whether this use extended it (so the cookie is sent again with the new expiry). */
  readonly refreshed: boolean;
}

type Row = Record<string, unknown>;

/** The sessions of `cimiento_sessions`. */
export class Sessions {
  readonly #store: AuthStore;
  readonly #settings: Pick<AuthSettings, "ttl" | "refreshAfter">;
  /** The principal of a user, read as sign-in and API keys read it; `null` when it no longer exists. */
  readonly #principalOf: (userId: string) => Promise<Principal | null>;
  /**
   * The `users` collection, when its records are their columns (no computed field): then the
   * session and its user are read in one statement, and the user decoded as the data layer would.
   */
  readonly #joinedUsers: CollectionModel | undefined;
  #lookup: CompiledQuery | undefined;
  readonly #sweeper = new Sweeper("cimiento_sessions");

  constructor(
    store: AuthStore,
    settings: Pick<AuthSettings, "ttl" | "refreshAfter">,
    users: CollectionModel,
    principalOf: (userId: string) => Promise<Principal | null>,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#principalOf = principalOf;
    this.#joinedUsers = users.computed.length === 0 ? users : undefined;
  }

  /** Opens a session for a user, with `db` (a transaction, say): its token is returned once and stored only as a hash. */
  async create(userId: string, client: Client = {}, db: Kysely<AuthDB> = this.#store.db): Promise<{ token: string; session: SessionInfo }> {
    const token = randomToken();
    const now = this.#store.now();
    const values = {
      ...this.#store.stamps(),
      tokenHash: hashToken(token),
      user: userId,
      expiresAt: now + this.#settings.ttl,
      refreshedAt: now,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      address: clientAddressOf(client.address) ?? null,
    };
    await db.insertInto("cimiento_sessions").values(values).execute();
    // Expired sessions are never found again: a sign-in now and then drops a batch of them.
    await this.#sweeper.maybeSweep(db, now);
    return { token, session: this.#info(values) };
  }

  /** The session of a token, extended when due; `null` when unknown or expired. */
  async find(token: string): Promise<FoundSession | null> {
    if (token.length < 16 || token.length > 256) return null;
    const { db } = this.#store;
    const now = this.#store.now();
    // The session, compiled once, with its user's columns when they are the whole record (one
    // statement per request); else the user is read as sign-in and API keys read it.
    const joined = this.#joinedUsers;
    this.#lookup ??= (joined === undefined ? db.selectFrom("cimiento_sessions") : db.selectFrom("cimiento_sessions").innerJoin("users", "users.id", "cimiento_sessions.user").selectAll("users"))
      .select([
        "cimiento_sessions.user as sessionUser",
        "cimiento_sessions.id as sessionId",
        "cimiento_sessions.createdAt as sessionCreatedAt",
        "cimiento_sessions.expiresAt as sessionExpiresAt",
        "cimiento_sessions.refreshedAt as sessionRefreshedAt",
      ])
      .where("cimiento_sessions.tokenHash", "=", "")
      .compile();
    const { rows } = await this.#store.execute<Row>({ ...this.#lookup, parameters: [hashToken(token)] });
    const row = rows[0];
    if (row === undefined || Number(row["sessionExpiresAt"]) <= now) return null;
    const user = joined === undefined ? await this.#principalOf(row["sessionUser"] as string) : this.#userRecord(joined, row);
    if (user === null) return null;
    const sessionId = row["sessionId"] as string;
    let expiresAt = Number(row["sessionExpiresAt"]);
    let refreshed = false;
    if (now - Number(row["sessionRefreshedAt"]) >= this.#settings.refreshAfter) {
      expiresAt = now + this.#settings.ttl;
      refreshed = true;
      await db.updateTable("cimiento_sessions").set({ expiresAt, refreshedAt: now }).where("id", "=", sessionId).execute();
    }
    return { user, session: this.#info({ id: sessionId, user: user.id, createdAt: row["sessionCreatedAt"], expiresAt }), refreshed };
  }

  /** Ends the session of a token. */
  async revoke(token: string): Promise<void> {
    await this.#store.db.deleteFrom("cimiento_sessions").where("tokenHash", "=", hashToken(token)).execute();
  }

  /** Ends every session of a user (but `except`, a session id), with `db`; returns how many ended. */
  async revokeAll(userId: string, options: { except?: string } = {}, db: Kysely<AuthDB> = this.#store.db): Promise<number> {
    let query = db.deleteFrom("cimiento_sessions").where("user", "=", userId);
    if (options.except !== undefined) query = query.where("id", "!=", options.except);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A user record from a row holding every column of `users`, decoded as the data layer does. */
  #userRecord(users: CollectionModel, row: Row): Principal {
    const { runtime } = this.#store;
    const record: Row = {};
    for (const column of users.columns) {
      const value = row[column.name];
      const decoder = runtime.decoder(column.kind);
      record[column.name] = decoder === undefined ? value : decoder(value);
    }
    return record as unknown as Principal;
  }

  #info(row: { id: string; user: string; createdAt: unknown; expiresAt: number }): SessionInfo {
    return { id: row.id, userId: row.user, createdAt: this.#store.date(row.createdAt), expiresAt: new Date(Number(row.expiresAt)) };
  }
}
