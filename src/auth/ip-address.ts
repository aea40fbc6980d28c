/**
 * @internal IP addresses as the client address and the per-address limit read them: one text
 * per address, the address of an `X-Forwarded-For` hop, and the group an address counts in.
 * Validation is `node:net`'s `isIP` (no `127.1`, no octal or hex IPv4) and the canonical IPv6
 * text is WHATWG URL's (RFC 5952: lowercase, the longest run of zeros compressed).
 * @module
 */
import { isIP } from "node:net";

/** Groups of an IPv4-mapped IPv6 address, as WHATWG URL writes it (`::ffff:102:304`). */
const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The one text of an IP address: IPv6 in its canonical form, an IPv4-mapped IPv6 address as the
 * IPv4 address it is, a zone (`%eth0`, a local interface's name) dropped; `null` for anything
 * that is not an address.
 */
export function canonicalAddress(text: string): string | null {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return null;
  let canonical: string;
  try {
    canonical = new URL(`http://[${text.replace(/%.*$/s, "")}]`).hostname.slice(1, -1);
  } catch {
    // Never seen (isIP and URL agree on every IPv6 form), but a header must not make a 500.
    return null;
  }
  const mapped = MAPPED.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * The client address a host's value stands for (`auth.clientAddress`, `backend.auth.signIn`'s
 * client): its canonical text when it is an IP address, `undefined` (no address) for anything
 * else. What a client can write (a header) never becomes a rate-limit key or a session's address
 * as it is: it would make keys of any length, and any number of them.
 */
export function clientAddressOf(text: string | undefined): string | undefined {
  return text === undefined ? undefined : (canonicalAddress(text) ?? undefined);
}

function isPort(text: string | undefined): boolean {
  return text === undefined || Number(text) <= 65_535;
}

/**
 * The address in one `X-Forwarded-For` hop, as proxies write them: `203.0.113.7`,
 * `2001:db8::7`, and with a port `203.0.113.7:41234` or `[2001:db8::7]:41234` (Azure and some
 * load balancers); `null` for anything else (`unknown`, an obfuscated name, a quoted string).
 * A bare IPv6 address is read whole: a proxy that adds a port to one brackets it.
 */
export function hopAddress(hop: string): string | null {
  const text = hop.trim();
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed !== null) return isIP(bracketed[1]!) === 6 && isPort(bracketed[2]) ? canonicalAddress(bracketed[1]!) : null;
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(text);
  if (withPort !== null) return isIP(withPort[1]!) === 4 && isPort(withPort[2]) ? withPort[1]! : null;
  return canonicalAddress(text);
}

/** The first `bits` of an IPv6 address (canonical text), as the canonical text of that network. */
function ipv6Network(canonical: string, bits: number): string {
  const [head = "", tail] = canonical.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const masked = groups.map((group, i) => {
    const kept = Math.min(16, Math.max(0, bits - 16 * i));
    return (parseInt(group, 16) & ((0xffff << (16 - kept)) & 0xffff)).toString(16);
  });
  return new URL(`http://[${masked.join(":")}]`).hostname.slice(1, -1);
}

/**
 * What the per-address limit counts an address under: an IPv4 address (an IPv4-mapped one too)
 * alone, an IPv6 address by its first `ipv6Prefix` bits (`2001:db8:1:2::/64`), since one
 * subscriber commonly holds a whole /64 and can use any address in it; 128 counts each IPv6
 * address alone. Text that is not an address is not counted (see `clientAddressOf`); were it
 * given, it would count as it is.
 * Throws on a prefix length that is not an integer from 1 to 128.
 */
export function addressGrouping(ipv6Prefix: number, name: string): (address: string) => string {
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 1 || ipv6Prefix > 128) {
    throw new TypeError(`${name} must be an integer from 1 to 128 (a prefix length; 128 counts each IPv6 address alone).`);
  }
  return (address) => {
    const canonical = canonicalAddress(address);
    if (canonical === null) return address;
    if (!canonical.includes(":") || ipv6Prefix === 128) return canonical;
    return `${ipv6Network(canonical, ipv6Prefix)}/${ipv6Prefix}`;
  };
}
