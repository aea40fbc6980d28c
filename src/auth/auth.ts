/**
 * Built-in authentication: accounts, passwords, sessions, API keys, one-use tokens, limits.
 * @module
 */
import type { CompiledQuery, Kysely } from "kysely";
import ms from "ms";
import { v7 as uuidv7 } from "uuid";
import { fieldAccess } from "../access/caller-access.js";
import { writeIssues } from "../access/field-writes.js";
import type { Principal } from "../access/principal.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import { apiError, type ApiError } from "../errors/api-error.js";
import type { Logger } from "../errors/logger.js";
import { issuesOf, validationError } from "../errors/validation.js";
import type { FieldIssue } from "../errors/api-error.js";
import type { CollectionModel } from "../schema/model.js";
import { defaultEmails, logMailer, type Mailer, type MailMessage } from "./mail.js";
import type { BuiltInAuthOptions, Duration, RateLimit } from "./options.js";
import { scryptHasher, type PasswordHasher } from "./password.js";
import { addressGrouping } from "./ip-address.js";
import { databaseRateLimitStore, type RateLimitStore } from "./rate-limit.js";
import { hashToken, randomToken } from "./tokens.js";
import { normalizeEmail, type DefaultUsers } from "./users.js";
import type { AnyCollection } from "../schema/collection.js";
import type { CreateInput, Infer } from "../schema/types.js";
import { NUL, NUL_REFUSED_ISSUE } from "../schema/text.js";

type Row = Record<string, unknown>;

interface Stamped {
  id: string;
  createdAt: unknown;
  updatedAt: unknown;
}

/** @internal The tables auth reads and writes with Kysely. */
interface AuthDB {
  users: Stamped & { email: string; role: string; emailVerified: unknown };
  cimiento_credentials: Stamped & { user: string; passwordHash: string };
  cimiento_sessions: Stamped & {
    tokenHash: string;
    user: string;
    expiresAt: number;
    refreshedAt: number;
    userAgent: string | null;
    address: string | null;
  };
  cimiento_tokens: Stamped & {
    tokenHash: string;
    user: string | null;
    email: string | null;
    payload: string | null;
    purpose: "reset-password" | "verify-email";
    expiresAt: number;
  };
  cimiento_api_keys: Stamped & {
    keyHash: string;
    name: string;
    start: string;
    user: string | null;
    role: string | null;
    collections: string | null;
    actions: string | null;
    expiresAt: number | null;
    lastUsedAt: number | null;
  };
}

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
 * What `backend.auth.createUser` takes: the fields of the `users` collection as the system
 * writes them (so `role` and `emailVerified` too), and a password. Without a password, the
 * account signs in only after a password reset.
 */
export type CreateUserInput<U extends AnyCollection = DefaultUsers> = CreateInput<U, "system"> & { password?: string };

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
  /** Creates an account (through the `users` collection, as the system) with its password. */
  createUser(input: CreateUserInput<U>): Promise<Infer<U>>;
  /** Checks an e-mail and password (with the rate limits); the account's principal, or an `ApiError`. */
  signIn(email: string, password: string, client?: { address?: string; userAgent?: string }): Promise<{ user: Principal; token: string; session: SessionInfo }>;
  /** Opens a session for a user: its token is returned once and stored only as a hash. */
  createSession(userId: string, client?: { address?: string; userAgent?: string }): Promise<{ token: string; session: SessionInfo }>;
  /** Who a session token or API key belongs to; `null` when unknown, expired or revoked. */
  verifyToken(token: string): Promise<Identity | null>;
  /** Ends the session of a token. */
  revokeSession(token: string): Promise<void>;
  /** Ends every session of a user (but `except`, a session id); returns how many ended. */
  revokeSessions(userId: string, options?: { except?: string }): Promise<number>;
  /** Sets a user's password, and ends its sessions. */
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

/** @internal What auth needs from its backend. */
export interface AuthDeps {
  readonly runtime: DialectRuntime;
  readonly logger: Logger;
  readonly users: CollectionModel;
  /**
   * Runs `fn` in a system transaction: its Kysely, and user creation through the data layer
   * (validation, defaults, hooks) in the same transaction.
   */
  transaction<T>(fn: (tx: { db: Kysely<unknown>; createUser(data: Row): Promise<Row> }) => Promise<T>): Promise<T>;
  /** Reads a user record as the system (every field), or null. */
  readUser(id: string): Promise<Row | null>;
}

