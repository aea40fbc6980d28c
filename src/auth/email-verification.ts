/**
 * @internal Proving an address: the link mailed after sign-up (which finishes it) or on demand,
 * and following it.
 * @module
 */
import { z } from "zod";
import { apiError, type FieldIssue } from "../errors/api-error.js";
import { validationError } from "../errors/validation.js";
import { tokenMember } from "./body.js";
import { invalidToken } from "./one-use-tokens.js";
import type { AuthParts, SignedIn } from "./parts.js";
import type { Client } from "./sessions.js";

type Row = Record<string, unknown>;

const PASSWORD_TO_CHOOSE: FieldIssue = { path: ["password"], code: "invalid_type", message: "Choose a password to finish signing up" };
const PASSWORD_OF_ACCOUNT: FieldIssue = {
  path: ["password"],
  code: "unrecognized_keys",
  message: "This link confirms the address of an existing account and sets no password",
};

/** The body of `POST /auth/verify-email`: the token, and the password of a pending sign-up's account. */
export function verifyEmailBody({ credentials }: Pick<AuthParts, "credentials">) {
  return z.object({ token: tokenMember, password: credentials.newPassword().optional() });
}

/** A verification's body, checked. */
export type VerifyEmailBody = z.output<ReturnType<typeof verifyEmailBody>>;

/**
 * Verifies an address with its token, then signs in. The token of a pending sign-up creates
 * the account with the password given now (required); the token of an existing account marks
 * it verified (no password: it has one). A refused body leaves the token usable.
 */
export async function verifyEmail(
  { accounts, credentials, tokens, sessions }: Pick<AuthParts, "accounts" | "credentials" | "tokens" | "sessions">,
  body: VerifyEmailBody,
  client: Client,
): Promise<SignedIn> {
  // Hashed before the transaction, which should not hold the database while scrypt runs.
  const hash = body.password === undefined ? undefined : await credentials.hash(body.password);
  const userId = await accounts.transaction(async ({ db, createUser }) => {
    const row = await tokens.consume(db, body.token, "verify-email");
    if (row.user !== null) {
      if (hash !== undefined) throw validationError("Invalid verification", [PASSWORD_OF_ACCOUNT]);
      if (!(await accounts.markVerified(db, row.user, row.email ?? ""))) throw invalidToken();
      return row.user;
    }
    // Whoever follows the link chooses the password here: a sign-up could be sent by anybody
    // for this address, so nothing it carried may become a credential of the account.
    if (hash === undefined) throw validationError("Invalid verification", [PASSWORD_TO_CHOOSE]);
    const email = row.email!;
    if ((await db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst()) !== undefined) throw invalidToken();
    // A token older than a field rule (or than these checks) creates only what sign-up allows now.
    const { fields = {} } = JSON.parse(row.payload ?? "{}") as { fields?: Row };
    const user = await createUser({ ...accounts.checkProfile(email, fields), email, emailVerified: true });
    await credentials.store(db, user["id"] as string, hash);
    // Other pending sign-ups of this address are void now.
    await tokens.voidSignUps(db, email);
    return user["id"] as string;
  });
  const { token, session } = await sessions.create(userId, client);
  const user = await accounts.principalOf(userId);
  return { user: user!, token, session };
}

/** Sends a user the link that verifies its e-mail address (404 for an unknown user). */
export async function sendVerificationEmail({ store, tokens, outbox }: Pick<AuthParts, "store" | "tokens" | "outbox">, userId: string): Promise<void> {
  const user = await store.db.selectFrom("users").select(["id", "email"]).where("id", "=", userId).executeTakeFirst();
  if (user === undefined) throw apiError("NOT_FOUND", `No users record with id "${userId}".`);
  const token = await tokens.issue(store.db, { user: user.id, email: user.email, payload: null, purpose: "verify-email" });
  outbox.sendLater(async () => outbox.withToken("verifyEmail", user.email, token));
}
