/**
 * @internal A forgotten password: the link mailed on request, and the new password set with it.
 * @module
 */
import { z } from "zod";
import { emailMember, tokenMember } from "./body.js";
import type { AuthParts } from "./parts.js";

/** The body of `POST /auth/request-password-reset`. */
export const resetRequestBody = z.object({ email: emailMember });

/** The body of `POST /auth/reset-password`: the mailed token and the new password. */
export function resetPasswordBody({ credentials }: Pick<AuthParts, "credentials">) {
  return z.object({ token: tokenMember, password: credentials.newPassword() });
}

/** Mails a reset link when the address has an account; answers alike either way. */
export async function requestPasswordReset(
  { accounts, tokens, outbox, store }: Pick<AuthParts, "accounts" | "tokens" | "outbox" | "store">,
  { email }: z.output<typeof resetRequestBody>,
): Promise<void> {
  outbox.require();
  const userId = await accounts.idOf(email);
  if (userId === undefined) return;
  // The token is made after the answer, so that a known address takes no longer.
  outbox.sendLater(async () => {
    const token = await tokens.issue(store.db, { user: userId, email: null, payload: null, purpose: "reset-password" });
    return outbox.withToken("resetPassword", email, token);
  });
}

/** Sets a new password with a reset token (once); proves the address; ends every session. */
export async function resetPassword(
  { accounts, credentials, tokens, sessions, limits }: Pick<AuthParts, "accounts" | "credentials" | "tokens" | "sessions" | "limits">,
  body: z.output<ReturnType<typeof resetPasswordBody>>,
): Promise<void> {
  const hash = await credentials.hash(body.password);
  const email = await accounts.transaction(async ({ db }) => {
    const row = await tokens.consume(db, body.token, "reset-password");
    const userId = row.user!;
    await credentials.store(db, userId, hash);
    await sessions.revokeAll(userId, {}, db);
    await tokens.voidResets(db, userId);
    await accounts.markVerified(db, userId);
    return (await db.selectFrom("users").select("email").where("id", "=", userId).executeTakeFirst())?.email;
  });
  // The owner proved the mailbox: failed sign-ins (someone else's guesses, say) lock it out no more.
  if (email !== undefined) await limits.forgetTries(email);
}