/** The longest `expiresIn` of an API key: 100 years (the expiry must stay a date every database stores). */
const LONGEST_API_KEY_LIFETIME = 100 * 365.25 * 86_400_000;

/** A refused credential request: 429 with the seconds to wait. */
export function rateLimited(retryAfter: number): ApiError {
  return apiError("RATE_LIMITED", `Too many attempts; try again in ${retryAfter} seconds.`, { retryAfter });
}

const invalidCredentials = () => apiError("INVALID_CREDENTIALS", "The e-mail address or the password is wrong.");
const invalidToken = () => apiError("INVALID_TOKEN", "This token is invalid, was already used, or has expired.");

const PASSWORD_AT_SIGN_UP: FieldIssue = {
  path: ["password"],
  code: "unrecognized_keys",
  message: "No password at sign-up: it is chosen when following the link mailed to the address (POST /auth/verify-email)",
};
const PASSWORD_TO_CHOOSE: FieldIssue = { path: ["password"], code: "invalid_type", message: "Choose a password to finish signing up" };
const PASSWORD_OF_ACCOUNT: FieldIssue = {
  path: ["password"],
  code: "unrecognized_keys",
  message: "This link confirms the address of an existing account and sets no password",
};

/** Milliseconds of a duration; throws on a malformed one. */
export function durationMs(value: Duration, name: string): number {
  const result = typeof value === "number" ? value : ms(value as Parameters<typeof ms>[0]);
  if (typeof result !== "number" || !Number.isFinite(result) || result <= 0) {
    throw new TypeError(`${name}: "${String(value)}" is not a duration (a number of milliseconds, or like "30d", "15m").`);
  }
  return result;
}

function limit(value: RateLimit | undefined, fallback: RateLimit, name: string): { max: number; windowMs: number } {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen.max) || chosen.max < 1) throw new TypeError(`${name}.max must be a positive integer.`);
  return { max: chosen.max, windowMs: durationMs(chosen.window, `${name}.window`) };
}

function parseList(text: string | null): string[] | null {
  return text === null ? null : (JSON.parse(text) as string[]);
}

/** @internal The settings auth runs with, resolved once. */
export interface AuthSettings {
  readonly ttl: number;
  readonly refreshAfter: number;
  readonly schemes: ReadonlySet<string>;
  readonly cookie: { name: string; domain: string | undefined; path: string; secure: boolean | "auto"; sameSite: "Lax" | "Strict" | "None" } | null;
  readonly requireEmailVerification: boolean;
  readonly signUp: boolean;
  readonly trustedProxies: readonly string[];
  readonly clientAddress: ((request: Request) => string | undefined) | undefined;
  readonly trustedOrigins: ReadonlySet<string>;
}

/** @internal The engine behind `backend.auth` and the `/auth` routes. */
export class Auth implements AuthApi {
  readonly settings: AuthSettings;
  readonly #deps: AuthDeps;
  readonly #db: Kysely<AuthDB>;
  readonly #hasher: PasswordHasher;
  readonly #store: RateLimitStore;
  readonly #signInLimit: { max: number; windowMs: number };
  readonly #addressLimit: { max: number; windowMs: number };
  readonly #addressGroup: (address: string) => string;
  readonly #minLength: number;
  readonly #maxLength: number;
  readonly #verifyTtl: number;
  readonly #resetTtl: number;
  readonly #mailer: Mailer | null;
  readonly #options: BuiltInAuthOptions;
  #dummyHash: Promise<string> | undefined;
  #sessionQuery: CompiledQuery | undefined;
  readonly apiKeys: AuthApi["apiKeys"];

