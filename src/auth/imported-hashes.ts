/**
 * @internal Password hashes made by another system, imported with their accounts
 * (`backend.auth.createUser({ email, passwordHash })`): recognised strictly, their cost bounded,
 * checked at sign-in by the library of their algorithm (loaded when a hash of it is first met),
 * and then replaced by the backend's own hasher.
 * @module
 */
import { loadPackage } from "../support/load-package.js";
import { timingSafeEqual } from "node:crypto";
import { scryptKey, type ScryptCost } from "./password.js";

type Bcryptjs = typeof import("bcryptjs");
type NodeRsArgon2 = typeof import("@node-rs/argon2");

/**
 * The most work an imported hash may ask of each sign-in, so that a hostile or careless import
 * cannot make sign-in burn the CPU or the memory. Each is about one to three times the work of
 * the default hasher (scrypt, N = 2^17, r = 8: 128 MiB).
 */
export const IMPORT_LIMITS = {
  /** bcrypt's cost (log2 of its rounds); Symfony's default is 13, Laravel's and Rails' 12. */
  bcryptCost: 14,
  /** scrypt's 128 × N × r × p, in bytes: its memory, and its time. */
  scryptWork: 256 * 1024 * 1024,
  /** argon2's memory (`m`, in KiB): 256 MiB. */
  argon2Memory: 256 * 1024,
  /** argon2's memory × passes (`m` × `t`, in KiB): libsodium's "moderate", 256 MiB × 3. */
  argon2Work: 3 * 256 * 1024,
} as const;

/** The prefix of an imported hash as stored in `cimiento_credentials`, until it is replaced. */
export const IMPORTED_PREFIX = "imported:";

/** The algorithms of imported hashes. */
export type ImportedAlgorithm = "bcrypt" | "argon2" | "scrypt";

/** An imported hash, recognised: what it is, and how to check a password against it. */
export interface ImportedHash {
  readonly algorithm: ImportedAlgorithm;
  /** Loads the library its check needs; throws, saying what to install, when it is missing. */
  prepare(): void;
  /** Whether `password` (as typed: not normalised) matches the hash. */
  verify(password: string): Promise<boolean>;
}

/** What each format looks like, for messages. */
export const IMPORTED_FORMATS =
  "bcrypt ($2a$, $2b$, $2y$), argon2id or argon2i in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash), " +
  "or scrypt in PHC form ($scrypt$ln=...,r=...,p=...$salt$hash), libsodium's ($7$...) or Django's (scrypt$...)";

/** A verifier library, loaded on first use; a clear error when it is not installed. */
function library<T>(name: string, algorithm: ImportedAlgorithm): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= loadPackage<T>(name, `Imported ${algorithm} hashes are checked with ${name}, which is not installed: npm install ${name}`));
}

const bcryptjs = library<Bcryptjs>("bcryptjs", "bcrypt");
const argon2 = library<NodeRsArgon2>("@node-rs/argon2", "argon2");

/** Thrown by {@link parseImportedHash}: why a hash cannot be imported. */
class Refused extends Error {}

const refuse = (message: string): never => {
  throw new Refused(message);
};

/** The bytes of standard or URL-safe base64 without padding (one alphabet per string); `null` when malformed. */
function unpaddedBase64(text: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)$/.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, /[-_]/.test(text) ? "base64url" : "base64");
}

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

function bcrypt(hash: string): ImportedHash {
  const cost = Number(BCRYPT.exec(hash)?.[1] ?? refuse("Not a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost, $, then 53 characters of salt and hash"));
  if (cost < 4 || cost > 31) refuse(`A bcrypt cost is from 4 to 31, not ${cost}`);
  if (cost > IMPORT_LIMITS.bcryptCost) refuse(`bcrypt cost ${cost} is above ${IMPORT_LIMITS.bcryptCost}, the most an imported hash may ask of a sign-in`);
  return { algorithm: "bcrypt", prepare: () => void bcryptjs(), verify: (password) => bcryptjs().compare(password, hash) };
}

const ARGON2 = /^\$argon2(?:id|i)\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,86})\$([A-Za-z0-9+/]{22,86})$/;

function argon2Hash(hash: string): ImportedHash {
  const match = ARGON2.exec(hash) ?? refuse("Not an argon2id or argon2i hash in PHC form: $argon2id$v=19$m=...,t=...,p=...$salt$hash");
  const [memory, passes, lanes] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (unpaddedBase64(match[4]!) === null || unpaddedBase64(match[5]!) === null) refuse("The salt or the hash of this argon2 hash is not base64");
  if (passes < 1 || lanes < 1 || memory < 8 * lanes) refuse("An argon2 hash has t ≥ 1, p ≥ 1 and m ≥ 8 × p");
  if (memory > IMPORT_LIMITS.argon2Memory || memory * passes > IMPORT_LIMITS.argon2Work) {
    refuse(`argon2 m=${memory},t=${passes} asks more than an imported hash may of a sign-in: m at most ${IMPORT_LIMITS.argon2Memory} (256 MiB), m × t at most ${IMPORT_LIMITS.argon2Work}`);
  }
  return {
    algorithm: "argon2",
    prepare: () => void argon2(),
    async verify(password) {
      const { verify } = argon2();
      try {
        return await verify(hash, password);
      } catch {
        return false; // a hash the library cannot read matches no password
      }
    },
  };
}

