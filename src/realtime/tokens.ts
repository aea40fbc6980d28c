/**
 * @internal The sequences subscribers see: each event's number in the log, enciphered with a key
 * the instances sharing the database share (kept in it), one AES block per number. A subscriber
 * resumes with one, and cannot tell from two how many events came between them: the log numbers
 * the writes of every caller, and how many there were is not its to know.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { newId } from "../support/ids.js";
import { systemCollection } from "../define/collection.js";
import { field } from "../define/field.js";
import type { DialectRuntime } from "../dialects/dialect.js";

export const SECRETS_TABLE = "cimiento_secrets";

/** Secrets of the backend made once and shared by its instances through the database. */
export const secretsTable = systemCollection(SECRETS_TABLE, {
  fields: {
    name: field.text().unique(),
    /** base64url */
    value: field.text(),
  },
});

const KEY_NAME = "realtime.sequence";
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

/** Enciphers and deciphers the sequences of events. */
export class SequenceTokens {
  readonly #runtime: DialectRuntime;
  #key: Buffer | undefined;
  #loading: Promise<Buffer> | undefined;

  constructor(runtime: DialectRuntime) {
    this.#runtime = runtime;
  }

  /** Reads the key (made by the first instance that needs it); once per process. */
  async ready(): Promise<void> {
    if (this.#key !== undefined) return;
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    this.#key = await this.#loading;
  }

  async #load(): Promise<Buffer> {
    const kysely = this.#runtime.kysely;
    const now = this.#runtime.encode("datetime", new Date());
    await kysely
      .insertInto(SECRETS_TABLE)
      .values({ id: newId(), name: KEY_NAME, value: randomBytes(32).toString("base64url"), createdAt: now, updatedAt: now })
      .onConflict((conflict) => conflict.column("name").doNothing())
      .execute();
    const row = await kysely.selectFrom(SECRETS_TABLE).select("value").where("name", "=", KEY_NAME).executeTakeFirstOrThrow();
    return Buffer.from(row["value"] as string, "base64url");
  }

  /** The token of a number (after `ready`). */
  encode(sequence: number): string {
    const block = Buffer.alloc(16);
    block.writeBigUInt64BE(BigInt(sequence), 8);
    const cipher = createCipheriv("aes-256-ecb", this.#key!, null).setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]).toString("base64url");
  }

  /**
   * The number of a token (after `ready`): `null` when it is not a token's shape at all,
   * `undefined` when it is one this backend did not make (another database, a changed key).
   */
  decode(token: string): number | null | undefined {
    if (!TOKEN.test(token)) return null;
    const decipher = createDecipheriv("aes-256-ecb", this.#key!, null).setAutoPadding(false);
    const block = Buffer.concat([decipher.update(Buffer.from(token, "base64url")), decipher.final()]);
    if (block.readBigUInt64BE(0) !== 0n) return undefined;
    const sequence = block.readBigUInt64BE(8);
    return sequence > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(sequence);
  }
}
