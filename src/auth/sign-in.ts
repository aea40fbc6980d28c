/**
 * @internal Sign-in with an e-mail address and a password.
 * @module
 */
import { z } from "zod";
import { apiError, type ApiError } from "../errors/api-error.js";
import { emailMember } from "./body.js";
import type { AuthParts, SignedIn } from "./parts.js";
import type { Client } from "./sessions.js";

/** A wrong address or password: the answer does not say which. */
export const invalidCredentials = (): ApiError => apiError("INVALID_CREDENTIALS", "The e-mail address or the password is wrong.");

/** The body of a sign-in. */
export function signInBody({ credentials }: Pick<AuthParts, "credentials">) {
  return z.object({ email: emailMember, password: credentials.givenPassword() });
}

/** A sign-in's body, checked. */
export type SignInBody = z.output<ReturnType<typeof signInBody>>;

/**
 * Checks the password of an account, after taking one of its tries (429 when none is left): a
 * new session, or 401 for a wrong address or password, in the same time either way; 403 for an
 * address not yet verified when verification is required. A hash imported from another system,
 * or made with older parameters, is replaced by the current hasher's in the transaction that
 * opens the session.
 */
export async function signIn(
  { settings, store, accounts, credentials, limits, sessions }: Pick<AuthParts, "settings" | "store" | "accounts" | "credentials" | "limits" | "sessions">,
  { email, password }: SignInBody,
  client: Client,
): Promise<SignedIn> {
  await limits.takeTry(email);
  const row = await store.db
    .selectFrom("users")
    .leftJoin("cimiento_credentials", "cimiento_credentials.user", "users.id")
    .select(["users.id as id", "users.emailVerified as emailVerified", "cimiento_credentials.passwordHash as passwordHash"])
    .where("users.email", "=", email)
    .executeTakeFirst();
  const hash = row?.passwordHash;
  if (!(await credentials.verify(hash, password)) || row === undefined || hash == null) throw invalidCredentials();
  await limits.forgetTries(email);
  if (settings.requireEmailVerification && store.runtime.decode("boolean", row.emailVerified) !== true) {
    throw apiError("EMAIL_NOT_VERIFIED", "Confirm your e-mail address first: follow the link sent to it.");
  }
  // Hashed before the transaction, which then holds its connection for two statements only.
  const replacement = await credentials.replacementOf(hash, password);
  const { token, session } =
    replacement === undefined
      ? await sessions.create(row.id, client)
      : await accounts.transaction(async ({ db }) => {
          await credentials.replace(db, row.id, hash, replacement);
          return sessions.create(row.id, client, db);
        });
  const user = await accounts.principalOf(row.id);
  if (user === null) throw invalidCredentials();
  return { user, token, session };
}
