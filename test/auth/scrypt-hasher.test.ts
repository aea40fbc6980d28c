/**
 * scryptHasher's options, as documented: logN, r and p are written in each hash, a hash made
 * with other ones still verifies and is due for rehashing, and each option is bounded.
 */
import { expect, test } from "vitest";
import { scryptHasher } from "cimiento";

const PASSWORD = "correct horse";

test("scryptHasher takes logN, r and p: they are written in the hash, a hash of other ones needs rehashing, and each is bounded", async () => {
  const hasher = scryptHasher({ logN: 10, r: 4, p: 2 });
  const hash = await hasher.hash(PASSWORD);
  expect(hash).toMatch(/^\$scrypt\$ln=10,r=4,p=2\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  expect(await hasher.verify(hash, PASSWORD)).toBe(true);
  expect(await hasher.verify(hash, `${PASSWORD}!`)).toBe(false);
  expect(hasher.needsRehash(hash)).toBe(false);
  // The same password under r = 8 or p = 1 is another hash: verified, and due for rehashing.
  for (const other of [scryptHasher({ logN: 10, r: 8, p: 2 }), scryptHasher({ logN: 10, r: 4, p: 1 })]) {
    const otherHash = await other.hash(PASSWORD);
    expect(await hasher.verify(otherHash, PASSWORD)).toBe(true);
    expect(hasher.needsRehash(otherHash)).toBe(true);
  }
  for (const parameters of [{ logN: 9 }, { logN: 25 }, { r: 0 }, { r: 33 }, { p: 0 }, { p: 17 }, { r: 1.5 }]) {
    expect(() => scryptHasher(parameters), JSON.stringify(parameters)).toThrow(RangeError);
  }
});
