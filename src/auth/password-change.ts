/**
 * @internal A password changed: by its owner, who gives the current one, or by the host.
 * @module
 */
import { z } from "zod";
import type { Principal } from "../define/principal.js";
import { checkBody } from "./body.js";
import type { AuthParts } from "./parts.js";
import { invalidCredentials } from "./sign-in.js";

/** The body of `POST /auth/change-password`. */
export function changePasswordBody({ credentials }: Pick<AuthParts, "credentials">) {
  return z.object({
    // Anything but a string is a wrong password: refused (401) after a try is taken, as a wrong one is.
    currentPassword: z.string().optional().catch(undefined),
    newPassword: credentials.newPassword(),
  });
}

/** Changes the caller's password after checking the current one; ends its other sessions. */
export async function changePassword(
  { accounts, credentials, limits, sessions }: Pick<AuthParts, "accounts" | "credentials" | "limits" | "sessions">,
  user: Principal,
  sessionId: string,
  body: z.output<ReturnType<typeof changePasswordBody>>,
): Promise<void> {
  const email = String((user as unknown as Record<string, unknown>)["email"] ?? user.id);
  await limits.takeTry(email);
  const hash = await credentials.hashOf(user.id);
  const current = body.currentPassword;
  if (current === undefined || !(await credentials.verify(hash, current))) throw invalidCredentials();
  await limits.forgetTries(email);
  const replacement = await credentials.hash(body.newPassword);
  await accounts.transaction(async ({ db }) => {
    await credentials.store(db, user.id, replacement);
    await sessions.revokeAll(user.id, { except: sessionId }, db);
  });
}

/** Sets a user's password (422 for one the rule refuses; 404 for an unknown user), and ends its sessions. */
export async function setPassword(
  { accounts, credentials, sessions }: Pick<AuthParts, "accounts" | "credentials" | "sessions">,
  userId: string,
  password: unknown,
): Promise<void> {
  const checked = checkBody(z.object({ password: credentials.newPassword() }), "Invalid password", { password });
  const hash = await credentials.hash(checked.password);
  await accounts.transaction(async ({ db }) => {
    await accounts.requireUser(db, userId);
    await credentials.store(db, userId, hash);
    await sessions.revokeAll(userId, {}, db);
  });
}
