/**
 * How addresses are read: one text per address, the address in an `X-Forwarded-For` hop, and
 * the group the per-address limit counts an address under. (Over real servers, behind a trusted
 * proxy: client-address.test.ts.)
 */
import { isIP } from "node:net";
import fc from "fast-check";
import { expect, test } from "vitest";
import { addressGrouping, canonicalAddress, hopAddress } from "../../src/auth/ip-address.js";

test("one text per address: IPv6 canonical (RFC 5952), IPv4-mapped as IPv4, zone dropped; anything else is null", () => {
  const cases: [string, string | null][] = [
    ["203.0.113.7", "203.0.113.7"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::FFFF:cb00:7107", "203.0.113.7"],
    ["0:0:0:0:0:ffff:203.0.113.7", "203.0.113.7"],
    ["fe80::1%eth0", "fe80::1"],
    ["::1", "::1"],
    ["127.1", null],
    ["010.0.0.1", null],
    ["0x7f.0.0.1", null],
    ["3232235777", null],
    ["unknown", null],
    ["", null],
  ];
  for (const [text, expected] of cases) expect([text, canonicalAddress(text)]).toEqual([text, expected]);
});

test("an X-Forwarded-For hop: an address, with or without a port (bracketed for IPv6); anything else is null", () => {
  const cases: [string, string | null][] = [
    [" 203.0.113.7 ", "203.0.113.7"],
    ["203.0.113.7:41234", "203.0.113.7"],
    ["203.0.113.7:0", "203.0.113.7"],
    ["[2001:db8::7]:41234", "2001:db8::7"],
    ["[2001:db8::7]", "2001:db8::7"],
    ["[::ffff:203.0.113.7]:80", "203.0.113.7"],
    // A bare IPv6 address is read whole: a proxy that adds a port to one brackets it.
    ["2001:db8::7:80", "2001:db8::7:80"],
    ["203.0.113.7:65536", null],
    ["203.0.113.7:123456", null],
    ["203.0.113.7:", null],
    ["[203.0.113.7]:80", null],
    ["[2001:db8::7]:", null],
    ["[2001:db8::7", null],
    ['"203.0.113.7"', null],
    ['"[2001:db8::7]:41234"', null],
    ["unknown", null],
    ["_hidden", null],
    ["", null],
  ];
  for (const [hop, expected] of cases) expect([hop, hopAddress(hop)]).toEqual([hop, expected]);
});

test("the per-address limit counts IPv6 by prefix (64 by default), IPv4 one by one, other text as it is", () => {
  const by64 = addressGrouping(64, "ipv6Prefix");
  expect(by64("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  expect(by64("2001:DB8:1:2::ffff")).toBe("2001:db8:1:2::/64");
  expect(by64("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
  expect(by64("::1")).toBe("::/64");
  expect(by64("::ffff:203.0.113.7")).toBe("203.0.113.7");
  expect(by64("203.0.113.7")).toBe("203.0.113.7");
  expect(by64("client-42")).toBe("client-42");
  expect(addressGrouping(48, "ipv6Prefix")("2001:db8:1:2::1")).toBe("2001:db8:1::/48");
  expect(addressGrouping(56, "ipv6Prefix")("2001:db8:1:2ff::1")).toBe("2001:db8:1:200::/56");
  expect(addressGrouping(128, "ipv6Prefix")("2001:DB8:0::1")).toBe("2001:db8::1");
  expect(() => addressGrouping(0, "auth.rateLimit.ipv6Prefix")).toThrow(/auth\.rateLimit\.ipv6Prefix must be an integer from 1 to 128/);
});

test("any hop text gives an address that isIP accepts, or null; never an exception (a header cannot make a 500)", () => {
  const hopLike = fc.oneof(
    fc.string(),
    fc.tuple(fc.ipV4(), fc.nat(70_000)).map(([ip, port]) => `${ip}:${port}`),
    fc.tuple(fc.ipV6(), fc.nat(70_000)).map(([ip, port]) => `[${ip}]:${port}`),
    fc.ipV6(),
    fc.ipV4Extended(),
  );
  fc.assert(
    fc.property(hopLike, (hop) => {
      const address = hopAddress(hop);
      return address === null || (isIP(address) !== 0 && canonicalAddress(address) === address);
    }),
    { numRuns: 2000 },
  );
});