  constructor(deps: AuthDeps, options: BuiltInAuthOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#db = deps.runtime.kysely as unknown as Kysely<AuthDB>;
    const password = options.password ?? {};
    const sessions = options.sessions ?? {};
    this.#hasher = password.hasher ?? scryptHasher();
    this.#minLength = password.minLength ?? 8;
    this.#maxLength = password.maxLength ?? 128;
    if (!Number.isInteger(this.#minLength) || this.#minLength < 1 || this.#maxLength < this.#minLength || this.#maxLength > 1024) {
      throw new TypeError("auth.password: minLength must be at least 1 and maxLength from minLength to 1024.");
    }
    const rate = options.rateLimit ?? {};
    this.#signInLimit = limit(rate.signIn, { max: 5, window: "15m" }, "auth.rateLimit.signIn");
    this.#addressLimit = limit(rate.perAddress, { max: 30, window: "1m" }, "auth.rateLimit.perAddress");
    this.#addressGroup = addressGrouping(rate.ipv6Prefix ?? 64, "auth.rateLimit.ipv6Prefix");
    const stamp = () => deps.runtime.encode("datetime", new Date());
    this.#store = rate.store ?? databaseRateLimitStore(deps.runtime.kysely as Kysely<unknown>, uuidv7, stamp);
    this.#verifyTtl = durationMs(options.tokenTtl?.verifyEmail ?? "3d", "auth.tokenTtl.verifyEmail");
    this.#resetTtl = durationMs(options.tokenTtl?.resetPassword ?? "1h", "auth.tokenTtl.resetPassword");
    this.#mailer = options.mailer ?? (process.env["NODE_ENV"] === "production" ? null : logMailer(deps.logger));
    if (this.#mailer === null) {
      (deps.logger.warn ?? deps.logger.error).call(
        deps.logger,
        "auth has no mailer: sign-up with verification, password reset and verification e-mails will fail until auth.mailer is set.",
      );
    }
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
    this.settings = {
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
      trustedProxies: options.trustedProxies ?? [],
      clientAddress: options.clientAddress,
      trustedOrigins: new Set(options.trustedOrigins ?? []),
    };
    this.apiKeys = {
      create: (input) => this.#createApiKey(input),
      list: (userId) => this.#listApiKeys(userId),
      revoke: (id) => this.#revokeApiKey(id),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  #now(): number {
    return Date.now();
  }

  #stamp(): unknown {
    return this.#deps.runtime.encode("datetime", new Date());
  }

  #stamps(): { id: string; createdAt: unknown; updatedAt: unknown } {
    const at = this.#stamp();
    return { id: uuidv7(), createdAt: at, updatedAt: at };
  }

