/**
 * @internal Record ids: UUIDv7 (time-ordered), by the `uuid` package, with their random bits
 * drawn from a pool refilled a few kB at a time. `uuid`'s own source of randomness asks the OS
 * for 16 bytes per id (about 10 µs each on Node 20), which a create, a session or a job would pay
 * on every write.
 *
 * Ids made in one process are strictly increasing, as `uuid`'s are: within one millisecond the
 * 31-bit sequence that follows the time counts up from a random start (RFC 9562, method 1).
 * @module
 */
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

/** The random bytes of 256 ids. */
const pool = new Uint8Array(16 * 256);
let offset = pool.length;
/** The time and sequence of the last id. */
let msecs = -Infinity;
let seq = 0;

/** A new UUIDv7, greater than every id made before it by this process. */
export function newId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, (offset += 16));
  const now = Date.now();
  if (now > msecs) {
    msecs = now;
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    // The sequence ran out within one millisecond: borrow the next one, as `uuid` does.
    if (seq === 0) msecs++;
  }
  return v7({ random, msecs, seq });
}
