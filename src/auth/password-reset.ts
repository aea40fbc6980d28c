/**
 * @internal A forgotten password: the link mailed on request, and the new password set with it.
 * @module
 */
import { z } from "zod";
import { emailMember, tokenMember } from "./body.js";
import { invalidToken } from "./one-use-tokens.js";
import type { AuthParts } from "./parts.js";

/** The body of `POST /auth/request-password-reset`. */
export const resetRequestBody = z.object({ email: emailMember });

/** The body of `POST /auth/reset-password`: the mailed token and the new password. */
export function resetPasswordBody({ credentials }: Pick<AuthParts, "credentials">) {
  return z.object({ token: tokenMember, password: credentials.newPassword() });
}

/** Mails a reset link when the address has an account; answers alike either way. */
export async function requestPasswordReset(
  { accounts, tokens, outbox, store, limits }: Pick<AuthParts, "accounts" | "tokens" | "outbox" | "store" | "limits">,
  { email }: z.output<typeof resetRequestBody>,
): Promise<void> {
  outbox.require();
  const userId = await accounts.idOf(email);
  if (userId === undefined) return;
  // The token is made after the answer, so that a known address takes no longer.
  outbox.sendLater(async () => {
    // Past the limit of messages to this address, nothing is sent (and the answer is the same).
    if (!(await limits.mayMail(email))) return null;
    // The token holds the address it is mailed to: it proves that mailbox, and no later address.
    const token = await tokens.issue(store.db, { user: userId, email, payload: null, purpose: "reset-password" });
    return outbox.withToken("resetPassword", email, token);
  });
}

/**
 * Sets a new password with a reset token (once); proves the address; ends every session. A token
 * mailed to another address than the account's now (it changed since) is refused as invalid.
 */
export async function resetPassword(
  { accounts, credentials, tokens, sessions, limits }: Pick<AuthParts, "accounts" | "credentials" | "tokens" | "sessions" | "limits">,
  body: z.output<ReturnType<typeof resetPasswordBody>>,
): Promise<void> {
  const hash = await credentials.hash(body.password);
  const email = await accounts.transaction(async ({ db }) => {
    const row = await tokens.consume(db, body.token, "reset-password");
    const userId = row.user!;
    const current = await db.selectFrom("users").select("email").where("id", "=", userId).executeTakeFirst();
    // A link proves the mailbox it was sent to: after the address changed, it proves nothing.
    if (current === undefined || row.email === null || current.email !== row.email) throw invalidToken();
    await credentials.store(db, userId, hash);
    await sessions.revokeAll(userId, {}, db);
    await tokens.voidResets(db, userId);
    await accounts.markVerified(db, userId, row.email);
    return current.email;
  });
  // The owner proved the mailbox: failed sign-ins (someone else's guesses, say) lock it out no more.
  await limits.forgetTries(email);
}
