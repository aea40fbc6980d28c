/**
 * Sending mail: the `mailer` seam, an SMTP mailer over nodemailer, and the messages auth sends.
 * @module
 */
import { loadPackage } from "../support/load-package.js";
import type { Logger } from "../define/logger.js";

type Nodemailer = typeof import("nodemailer");

/**
 * nodemailer, loaded when an SMTP mailer is made, never with cimiento itself: an app that sends
 * mail otherwise (or none) runs without it. Loaded synchronously, so that a missing package fails
 * where the mailer is made, not at the first message.
 */
function loadNodemailer(): Nodemailer {
  return loadPackage<Nodemailer>("nodemailer", "smtpMailer() sends with nodemailer, which is not installed: npm install nodemailer");
}

/** One message. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

/**
 * Sends mail. Use {@link smtpMailer}, or wrap any provider's API in one `send` method.
 *
 * @example
 * ```ts
 * const mailer: Mailer = {
 *   async send(message) {
 *     await fetch("https://api.example-mail.com/send", { method: "POST", body: JSON.stringify(message) });
 *   },
 * };
 * createBackend({ collections, auth: { password: {}, mailer } });
 * ```
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Where {@link smtpMailer} sends. */
export interface SmtpOptions {
  host: string;
  /** @default 587 (465 when `secure`) */
  port?: number;
  /** TLS from the start (port 465). Otherwise STARTTLS is used when the server offers it. @default false */
  secure?: boolean;
  auth?: { user: string; pass: string };
  /** The sender: `"Example <no-reply@example.com>"`. */
  from: string;
  /** Refuse to send without STARTTLS. @default false */
  requireTLS?: boolean;
}

/**
 * A mailer that sends through an SMTP server, with nodemailer (one pooled transport). nodemailer
 * is loaded here, not when cimiento is imported; without it installed, this throws and says so.
 *
 * @example
 * ```ts
 * import { smtpMailer } from "cimiento";
 * const mailer = smtpMailer({
 *   host: "smtp.example.com",
 *   auth: { user: "apikey", pass: process.env.SMTP_PASSWORD! },
 *   from: "Example <no-reply@example.com>",
 * });
 * ```
 */
export function smtpMailer(options: SmtpOptions): Mailer & { close(): void } {
  const transport = loadNodemailer().createTransport({
    host: options.host,
    port: options.port ?? (options.secure ? 465 : 587),
    secure: options.secure ?? false,
    requireTLS: options.requireTLS ?? false,
    pool: true,
    ...(options.auth === undefined ? {} : { auth: options.auth }),
  });
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, ...message });
    },
    close: () => transport.close(),
  };
}

/**
 * A mailer that only writes each message to the logger, as a warning, and sends nothing: for
 * development, where the links of sign-up and password reset can be copied from the console.
 * Each line says so: `Mail to ada@example.com (logged by logMailer, not sent): Reset your
 * password`. Outside production, auth logs its messages the same way when no `mailer` is given;
 * in production, a backend whose sign-up or password reset mails through it warns at start,
 * since their links would be written to the log.
 *
 * @example
 * ```ts
 * createBackend({ collections, auth: { password: {}, mailer: logMailer(console) } });
 * ```
 */
export function logMailer(logger: Logger): Mailer {
  const mailer = loggingMailer(logger, "logged by logMailer, not sent");
  logMailers.add(mailer);
  return mailer;
}

/** The mailers made by {@link logMailer}: a production backend warns when it mails through one. */
const logMailers = new WeakSet<Mailer>();

/** @internal Whether `mailer` is one of {@link logMailer}'s, which sends nothing. */
export function isLogMailer(mailer: Mailer): boolean {
  return logMailers.has(mailer);
}

/**
 * @internal A mailer that writes each message to the logger as a warning, with `note` (why it
 * is not sent) after its address.
 */
export function loggingMailer(logger: Logger, note: string): Mailer {
  return {
    async send(message) {
      (logger.warn ?? logger.error).call(logger, `Mail to ${message.to} (${note}): ${message.subject}`, { text: message.text });
    },
  };
}

/** What the messages of auth get: the link to put in them, and its token. */
export interface AuthMailContext {
  /** The address it goes to. */
  readonly email: string;
  /** The one-use token. */
  readonly token: string;
  /** `links.*` applied to the token, or `undefined` when no link is configured. */
  readonly url: string | undefined;
  /**
   * For `verifyEmail`: whether the link finishes a sign-up (its page asks for the password of
   * the new account) rather than confirm the address of an existing account. `false` otherwise.
   */
  readonly signUp: boolean;
}

/** The messages auth sends; each may be replaced. */
export interface AuthEmails {
  /** After sign-up (the link that proves the address, where the password is chosen), and from `sendVerificationEmail`. */
  verifyEmail?: (context: AuthMailContext) => Omit<MailMessage, "to">;
  /** After a reset request: the link that sets a new password. */
  resetPassword?: (context: AuthMailContext) => Omit<MailMessage, "to">;
  /** After a sign-up with an address that already has an account (instead of saying so). */
  accountExists?: (context: { readonly email: string }) => Omit<MailMessage, "to">;
}

function linkOrToken(context: AuthMailContext): string {
  return context.url ?? `Your code: ${context.token}`;
}

/** @internal The default messages. */
export const defaultEmails: Required<AuthEmails> = {
  verifyEmail: (context) => ({
    subject: "Confirm your e-mail address",
    text: context.signUp
      ? `Confirm your e-mail address and choose your password to finish signing up:\n\n${linkOrToken(context)}\n\nIf you did not sign up, ignore this message.`
      : `Confirm your e-mail address:\n\n${linkOrToken(context)}\n\nIf you did not ask for this, ignore this message.`,
  }),
  resetPassword: (context) => ({
    subject: "Reset your password",
    text: `Someone asked to reset the password of this account. To choose a new one:\n\n${linkOrToken(context)}\n\nIf it was not you, ignore this message; the password stays as it is.`,
  }),
  accountExists: () => ({
    subject: "You already have an account",
    text: "Someone tried to sign up with this e-mail address, which already has an account. If it was you, sign in, or reset your password if you forgot it. If not, ignore this message.",
  }),
};
