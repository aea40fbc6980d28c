/**
 * Helpers of the auth suites: a real SMTP server on loopback that collects what the backend
 * mails, a cheap hasher, a logger that keeps what it is told, a dump of every table of a
 * database, and small request helpers.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { sql, type Kysely } from "kysely";
import { scryptHasher, smtpMailer, type Logger, type Mailer } from "cimiento";

/** The cheapest scrypt the hasher accepts: suites that do not measure time use it. */
export const fastHasher = scryptHasher({ logN: 10 });

/** A password that passes the default length rule. */
export const PASSWORD = "correct horse battery staple";

/** One message received by the SMTP server. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** A real SMTP server on 127.0.0.1 (no TLS, no auth) and a `smtpMailer` that sends to it. */
export interface Mailbox {
  readonly mailer: Mailer & { close(): void };
  readonly port: number;
  /** Every message received so far, in order. */
  readonly received: readonly ReceivedMail[];
  /**
   * The next message to `to` not yet taken by `next`; waits for it (at most `timeoutMs`),
   * and fails when none comes.
   */
  next(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Whether a message to `to` arrives within `ms` (for "nothing is sent" checks). */
  nothingFor(to: string, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const listeners = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(", ") : (parsed.to?.text ?? "");
          received.push({ from: parsed.from?.text ?? "", to, subject: parsed.subject ?? "", text: parsed.text ?? "" });
          for (const listener of [...listeners]) listener();
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const mailer = smtpMailer({ host: "127.0.0.1", port, secure: false, from: "test@example.com" });
  const find = (to: string) => received.find((mail) => !taken.has(mail) && mail.to.toLowerCase().includes(to.toLowerCase()));
  return {
    mailer,
    port,
    received,
    next(to, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = find(to);
          if (mail === undefined) return false;
          taken.add(mail);
          listeners.delete(check);
          clearTimeout(timer);
          resolve(mail);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`No mail to ${to} within ${timeoutMs} ms (received: ${received.map((m) => `${m.to}: ${m.subject}`).join("; ") || "none"}).`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
      });
    },
    async nothingFor(to, ms) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return find(to) === undefined;
    },
    async close() {
      mailer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The token in a message of the default templates (`Your code: <token>`). */
export function tokenIn(mail: ReceivedMail): string {
  const match = /Your code: ([A-Za-z0-9_-]{43})/.exec(mail.text);
  if (match === null) throw new Error(`No token in the message "${mail.subject}": ${mail.text}`);
  return match[1]!;
}

/** A logger that keeps what it is told (and says nothing). */
export function recordingLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    error: (message, details) => void errors.push(`${message} ${details === undefined ? "" : safeJson(details)}`),
    warn: (message, details) => void warnings.push(`${message} ${details === undefined ? "" : safeJson(details)}`),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  } catch {
    return String(value);
  }
}

/**
 * Every row of every table of the backend's database (in its schema), every column, as one
 * string: what an attacker with a copy of the database sees.
 */
export async function dumpDatabase(db: Kysely<any>): Promise<{ tables: string[]; text: string }> {
  const tables = (await db.introspection.getTables()).map((table) => table.name).sort();
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    parts.push(`== ${table}\n${rows.rows.map((row) => JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("latin1") : typeof v === "bigint" ? String(v) : v))).join("\n")}`);
  }
  return { tables, text: parts.join("\n") };
}

/** The cookie of `name` in a response's Set-Cookie headers: its value and attributes. */
export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names lower-cased; flag attributes have the value `true`. */
  readonly attributes: Record<string, string | true>;
}

export function setCookies(response: Response): SetCookie[] {
  return response.headers.getSetCookie().map((line) => {
    const [pair, ...rest] = line.split(";");
    const at = pair!.indexOf("=");
    const attributes: Record<string, string | true> = {};
    for (const part of rest) {
      const trimmed = part.trim();
      if (trimmed === "") continue;
      const eq = trimmed.indexOf("=");
      if (eq === -1) attributes[trimmed.toLowerCase()] = true;
      else attributes[trimmed.slice(0, eq).toLowerCase()] = trimmed.slice(eq + 1);
    }
    return { name: pair!.slice(0, at).trim(), value: pair!.slice(at + 1).trim(), attributes };
  });
}

export function cookieNamed(response: Response, name: string): SetCookie | undefined {
  return setCookies(response).find((cookie) => cookie.name === name);
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A unique e-mail address for a test. */
let serial = 0;
export function uniqueEmail(label = "user"): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${serial++}@example.com`;
}

/** The median of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Sleeps. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The base64url alphabet of a 32-byte token: exactly 43 characters. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
export const API_KEY_SHAPE = /^ck_[A-Za-z0-9_-]{43}$/;
