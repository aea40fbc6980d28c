/**
 * @internal Accounts made: by sign-up (with or without a verified address first), or in-process
 * by the host.
 * @module
 */
import { z } from "zod";
import type { Principal } from "../define/principal.js";
import { apiError, type FieldIssue } from "../errors/api-error.js";
import { checkBody, emailMember } from "./body.js";
import type { AuthParts, SignedIn } from "./parts.js";
import type { Client } from "./sessions.js";

type Row = Record<string, unknown>;

const PASSWORD_AT_SIGN_UP: FieldIssue = {
  path: ["password"],
  code: "unrecognized_keys",
  message: "No password at sign-up: it is chosen when following the link mailed to the address (POST /auth/verify-email)",
};

/**
 * The body of a sign-up: an address, the user's own fields (checked by the flow, with the field
 * rules of `users`), and a password only when no verification is required.
 */
export function signUpBody({ settings, credentials }: Pick<AuthParts, "settings" | "credentials">) {
  return settings.requireEmailVerification
    ? z.object({ email: emailMember, password: z.unknown().optional() }).catchall(z.unknown())
    : z.object({ email: emailMember, password: credentials.newPassword() }).catchall(z.unknown());
}

/** A sign-up's body, checked. */
export type SignUpBody = z.output<ReturnType<typeof signUpBody>>;

/**
 * Sign-up. With verification required, nothing is created yet and no password is taken: a
 * one-use token holding the account's fields is mailed to the address (or, for a taken
 * address, a notice), and both answer `null`; whoever follows the link chooses the password
 * (`verifyEmail`). Without, the account is created with its password and signed in, or 409 for
 * a taken address.
 */
export async function signUp(
  parts: Pick<AuthParts, "settings" | "accounts" | "credentials" | "sessions" | "tokens" | "outbox" | "store" | "limits">,
  body: SignUpBody,
  client: Client,
): Promise<SignedIn | null> {
  if (!parts.settings.requireEmailVerification) return signUpAndSignIn(parts, body as SignUpBody & { password: string }, client);
  const { accounts, outbox, tokens, store, limits } = parts;
  outbox.require();
  const { email, password, ...profile } = body;
  // A password sent now would be one anybody could have chosen for this address: refused, so
  // that a client written for sign-up without verification learns at once where it goes.
  const fields = accounts.checkProfile(email, profile, password === undefined ? [] : [PASSWORD_AT_SIGN_UP]);
  if ((await accounts.idOf(email)) !== undefined) {
    // Past the limit of messages to this address, nothing is sent (and the answer is the same).
    outbox.sendLater(async () => ((await limits.mayMail(email)) ? outbox.accountExists(email) : null));
  } else {
    // The token is made after the answer, so that a new address takes no longer than a taken one.
    const payload = JSON.stringify({ fields });
    outbox.sendLater(async () => {
      if (!(await limits.mayMail(email))) return null;
      const token = await tokens.issue(store.db, { user: null, email, payload, purpose: "verify-email" });
      return outbox.withToken("verifyEmail", email, token, true);
    });
  }
  return null;
}

/** Sign-up without verification: the account, its password and a session at once; 409 for a taken address. */
async function signUpAndSignIn(
  { accounts, credentials, sessions }: Pick<AuthParts, "accounts" | "credentials" | "sessions">,
  body: Row & { email: string; password: string },
  client: Client,
): Promise<SignedIn> {
  const { email, password, ...profile } = body;
  const fields = accounts.checkProfile(email, profile);
  const hash = await credentials.hash(password);
  if ((await accounts.idOf(email)) !== undefined) throw apiError("EMAIL_TAKEN", "This e-mail address already has an account.");
  const user = await accounts.transaction(async ({ db, createUser }) => {
    const record = await createUser({ ...fields, email });
    await credentials.store(db, record["id"] as string, hash);
    return record;
  });
  const { token, session } = await sessions.create(user["id"] as string, client);
  return { user: user as unknown as Principal, token, session };
}

/**
 * What `backend.auth.createUser` takes, checked: the address, and a password or the hash of one
 * made by another system (never both); other fields go to the data layer.
 */
const userInput = (credentials: AuthParts["credentials"]) =>
  z
    .object({ email: emailMember, password: credentials.newPassword().optional(), passwordHash: credentials.importedHash().optional() })
    .catchall(z.unknown())
    .check((ctx) => {
      if (ctx.value.password !== undefined && ctx.value.passwordHash !== undefined) {
        ctx.issues.push({ code: "custom", path: ["passwordHash"], input: undefined, message: "Give a password or a passwordHash, not both" });
      }
    });

/**
 * Creates an account as the system (through the `users` collection) with its password, or with
 * the imported hash of one, if either is given.
 */
export async function createUser({ accounts, credentials }: Pick<AuthParts, "accounts" | "credentials">, input: unknown): Promise<Row> {
  const { password, passwordHash, ...fields } = checkBody(userInput(credentials), "Invalid user", input);
  const hash = password === undefined ? passwordHash : await credentials.hash(password);
  return accounts.transaction(async ({ db, createUser: create }) => {
    const user = await create(fields);
    if (hash !== undefined) await credentials.store(db, user["id"] as string, hash);
    return user;
  });
}
