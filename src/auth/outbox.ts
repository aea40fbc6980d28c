/**
 * @internal The messages auth sends: built from the templates and links of the options, sent
 * after the answer, failures logged.
 * @module
 */
import type { Logger } from "../define/logger.js";
import { defaultEmails, logMailer, type Mailer, type MailMessage } from "./mail.js";
import type { BuiltInAuthOptions } from "./options.js";

/** Where auth's messages go. */
export class Outbox {
  readonly #mailer: Mailer | null;
  readonly #logger: Logger;
  readonly #options: Pick<BuiltInAuthOptions, "emails" | "links">;

  constructor(options: BuiltInAuthOptions, logger: Logger) {
    this.#logger = logger;
    this.#options = options;
    this.#mailer = options.mailer ?? (process.env["NODE_ENV"] === "production" ? null : logMailer(logger));
    if (this.#mailer === null) {
      (logger.warn ?? logger.error).call(
        logger,
        "auth has no mailer: sign-up with verification, password reset and verification e-mails will fail until auth.mailer is set.",
      );
    }
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