/** The cost of an imported scrypt hash, checked against the limit. */
function scryptCost(N: number, r: number, p: number): ScryptCost {
  if (!Number.isSafeInteger(N) || N < 2 || (N & (N - 1)) !== 0 || !Number.isSafeInteger(r) || r < 1 || !Number.isSafeInteger(p) || p < 1) {
    refuse("A scrypt hash has N a power of two above 1, and r and p of at least 1");
  }
  if (128 * N * r * p > IMPORT_LIMITS.scryptWork) {
    refuse(`scrypt N=${N},r=${r},p=${p} asks more than an imported hash may of a sign-in: 128 × N × r × p at most 256 MiB`);
  }
  return { N, r, p };
}

/** A scrypt hash: the password as typed, in UTF-8, against `digest`. */
function scryptHash(salt: Buffer, digest: Buffer, cost: ScryptCost): ImportedHash {
  if (salt.length < 1 || salt.length > 64 || digest.length < 16 || digest.length > 64) {
    refuse("A scrypt hash has a salt of 1 to 64 bytes and a digest of 16 to 64");
  }
  return {
    algorithm: "scrypt",
    prepare: () => {},
    async verify(password) {
      const key = await scryptKey(Buffer.from(password, "utf8"), salt, cost, digest.length);
      return timingSafeEqual(key, digest);
    },
  };
}

// PHC: passlib, RustCrypto's scrypt, @phc/scrypt (standard base64), and the URL-safe alphabet.
const SCRYPT_PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,4}),p=(\d{1,4})\$([A-Za-z0-9+/_-]+)\$([A-Za-z0-9+/_-]+)$/;

function scryptPhc(hash: string): ImportedHash {
  const match = SCRYPT_PHC.exec(hash) ?? refuse("Not a scrypt hash in PHC form: $scrypt$ln=...,r=...,p=...$salt$hash");
  const salt = unpaddedBase64(match[4]!);
  const digest = unpaddedBase64(match[5]!);
  const mixed = /[+/]/.test(match[4]! + match[5]!) && /[-_]/.test(match[4]! + match[5]!);
  if (salt === null || digest === null || mixed) refuse("The salt and the hash of this scrypt hash are not base64 (one alphabet, no padding)");
  return scryptHash(salt!, digest!, scryptCost(2 ** Number(match[1]), Number(match[2]), Number(match[3])));
}

// libsodium's crypto_pwhash_scryptsalsa208sha256_str (and PHP's sodium_ functions of that name):
// "$7$", log2 N in one character, r and p in five each, the salt (used as written), "$", and
// 32 bytes of hash, all in crypt's base64 alphabet, least significant bits first.
const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SCRYPT_LIBSODIUM = /^\$7\$([./0-9A-Za-z])([./0-9A-Za-z]{5})([./0-9A-Za-z]{5})([./0-9A-Za-z]{1,64})\$([./0-9A-Za-z]{43})$/;

/** The number written by `text` in crypt's base64, least significant character first. */
const itoa64Number = (text: string) => [...text].reduce((value, char, i) => value + ITOA64.indexOf(char) * 2 ** (6 * i), 0);

/** The bytes written by `text` in crypt's base64: each 4 characters are 3 bytes, least significant first. */
function itoa64Bytes(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 4) {
    const group = text.slice(i, i + 4);
    const value = itoa64Number(group);
    for (let k = 0; k < Math.floor((group.length * 6) / 8); k++) bytes.push(Math.floor(value / 2 ** (8 * k)) % 256);
  }
  return Buffer.from(bytes);
}

function scryptLibsodium(hash: string): ImportedHash {
  const match = SCRYPT_LIBSODIUM.exec(hash) ?? refuse("Not a libsodium scrypt hash: $7$, 11 characters of parameters, the salt, $ and 43 characters of hash");
  const logN = ITOA64.indexOf(match[1]!);
  if (logN < 1 || logN > 62) refuse("A libsodium scrypt hash has log2 N from 1 to 62");
  const cost = scryptCost(2 ** logN, itoa64Number(match[2]!), itoa64Number(match[3]!));
  return scryptHash(Buffer.from(match[4]!, "ascii"), itoa64Bytes(match[5]!), cost);
}

// Django's ScryptPasswordHasher: scrypt$N$salt$r$p$hash, the salt used as written, the hash in
// padded base64 (64 bytes).
const SCRYPT_DJANGO = /^scrypt\$(\d{1,10})\$([\x21-\x23\x25-\x7e]{1,64})\$(\d{1,4})\$(\d{1,4})\$([A-Za-z0-9+/]{20,86}={0,2})$/;

function scryptDjango(hash: string): ImportedHash {
  const match = SCRYPT_DJANGO.exec(hash) ?? refuse("Not a Django scrypt hash: scrypt$N$salt$r$p$hash");
  if (match[5]!.length % 4 !== 0) refuse("The hash of this Django scrypt hash is not padded base64");
  const cost = scryptCost(Number(match[1]), Number(match[3]), Number(match[4]));
  return scryptHash(Buffer.from(match[2]!, "ascii"), Buffer.from(match[5]!, "base64"), cost);
}

/**
 * An imported hash, recognised by its prefix and then checked strictly; a string saying why
 * when it is none that cimiento can check, or when it asks too much of a sign-in
 * ({@link IMPORT_LIMITS}).
 */
export function parseImportedHash(hash: string): ImportedHash | string {
  try {
    if (hash.length > 512) return "A password hash has at most 512 characters";
    if (/^\$2[a-z]\$/.test(hash)) return bcrypt(hash);
    if (hash.startsWith("$argon2")) return argon2Hash(hash);
    if (hash.startsWith("$scrypt$")) return scryptPhc(hash);
    if (hash.startsWith("$7$")) return scryptLibsodium(hash);
    if (hash.startsWith("scrypt$")) return scryptDjango(hash);
    return `Not a password hash cimiento can import. It takes ${IMPORTED_FORMATS}`;
  } catch (error) {
    if (error instanceof Refused) return error.message;
    throw error;
  }
}
