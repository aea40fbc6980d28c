/**
 * Password hashing: scrypt at OWASP's parameters by default, off the event loop.
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Hashes and checks passwords. The default is {@link scryptHasher}; bring your own (argon2id,
 * say) by implementing these three methods.
 *
 * @example
 * ```ts
 * import { hash, verify } from "@node-rs/argon2";
 * const argon2: PasswordHasher = {
 *   hash: (password) => hash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 }),
 *   verify: (hashed, password) => verify(hashed, password),
 *   needsRehash: (hashed) => !hashed.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"),
 * };
 * createBackend({ collections, auth: { password: { hasher: argon2 } } });
 * ```
 */
export interface PasswordHasher {
  /** A self-describing hash of `password` (algorithm, parameters, salt and digest). */
  hash(password: string): Promise<string>;
  /** Whether `password` matches `hashed`; `false` (not a throw) for a hash it cannot read. */
  verify(hashed: string, password: string): Promise<boolean>;
  /** Whether `hashed` was made with other parameters, so it is replaced at the next sign-in. */
  needsRehash(hashed: string): boolean;
}

/**
 * The cost of {@link scryptHasher}: scrypt's three parameters. Memory is 128 × 2^logN × r bytes
 * per hash (128 MiB at the defaults) and time grows with 2^logN × r × p. OWASP's minimum is the
 * default; raise `logN` (each step doubles memory and time) rather than `r` or `p`.
 *
 * @example
 * ```ts
 * scryptHasher();                 // N = 2^17, r = 8, p = 1: $scrypt$ln=17,r=8,p=1$...
 * scryptHasher({ logN: 18 });     // twice the memory and time
 * scryptHasher({ logN: 16, p: 2 }); // OWASP's other choice: 64 MiB, two passes in turn
 * ```
 */
export interface ScryptParameters {
  /**
   * log2 of the CPU/memory cost N, from 10 to 24. OWASP's minimum, 17 (N = 2^17, 128 MiB with
   * r = 8), is the default; lower it only in tests.
   * @default 17
   */
  logN?: number;
  /**
   * The block size, from 1 to 32: memory and time grow with it as with N. 8 is what scrypt's
   * author and OWASP use.
   * @default 8
   */
  r?: number;
  /**
   * The parallelism, from 1 to 16: how many times the memory-hard step runs. Node runs them one
   * after another, so time grows with `p` and memory does not.
   * @default 1
   */
  p?: number;
}

const KEY_LENGTH = 32;

/** @internal scrypt's cost: N (a power of two), r and p. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * @internal `length` bytes of scrypt key from `secret` and `salt`. node:crypto runs scrypt on
 * libuv's thread pool: the event loop stays free.
 */
export function scryptKey(secret: string | Buffer, salt: Buffer, { N, r, p }: ScryptCost, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: 2 * 128 * r * N * p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  return scryptKey(password.normalize("NFKC"), salt, { N: 2 ** logN, r, p }, KEY_LENGTH);
}

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/**
 * scrypt password hashing (`$scrypt$ln=17,r=8,p=1$salt$digest`, salt and digest in base64url),
 * with a random 16-byte salt and a 32-byte digest of the NFKC-normalised password, computed on
 * the thread pool. Its options are scrypt's parameters, `logN` (17), `r` (8) and `p` (1): see
 * {@link ScryptParameters}; out of range, it throws a `RangeError`. Hashes made with other
 * parameters still verify, and report `needsRehash` so sign-in upgrades them.
 *
 * @example
 * ```ts
 * createBackend({ collections, auth: { password: { hasher: scryptHasher({ logN: 18, r: 8, p: 1 }) } } });
 * ```
 */
export function scryptHasher(parameters: ScryptParameters = {}): PasswordHasher {
  const logN = parameters.logN ?? 17;
  const r = parameters.r ?? 8;
  const p = parameters.p ?? 1;
  if (!Number.isInteger(logN) || logN < 10 || logN > 24) throw new RangeError("scrypt logN must be an integer from 10 to 24.");
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new RangeError("scrypt r must be an integer from 1 to 32 and p from 1 to 16.");
  }
  const prefix = `$scrypt$ln=${logN},r=${r},p=${p}$`;
  return {
    async hash(password) {
      const salt = randomBytes(16);
      const key = await derive(password, salt, logN, r, p);
      return `${prefix}${salt.toString("base64url")}$${key.toString("base64url")}`;
    },
    async verify(hashed, password) {
      const match = FORMAT.exec(hashed);
      if (match === null) return false;
      const [, ln, rr, pp, salt, digest] = match;
      const expected = Buffer.from(digest!, "base64url");
      const key = await derive(password, Buffer.from(salt!, "base64url"), Number(ln), Number(rr), Number(pp));
      return expected.length === key.length && timingSafeEqual(expected, key);
    },
    needsRehash: (hashed) => !hashed.startsWith(prefix),
  };
}
