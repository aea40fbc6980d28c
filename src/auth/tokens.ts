/**
 * @internal Opaque tokens: random, sent once, stored only as a hash.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";

/** 32 random bytes (256 bits) as base64url, with an optional prefix (`ck_` for API keys). */
export function randomToken(prefix = ""): string {
  return prefix + randomBytes(32).toString("base64url");
}

/** The SHA-256 of a token, as stored: a high-entropy token needs no salt nor slow hash. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