  #date(value: unknown): Date {
    return this.#deps.runtime.decode("datetime", value) as Date;
  }

  /** Checks a new password's length; a 422 naming `field` otherwise. */
  checkPassword(password: unknown, field = "password"): string {
    const issues: FieldIssue[] = [];
    if (typeof password !== "string") issues.push({ path: [field], code: "invalid_type", message: "A password is a string" });
    else if ([...password].length < this.#minLength) {
      issues.push({ path: [field], code: "too_small", message: `A password has at least ${this.#minLength} characters` });
    } else if ([...password].length > this.#maxLength) {
      issues.push({ path: [field], code: "too_big", message: `A password has at most ${this.#maxLength} characters` });
    }
    if (issues.length > 0) throw validationError("Invalid password", issues);
    return password as string;
  }

  /** The e-mail of a request body, normalised; a 422 otherwise. */
  checkEmail(email: unknown): string {
    const normalized = normalizeEmail(email);
    if (normalized === null) {
      throw validationError("Invalid e-mail address", [{ path: ["email"], code: "invalid_format", message: "An e-mail address is expected" }]);
    }
    return normalized;
  }

  /**
   * Counts one credential request from `address` (an IPv6 one with the rest of its prefix);
   * 429 past the limit. Unknown addresses are not counted.
   */
  async countAddress(address: string | undefined): Promise<void> {
    if (address === undefined) return;
    const now = this.#now();
    const hit = await this.#store.hit(`address:${this.#addressGroup(address)}`, this.#addressLimit.windowMs, now);
    if (hit.count > this.#addressLimit.max) throw rateLimited(Math.max(1, Math.ceil((hit.resetAt - now) / 1000)));
  }

  /**
   * Takes one of the account's tries before a password is checked, or refuses with 429 when the
   * window has none left. Taken atomically by the store's `hit`, so concurrent guesses cannot all
   * pass a check made before any of them is counted; a right password clears the window.
   */
  async #takeTry(email: string): Promise<void> {
    const now = this.#now();
    const hit = await this.#store.hit(`sign-in:${email}`, this.#signInLimit.windowMs, now);
    if (hit.count > this.#signInLimit.max) throw rateLimited(Math.max(1, Math.ceil((hit.resetAt - now) / 1000)));
  }

  /** After the right password: the account's window is cleared, so only failures count. */
  async #forgetTries(email: string): Promise<void> {
    await this.#store.reset(`sign-in:${email}`);
  }

  /** A hash to check unknown accounts' passwords against, so they take as long as known ones. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#hasher.hash(randomToken());
    return this.#dummyHash;
  }

  async #passwordHash(userId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom("cimiento_credentials").select("passwordHash").where("user", "=", userId).executeTakeFirst();
    return row?.passwordHash;
  }

  async #storePassword(db: Kysely<AuthDB>, userId: string, hash: string): Promise<void> {
    const updated = await db
      .updateTable("cimiento_credentials")
      .set({ passwordHash: hash, updatedAt: this.#stamp() })
      .where("user", "=", userId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await db.insertInto("cimiento_credentials").values({ ...this.#stamps(), user: userId, passwordHash: hash }).execute();
    }
  }

  /** Sends a message after the response: failures are logged, and never show in the answer. */
  sendLater(message: () => Promise<MailMessage | null>): void {
    const mailer = this.#requireMailer();
    void (async () => {
      const mail = await message();
      if (mail !== null) await mailer.send(mail);
    })().catch((error: unknown) => this.#deps.logger.error("Sending an authentication e-mail failed.", { error }));
  }

  /** The mailer; a flow that needs mail fails (500, logged) rather than answer as if sent. */
  #requireMailer(): Mailer {
    if (this.#mailer === null) {
      throw new Error("This authentication flow sends mail, and no mailer is set: give createBackend({ auth: { mailer } }).");
    }
    return this.#mailer;
  }

  async #issueToken(db: Kysely<AuthDB>, values: { user: string | null; email: string | null; payload: string | null; purpose: "reset-password" | "verify-email" }): Promise<string> {
    const token = randomToken();
    const ttl = values.purpose === "verify-email" ? this.#verifyTtl : this.#resetTtl;
    await db
      .insertInto("cimiento_tokens")
      .values({ ...this.#stamps(), ...values, tokenHash: hashToken(token), expiresAt: this.#now() + ttl })
      .execute();
    return token;
  }

  /** Takes a one-use token: deletes it and returns its row, or throws `INVALID_TOKEN`. */
  async #consumeToken(db: Kysely<AuthDB>, token: unknown, purpose: "reset-password" | "verify-email") {
    if (typeof token !== "string" || token.length < 16 || token.length > 256) throw invalidToken();
    const row = await db
      .deleteFrom("cimiento_tokens")
      .where("tokenHash", "=", hashToken(token))
      .where("purpose", "=", purpose)
      .returning(["user", "email", "payload", "expiresAt"])
      .executeTakeFirst();
    if (row === undefined || Number(row.expiresAt) <= this.#now()) throw invalidToken();
    return row;
  }

  #mail(kind: "verifyEmail" | "resetPassword", email: string, token: string, signUp = false): MailMessage {
    const link = this.#options.links?.[kind];
    const build = this.#options.emails?.[kind] ?? defaultEmails[kind];
    return { to: email, ...build({ email, token, url: link === undefined ? undefined : link(token, { signUp }), signUp }) };
  }

  #sessionInfo(row: { id: string; user: string; createdAt: unknown; expiresAt: number }): SessionInfo {
    return { id: row.id, userId: row.user, createdAt: this.#date(row.createdAt), expiresAt: new Date(Number(row.expiresAt)) };
  }

  #apiKeyInfo(row: AuthDB["cimiento_api_keys"]): ApiKeyInfo {
    return {
      id: row.id,
      name: row.name,
      start: row.start,
      userId: row.user,
      role: row.user === null ? row.role : null,
      collections: parseList(row.collections),
      actions: parseList(row.actions),
      createdAt: this.#date(row.createdAt),
      expiresAt: row.expiresAt === null ? null : new Date(Number(row.expiresAt)),
      lastUsedAt: row.lastUsedAt === null ? null : new Date(Number(row.lastUsedAt)),
    };
  }

  /** The principal of a user record: the record itself (it has `id` and `role`). */
  async principalOf(userId: string): Promise<Principal | null> {
    const record = await this.#deps.readUser(userId);
    return record === null ? null : (record as unknown as Principal);
  }

  /**
   * Checks a sign-up's own fields (everything but e-mail and password) as an anonymous create
   * checks them, with the data layer's field rules: `read_only`, `write_denied`, and unknown for
   * a field the anonymous caller may not read; then the schema. `issues` are reported with them.
   */
  checkProfile(email: string, profile: Row, issues: FieldIssue[] = []): Row {
    const users = this.#deps.users;
    const fields: Row = Object.create(null);
    for (const [name, value] of Object.entries(profile)) {
      // The id and the timestamps are the system's: a sign-up chooses none of them.
      if (users.columnsByName.get(name)?.field === undefined) {
        issues.push({ path: [name], code: "unrecognized_keys", message: `Unknown field "${name}"` });
      } else {
        fields[name] = value;
      }
    }
    const { issues: denied, data } = writeIssues(fieldAccess(null), users, fields);
    issues.push(...denied);
    const parsed = users.createSchema.safeParse({ ...(data as Row), email });
    if (!parsed.success) issues.push(...issuesOf(parsed.error, []));
    if (issues.length > 0) throw validationError("Invalid sign-up", issues);
    const { email: _email, ...checked } = parsed.data!;
    return checked;
  }

  // -------------------------------------------------------------------------------------------
  // Accounts

  async createUser(input: CreateUserInput): Promise<Infer<DefaultUsers>> {
    const { password, ...fields } = input as Row & { password?: unknown; email?: unknown };
    const email = this.checkEmail(input.email);
    const hash = password === undefined ? undefined : await this.#hasher.hash(this.checkPassword(password));
    return this.#deps.transaction(async ({ db, createUser }) => {
      const user = await createUser({ ...fields, email });
      if (hash !== undefined) await this.#storePassword(db as unknown as Kysely<AuthDB>, user["id"] as string, hash);
      return user as Infer<DefaultUsers>;
    });
  }

  /**
   * Sign-up. With verification required, nothing is created yet and no password is taken: a
   * one-use token holding the account's fields is mailed to the address (or, for a taken
   * address, a notice), and both answer `null`; whoever follows the link chooses the password
   * (`verifyEmail`). Without, the account is created with its password and signed in, or 409 for
   * a taken address.
   */
  async signUp(body: Row, client: { address?: string; userAgent?: string }): Promise<{ user: Principal; token: string; session: SessionInfo } | null> {
    await this.countAddress(client.address);
    if (!this.settings.requireEmailVerification) return this.#signUpAndSignIn(body, client);
    this.#requireMailer();
    const { email: rawEmail, password, ...profile } = body;
    const email = this.checkEmail(rawEmail);
    // A password sent now would be one anybody could have chosen for this address: refused, so
    // that a client written for sign-up without verification learns at once where it goes.
    const fields = this.checkProfile(email, profile, password === undefined ? [] : [PASSWORD_AT_SIGN_UP]);
    const taken = await this.#db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
    if (taken !== undefined) {
      const build = this.#options.emails?.accountExists ?? defaultEmails.accountExists;
      this.sendLater(async () => ({ to: email, ...build({ email }) }));
    } else {
      // The token is made after the answer, so that a new address takes no longer than a taken one.
      const payload = JSON.stringify({ fields });
      this.sendLater(async () => {
        const token = await this.#issueToken(this.#db, { user: null, email, payload, purpose: "verify-email" });
        return this.#mail("verifyEmail", email, token, true);
      });
    }
    return null;
  }

  /** Sign-up without verification: the account, its password and a session at once; 409 for a taken address. */
  async #signUpAndSignIn(body: Row, client: { address?: string; userAgent?: string }) {
    const { email: rawEmail, password: rawPassword, ...profile } = body;
    const email = this.checkEmail(rawEmail);
    const password = this.checkPassword(rawPassword);
    const fields = this.checkProfile(email, profile);
    const hash = await this.#hasher.hash(password);
    const taken = await this.#db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
    if (taken !== undefined) throw apiError("EMAIL_TAKEN", "This e-mail address already has an account.");
    const user = await this.#deps.transaction(async ({ db, createUser }) => {
      const record = await createUser({ ...fields, email });
      await this.#storePassword(db as unknown as Kysely<AuthDB>, record["id"] as string, hash);
      return record;
    });
    const { token, session } = await this.createSession(user["id"] as string, client);
    return { user: user as unknown as Principal, token, session };
  }

  async signIn(rawEmail: string, password: string, client: { address?: string; userAgent?: string } = {}) {
    await this.countAddress(client.address);
    const email = this.checkEmail(rawEmail);
    if (typeof password !== "string" || password.length === 0 || password.length > 4 * this.#maxLength) {
      throw validationError("Invalid sign-in", [{ path: ["password"], code: "invalid_type", message: "A password is expected" }]);
    }
    await this.#takeTry(email);
    const row = await this.#db
      .selectFrom("users")
      .leftJoin("cimiento_credentials", "cimiento_credentials.user", "users.id")
      .select(["users.id as id", "users.emailVerified as emailVerified", "cimiento_credentials.passwordHash as passwordHash"])
      .where("users.email", "=", email)
      .executeTakeFirst();
    const hash = row?.passwordHash ?? (await this.#dummy());
    const ok = (await this.#hasher.verify(hash, password)) && row?.passwordHash != null;
    if (!ok || row === undefined) throw invalidCredentials();
    await this.#forgetTries(email);
    if (this.settings.requireEmailVerification && this.#deps.runtime.decode("boolean", row.emailVerified) !== true) {
      throw apiError("EMAIL_NOT_VERIFIED", "Confirm your e-mail address first: follow the link sent to it.");
    }
    if (this.#hasher.needsRehash(hash)) {
      await this.#storePassword(this.#db, row.id, await this.#hasher.hash(password));
    }
    const { token, session } = await this.createSession(row.id, client);
    const user = await this.principalOf(row.id);
    if (user === null) throw invalidCredentials();
    return { user, token, session };
  }

  async setPassword(userId: string, password: string): Promise<void> {
    const hash = await this.#hasher.hash(this.checkPassword(password));
    await this.#deps.transaction(async ({ db }) => {
      await this.#storePassword(db as unknown as Kysely<AuthDB>, userId, hash);
      await (db as unknown as Kysely<AuthDB>).deleteFrom("cimiento_sessions").where("user", "=", userId).execute();
    });
  }

  /** Changes the caller's password after checking the current one; ends its other sessions. */
  async changePassword(user: Principal, sessionId: string, body: Row, address: string | undefined): Promise<void> {
    await this.countAddress(address);
    const current = body["currentPassword"];
    const next = this.checkPassword(body["newPassword"], "newPassword");
    const email = String((user as unknown as Row)["email"] ?? user.id);
    await this.#takeTry(email);
    const hash = await this.#passwordHash(user.id);
    const ok = typeof current === "string" && (await this.#hasher.verify(hash ?? (await this.#dummy()), current)) && hash !== undefined;
    if (!ok) throw invalidCredentials();
    await this.#forgetTries(email);
    const replacement = await this.#hasher.hash(next);
    await this.#deps.transaction(async ({ db }) => {
      const trx = db as unknown as Kysely<AuthDB>;
      await this.#storePassword(trx, user.id, replacement);
      await trx.deleteFrom("cimiento_sessions").where("user", "=", user.id).where("id", "!=", sessionId).execute();
    });
  }

  /** Mails a reset link when the address has an account; answers alike either way. */
  async requestPasswordReset(rawEmail: unknown, address: string | undefined): Promise<void> {
    await this.countAddress(address);
    this.#requireMailer();
    const email = this.checkEmail(rawEmail);
    const user = await this.#db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
    if (user === undefined) return;
    // The token is made after the answer, so that a known address takes no longer.
    this.sendLater(async () => {
      const token = await this.#issueToken(this.#db, { user: user.id, email: null, payload: null, purpose: "reset-password" });
      return this.#mail("resetPassword", email, token);
    });
  }

  /** Sets a new password with a reset token (once); proves the address; ends every session. */
  async resetPassword(body: Row, address: string | undefined): Promise<void> {
    await this.countAddress(address);
    const password = this.checkPassword(body["password"]);
    const hash = await this.#hasher.hash(password);
    const email = await this.#deps.transaction(async ({ db }) => {
      const trx = db as unknown as Kysely<AuthDB>;
      const row = await this.#consumeToken(trx, body["token"], "reset-password");
      const userId = row.user!;
      await this.#storePassword(trx, userId, hash);
      await trx.deleteFrom("cimiento_sessions").where("user", "=", userId).execute();
      await trx.deleteFrom("cimiento_tokens").where("user", "=", userId).where("purpose", "=", "reset-password").execute();
      await trx.updateTable("users").set({ emailVerified: this.#deps.runtime.encode("boolean", true) }).where("id", "=", userId).execute();
      return (await trx.selectFrom("users").select("email").where("id", "=", userId).executeTakeFirst())?.email;
    });
    // The owner proved the mailbox: failed sign-ins (someone else's guesses, say) lock it out no more.
    if (email !== undefined) await this.#forgetTries(email);
  }

  async sendVerificationEmail(userId: string): Promise<void> {
    const user = await this.#db.selectFrom("users").select(["id", "email"]).where("id", "=", userId).executeTakeFirst();
    if (user === undefined) throw apiError("NOT_FOUND", `No users record with id "${userId}".`);
    const token = await this.#issueToken(this.#db, { user: user.id, email: user.email, payload: null, purpose: "verify-email" });
    this.sendLater(async () => this.#mail("verifyEmail", user.email, token));
  }

  /**
   * Verifies an address with its token, then signs in. The token of a pending sign-up creates
   * the account with the password given now (required); the token of an existing account marks
   * it verified (no password: it has one). A refused body leaves the token usable.
   */
  async verifyEmail(body: Row, client: { address?: string; userAgent?: string }) {
    await this.countAddress(client.address);
    const password = body["password"];
    // Hashed before the transaction, which should not hold the database while scrypt runs.
    const hash = password === undefined ? undefined : await this.#hasher.hash(this.checkPassword(password));
    const userId = await this.#deps.transaction(async ({ db, createUser }) => {
      const trx = db as unknown as Kysely<AuthDB>;
      const row = await this.#consumeToken(trx, body["token"], "verify-email");
      if (row.user !== null) {
        if (hash !== undefined) throw validationError("Invalid verification", [PASSWORD_OF_ACCOUNT]);
        // The token proves the address it was sent to, not whatever the account's address is now.
        const updated = await trx
          .updateTable("users")
          .set({ emailVerified: this.#deps.runtime.encode("boolean", true) })
          .where("id", "=", row.user)
          .where("email", "=", row.email ?? "")
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) throw invalidToken();
        return row.user;
      }
      // Whoever follows the link chooses the password here: a sign-up could be sent by anybody
      // for this address, so nothing it carried may become a credential of the account.
      if (hash === undefined) throw validationError("Invalid verification", [PASSWORD_TO_CHOOSE]);
      const email = row.email!;
      const taken = await trx.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
      if (taken !== undefined) throw invalidToken();
      // A token older than a field rule (or than these checks) creates only what sign-up allows now.
      const { fields = {} } = JSON.parse(row.payload ?? "{}") as { fields?: Row };
      const user = await createUser({ ...this.checkProfile(email, fields), email, emailVerified: true });
      await this.#storePassword(trx, user["id"] as string, hash);
      // Other pending sign-ups of this address are void now.
      await trx.deleteFrom("cimiento_tokens").where("email", "=", email).where("user", "is", null).execute();
      return user["id"] as string;
    });
    const { token, session } = await this.createSession(userId, client);
    const user = await this.principalOf(userId);
    return { user: user!, token, session };
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  async createSession(userId: string, client: { address?: string; userAgent?: string } = {}) {
    const token = randomToken();
    const now = this.#now();
    const values = {
      ...this.#stamps(),
      tokenHash: hashToken(token),
      user: userId,
      expiresAt: now + this.settings.ttl,
      refreshedAt: now,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      address: client.address ?? null,
    };
    await this.#db.insertInto("cimiento_sessions").values(values).execute();
    return { token, session: this.#sessionInfo(values) };
  }

  /** The session of a token, extended when due; `refreshed` says whether it was. */
  async session(token: string): Promise<{ identity: Identity; refreshed: boolean } | null> {
    if (token.length < 16 || token.length > 256) return null;
    const now = this.#now();
    // One statement per request: the session and its user, compiled once.
    this.#sessionQuery ??= this.#db
      .selectFrom("cimiento_sessions")
      .innerJoin("users", "users.id", "cimiento_sessions.user")
      .selectAll("users")
      .select([
        "cimiento_sessions.id as sessionId",
        "cimiento_sessions.createdAt as sessionCreatedAt",
        "cimiento_sessions.expiresAt as sessionExpiresAt",
        "cimiento_sessions.refreshedAt as sessionRefreshedAt",
      ])
      .where("cimiento_sessions.tokenHash", "=", "")
      .compile();
    const { rows } = await this.#db.executeQuery({ ...this.#sessionQuery, parameters: [hashToken(token)] });
    const row = rows[0] as Row | undefined;
    if (row === undefined || Number(row["sessionExpiresAt"]) <= now) return null;
    const sessionId = row["sessionId"] as string;
    let expiresAt = Number(row["sessionExpiresAt"]);
    let refreshed = false;
    if (now - Number(row["sessionRefreshedAt"]) >= this.settings.refreshAfter) {
      expiresAt = now + this.settings.ttl;
      refreshed = true;
      await this.#db.updateTable("cimiento_sessions").set({ expiresAt, refreshedAt: now }).where("id", "=", sessionId).execute();
    }
    const user = this.#userRecord(row);
    const session = this.#sessionInfo({ id: sessionId, user: user.id, createdAt: row["sessionCreatedAt"], expiresAt });
    return { identity: { user, session }, refreshed };
  }

  /** A user record from a row holding every column of `users`, decoded as the data layer does. */
  #userRecord(row: Row): Principal {
    const { runtime, users } = this.#deps;
    const record: Row = {};
    for (const column of users.columns) {
      const value = row[column.name];
      record[column.name] = value === null || !runtime.decodes(column.kind) ? value : runtime.decode(column.kind, value);
    }
    return record as unknown as Principal;
  }

  async verifyToken(token: string): Promise<Identity | null> {
    if (token.startsWith("ck_")) {
      const key = await this.apiKey(token);
      if (key !== null) return key;
    }
    return (await this.session(token))?.identity ?? null;
  }

  async revokeSession(token: string): Promise<void> {
    await this.#db.deleteFrom("cimiento_sessions").where("tokenHash", "=", hashToken(token)).execute();
  }

  async revokeSessions(userId: string, options: { except?: string } = {}): Promise<number> {
    let query = this.#db.deleteFrom("cimiento_sessions").where("user", "=", userId);
    if (options.except !== undefined) query = query.where("id", "!=", options.except);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // -------------------------------------------------------------------------------------------
  // API keys

  async apiKey(key: string): Promise<Identity | null> {
    if (key.length > 256) return null;
    const row = await this.#db.selectFrom("cimiento_api_keys").selectAll().where("keyHash", "=", hashToken(key)).executeTakeFirst();
    const now = this.#now();
    if (row === undefined || (row.expiresAt !== null && Number(row.expiresAt) <= now)) return null;
    if (row.lastUsedAt === null || now - Number(row.lastUsedAt) > 60_000) {
      await this.#db.updateTable("cimiento_api_keys").set({ lastUsedAt: now }).where("id", "=", row.id).execute();
      row.lastUsedAt = now;
    }
    const apiKey = this.#apiKeyInfo(row);
    if (row.user === null) return { user: { id: row.id, role: row.role ?? "system" } as Principal, apiKey };
    const user = await this.principalOf(row.user);
    return user === null ? null : { user, apiKey };
  }

  async #createApiKey(input: CreateApiKeyInput): Promise<{ key: string; apiKey: ApiKeyInfo }> {
    if (typeof input.name !== "string" || input.name.trim().length === 0 || input.name.length > 200) {
      throw validationError("Invalid API key", [{ path: ["name"], code: "invalid_type", message: "A name of 1 to 200 characters is expected" }]);
    }
    if (input.name.includes(NUL)) throw validationError("Invalid API key", [{ path: ["name"], code: "invalid_format", message: NUL_REFUSED_ISSUE }]);
    for (const list of ["collections", "actions"] as const) {
      const value = input[list];
      if (value !== undefined && (!Array.isArray(value) || value.some((name) => typeof name !== "string"))) {
        throw validationError("Invalid API key", [{ path: [list], code: "invalid_type", message: "A list of names is expected" }]);
      }
    }
    let expiresAt: number | null = null;
    if (input.expiresIn !== undefined) {
      let lifetime: number | undefined;
      try {
        lifetime = durationMs(input.expiresIn, "expiresIn");
      } catch {
        // Refused below with the same issue as a lifetime past the longest.
      }
      if (lifetime === undefined || lifetime > LONGEST_API_KEY_LIFETIME) {
        throw validationError("Invalid API key", [
          { path: ["expiresIn"], code: "invalid_format", message: 'A duration of at most 100 years is expected: milliseconds, or like "90d"' },
        ]);
      }
      expiresAt = this.#now() + lifetime;
    }
    if (input.userId !== undefined) {
      const owner = await this.#db.selectFrom("users").select("id").where("id", "=", input.userId).executeTakeFirst();
      if (owner === undefined) throw apiError("NOT_FOUND", `No users record with id "${input.userId}".`);
    }
    const key = randomToken("ck_");
    const row: AuthDB["cimiento_api_keys"] = {
      ...this.#stamps(),
      keyHash: hashToken(key),
      name: input.name.trim(),
      start: key.slice(0, 8),
      user: input.userId ?? null,
      role: input.userId === undefined ? (input.role ?? "system") : null,
      collections: input.collections === undefined ? null : JSON.stringify(input.collections),
      actions: input.actions === undefined ? null : JSON.stringify(input.actions),
      expiresAt,
      lastUsedAt: null,
    };
    await this.#db.insertInto("cimiento_api_keys").values(row).execute();
    return { key, apiKey: this.#apiKeyInfo(row) };
  }

  async #listApiKeys(userId: string | null): Promise<ApiKeyInfo[]> {
    const rows = await this.#db
      .selectFrom("cimiento_api_keys")
      .selectAll()
      .where("user", userId === null ? "is" : "=", userId)
      .orderBy("id")
      .execute();
    return rows.map((row) => this.#apiKeyInfo(row));
  }

  async #revokeApiKey(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom("cimiento_api_keys").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
