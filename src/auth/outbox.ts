/**
 * @internal The messages auth sends: built from the templates and links of the options, sent
 * after the answer, failures logged.
 * @module
 */
import type { Logger } from "../define/logger.js";
import { defaultEmails, isLogMailer, loggingMailer, type Mailer, type MailMessage } from "./mail.js";
import type { BuiltInAuthOptions } from "./options.js";
import type { AuthSettings } from "./settings.js";

/** Where auth's messages go. */
export class Outbox {
  readonly #mailer: Mailer | null;
  readonly #logger: Logger;
  readonly #options: Pick<BuiltInAuthOptions, "emails" | "links">;

  constructor(options: BuiltInAuthOptions, settings: Pick<AuthSettings, "signUp" | "requireEmailVerification" | "passwordReset">, logger: Logger) {
    this.#logger = logger;
    this.#options = options;
    const production = process.env["NODE_ENV"] === "production";
    this.#mailer = options.mailer ?? (production ? null : loggingMailer(logger, "logged, not sent: no auth.mailer is set"));
    if (production) warnOfMailInProduction(options.mailer, settings, logger);
  }

  /** The mailer; a flow that needs mail fails (500, logged) rather than answer as if sent. */
  require(): Mailer {
    if (this.#mailer === null) {
      throw new Error("This authentication flow sends mail, and no mailer is set: give createBackend({ auth: { mailer } }).");
    }
    return this.#mailer;
  }

  /** Sends a message after the response: failures are logged, and never show in the answer. */
  sendLater(message: () => Promise<MailMessage | null>): void {
    const mailer = this.require();
    void (async () => {
      const mail = await message();
      if (mail !== null) await mailer.send(mail);
    })().catch((error: unknown) => this.#logger.error("Sending an authentication e-mail failed.", { error }));
  }

  /** The message that carries a one-use token, with its link. */
  withToken(kind: "verifyEmail" | "resetPassword", email: string, token: string, signUp = false): MailMessage {
    const link = this.#options.links?.[kind];
    const build = this.#options.emails?.[kind] ?? defaultEmails[kind];
    return { to: email, ...build({ email, token, url: link === undefined ? undefined : link(token, { signUp }), signUp }) };
  }

  /** The notice sent for a sign-up with an address that has an account already. */
  accountExists(email: string): MailMessage {
    const build = this.#options.emails?.accountExists ?? defaultEmails.accountExists;
    return { to: email, ...build({ email }) };
  }
}

/**
 * In production, one warning when the backend is made if a flow that is open mails through no
 * mailer (it would answer 500) or through `logMailer` (its links would go to the log). Flows
 * that are off, and `sendVerificationEmail` (called by the host, which is told when it fails),
 * warn of nothing.
 */
function warnOfMailInProduction(
  mailer: Mailer | undefined,
  settings: Pick<AuthSettings, "signUp" | "requireEmailVerification" | "passwordReset">,
  logger: Logger,
): void {
  const flows = [
    ...(settings.signUp && settings.requireEmailVerification
      ? [{ name: "sign-up with e-mail verification", off: "password.requireEmailVerification: false or password.signUp: false" }]
      : []),
    ...(settings.passwordReset ? [{ name: "password reset", off: "password.reset: false" }] : []),
  ];
  if (flows.length === 0) return;
  const open = flows.map((flow) => flow.name).join(" and ");
  const warn = (logger.warn ?? logger.error).bind(logger);
  if (mailer === undefined) {
    warn(
      `auth has no mailer and NODE_ENV is "production": the messages of ${open} cannot be sent, and those requests answer 500 ` +
        `until auth.mailer is set (or the flows are turned off: ${flows.map((flow) => flow.off).join("; ")}).`,
    );
  } else if (isLogMailer(mailer)) {
    warn(`auth.mailer is logMailer and NODE_ENV is "production": the messages of ${open} are written to the log, links and tokens included, and never sent.`);
  }
}
