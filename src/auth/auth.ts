/**
 * Built-in authentication: `backend.auth`, made of one part per idea (accounts, passwords,
 * sessions, one-use tokens, API keys, limits, mail) and one module per flow.
 * @module
 */
import type { AuthApi, CreateUserInput, Identity, RequestCaller, SessionInfo, SessionRequest, SessionRequestOptions } from "../define/auth-api.js";
import type { Clock } from "../define/clock.js";
import type { Logger } from "../define/logger.js";
import type { Infer } from "../define/types.js";
import type { DefaultUsers } from "../define/users.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import { Accounts, type AccountsDeps } from "./accounts.js";
import { ApiKeys } from "./api-keys.js";
import { checkBody } from "./body.js";
import { proxyMatcher } from "./client.js";
import { CredentialLimits } from "./credential-limits.js";
import { Credentials } from "./credentials.js";
import { sendVerificationEmail, verifyEmail, verifyEmailBody } from "./email-verification.js";
import { hostRequestView } from "./host-request.js";
import { OneUseTokens } from "./one-use-tokens.js";
import type { BuiltInAuthOptions } from "./options.js";
import { Outbox } from "./outbox.js";
import type { AuthParts, SignedIn } from "./parts.js";
import { setPassword } from "./password-change.js";
import { RequestCallers } from "./request-caller.js";
import { SessionCookie } from "./session-cookie.js";
import { Sessions, type Client } from "./sessions.js";
import { resolveSettings, type AuthSettings } from "./settings.js";
import { signIn, signInBody } from "./sign-in.js";
import { createUser, signUp, signUpBody } from "./sign-up.js";
import { AuthStore } from "./store.js";

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
  /** Whether an address is one of `trustedProxies`. */
  readonly trustedProxy: (address: string) => boolean;
  /** The session cookie of the options. */
  readonly cookie: SessionCookie;
  /** Who calls a request: the backend's routes and `session(request)` ask it alike. */
  readonly callers: RequestCallers;

  constructor(deps: AuthDeps, options: BuiltInAuthOptions) {
    const store = new AuthStore(deps.runtime, deps.clock);
    const credentials = new Credentials(store, options.password);
    const settings = resolveSettings(options);
    const limits = new CredentialLimits(store, options.rateLimit, deps.logger);
    const tokens = new OneUseTokens(store, options.tokenTtl);
    const outbox = new Outbox(options, settings, deps.logger);
    const accounts = new Accounts(store, deps);
    // One function builds the caller's record for every credential: sign-in, session, API key
    // (a session reads its user's columns with it in one statement when they are the whole record).
    const principalOf = (userId: string) => accounts.principalOf(userId);
    const sessions = new Sessions(store, settings, deps.users, principalOf);
    const keys = new ApiKeys(store, principalOf, options.apiKeys);
    this.settings = settings;
    this.parts = { store, settings, accounts, credentials, limits, sessions, tokens, apiKeys: keys, outbox };
    this.bodies = { signUp: signUpBody(this.parts), signIn: signInBody(this.parts), verifyEmail: verifyEmailBody(this.parts) };
    this.apiKeys = {
      create: (input) => keys.create(input),
      list: (userId) => keys.list(userId),
      revoke: (id) => keys.revoke(id),
    };
    this.trustedProxy = proxyMatcher(settings.trustedProxies);
    this.cookie = new SessionCookie(settings.cookie, this.trustedProxy);
    this.callers = new RequestCallers(settings, sessions, (token) => this.verifyToken(token), this.cookie);
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

  async createSession(userId: string, client: Client = {}): Promise<{ token: string; session: SessionInfo }> {
    await this.parts.accounts.requireUser(this.parts.store.db, userId);
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

  async session(request: SessionRequest, options?: SessionRequestOptions): Promise<RequestCaller | null> {
    const view = hostRequestView(request, options);
    const found = await this.callers.find(view);
    if (found.kind !== "caller") return null;
    const { caller, refreshed } = found;
    const { user, session, apiKey } = caller.identity!;
    // The backend's routes send a refreshed cookie themselves; a host's route is given it to send.
    const setCookie = refreshed && caller.via === "cookie" ? this.cookie.header(caller.token!, session!.expiresAt, view.env) : undefined;
    return { user, session, apiKey, setCookie };
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
