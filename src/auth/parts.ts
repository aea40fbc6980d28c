/**
 * @internal The parts every flow of auth is made of, built once per backend. A flow takes the
 * few it uses (`Pick<AuthParts, ...>`).
 * @module
 */
import type { Principal } from "../define/principal.js";
import type { Accounts } from "./accounts.js";
import type { ApiKeys } from "./api-keys.js";
import type { CredentialLimits } from "./credential-limits.js";
import type { Credentials } from "./credentials.js";
import type { OneUseTokens } from "./one-use-tokens.js";
import type { Outbox } from "./outbox.js";
import type { SessionInfo, Sessions } from "./sessions.js";
import type { AuthSettings } from "./settings.js";
import type { AuthStore } from "./store.js";

export interface AuthParts {
  readonly store: AuthStore;
  readonly settings: AuthSettings;
  readonly accounts: Accounts;
  readonly credentials: Credentials;
  readonly limits: CredentialLimits;
  readonly sessions: Sessions;
  readonly tokens: OneUseTokens;
  readonly apiKeys: ApiKeys;
  readonly outbox: Outbox;
}

/** What a flow that signs in returns: the user's principal, and its new session and token. */
export interface SignedIn {
  readonly user: Principal;
  readonly token: string;
  readonly session: SessionInfo;
}
