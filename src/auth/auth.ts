/**
 * Built-in authentication: `backend.auth`, made of one part per idea (accounts, passwords,
 * sessions, one-use tokens, API keys, limits, mail) and one module per flow.
 * @module
 */
import type { Principal } from "../access/principal.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Logger } from "../errors/logger.js";
import type { Clock } from "../jobs/clock.js";
import type { AnyCollection } from "../schema/collection.js";
import type { CreateInput, Infer } from "../schema/types.js";
import { Accounts, type AccountsDeps } from "./accounts.js";
import { ApiKeys, type ApiKeyInfo, type CreateApiKeyInput } from "./api-keys.js";
import { checkBody } from "./body.js";
import { CredentialLimits } from "./credential-limits.js";
import { Credentials } from "./credentials.js";
import { sendVerificationEmail, verifyEmail, verifyEmailBody } from "./email-verification.js";
import { OneUseTokens } from "./one-use-tokens.js";
import type { BuiltInAuthOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import type { AuthParts, SignedIn } from "./parts.js";
import { setPassword } from "./password-change.js";
import { Sessions, type Client, type SessionInfo } from "./sessions.js";
import { resolveSettings, type AuthSettings } from "./settings.js";
import { signIn, signInBody } from "./sign-in.js";
import { createUser, signUp, signUpBody } from "./sign-up.js";
import { AuthStore } from "./store.js";
import type { DefaultUsers } from "./users.js";

export type { ApiKeyInfo, CreateApiKeyInput } from "./api-keys.js";
export type { SessionInfo } from "./sessions.js";

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
export interface AuthDeps extends AccountsDeps {
  readonly runtime: DialectRuntime;
  readonly logger: Logger;
  /** Where auth reads the time: session and token expiry, API key use, rate-limit windows, row stamps. */
  readonly clock: Clock;
}

/** @internal The bodies of auth's requests, built once from the options. */
export interface AuthBodies {
  readonly signUp: ReturnType<typeof signUpBody>;
  readonly signIn: ReturnType<typeof signInBody>;
  readonly verifyEmail: ReturnType<typeof verifyEmailBody>;
}

/** @internal The engine behind `backend.auth` and the `/auth` routes. */
export class Auth implements AuthApi {
  readonly settings: AuthSettings;
  /** The parts the flows are made of. */
  readonly parts: AuthParts;
  readonly bodies: AuthBodies;
  readonly apiKeys: AuthApi["apiKeys"];

  constructor(deps: AuthDeps, options: BuiltInAuthOptions) {
    const store = new AuthStore(deps.runtime, deps.clock);
    const credentials = new Credentials(store, options.password);
    const limits = new CredentialLimits(store, options.rateLimit);
    const tokens = new OneUseTokens(store, options.tokenTtl);
    const outbox = new Outbox(options, deps.logger);
    const settings = resolveSettings(options);
    const accounts = new Accounts(store, deps);
    const sessions = new Sessions(store, settings, deps.users);
    const keys = new ApiKeys(store, (userId) => accounts.principalOf(userId));
    this.settings = settings;
    this.parts = { store, settings, accounts, credentials, limits, sessions, tokens, apiKeys: keys, outbox };
    this.bodies = { signUp: signUpBody(this.parts), signIn: signInBody(this.parts), verifyEmail: verifyEmailBody(this.parts) };
    this.apiKeys = {
      create: (input) => keys.create(input),
      list: (userId) => keys.list(userId),
      revoke: (id) => keys.revoke(id),
    };
  }

  async createUser(input: CreateUserInput): Promise<Infer<DefaultUsers>> {
    return (await createUser(this.parts, input)) as Infer<DefaultUsers>;
  }

  /** Sign-up in-process (actions): counted and checked as `POST /auth/sign-up` is. */
  async signUp(body: unknown, client: Client): Promise<SignedIn | null> {
    await this.parts.limits.countAddress(client.address);
    return signUp(this.parts, checkBody(this.bodies.signUp, "Invalid sign-up", body), client);
  }

  async signIn(email: string, password: string, client: Client = {}): Promise<SignedIn> {
    await this.parts.limits.countAddress(client.address);
    return signIn(this.parts, checkBody(this.bodies.signIn, "Invalid sign-in", { email, password }), client);
  }

  /** Follows a verification link in-process (actions): counted and checked as `POST /auth/verify-email` is. */
  async verifyEmail(body: unknown, client: Client): Promise<SignedIn> {
    await this.parts.limits.countAddress(client.address);
    return verifyEmail(this.parts, checkBody(this.bodies.verifyEmail, "Invalid verification", body), client);
  }

  createSession(userId: string, client: Client = {}): Promise<{ token: string; session: SessionInfo }> {
    return this.parts.sessions.create(userId, client);
  }

  async verifyToken(token: string): Promise<Identity | null> {
    if (token.startsWith("ck_")) {
      const key = await this.parts.apiKeys.find(token);
      if (key !== null) return key;
    }
    const found = await this.parts.sessions.find(token);
    return found === null ? null : { user: found.user, session: found.session };
  }

  revokeSession(token: string): Promise<void> {
    return this.parts.sessions.revoke(token);
  }

  revokeSessions(userId: string, options: { except?: string } = {}): Promise<number> {
    return this.parts.sessions.revokeAll(userId, options);
  }

  setPassword(userId: string, password: string): Promise<void> {
    return setPassword(this.parts, userId, password);
  }

  sendVerificationEmail(userId: string): Promise<void> {
    return sendVerificationEmail(this.parts, userId);
  }
}
