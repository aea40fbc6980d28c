/**
 * @internal Who is on the other end: the client address (behind trusted proxies only), whether
 * the connection comes straight from this machine, and whether a browser request comes from
 * another origin.
 * @module
 */
import { BlockList, isIP } from "node:net";
import { canonicalAddress, hopAddress } from "./ip-address.js";

/** The BlockList family of a canonical address. */
function typeOf(canonical: string): "ipv4" | "ipv6" {
  return canonical.includes(":") ? "ipv6" : "ipv4";
}

/** A matcher of trusted proxy addresses and CIDR ranges; throws on a malformed entry. */
export function proxyMatcher(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const family = isIP(address ?? "");
    if (family === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
      throw new TypeError(`auth.trustedProxies: "${entry}" is not an address nor a CIDR range.`);
    }
    if (bits !== undefined) list.addSubnet(address!, Number(bits), family === 4 ? "ipv4" : "ipv6");
    else {
      const canonical = canonicalAddress(address!)!;
      list.addAddress(canonical, typeOf(canonical));
    }
  }
  return (address) => {
    const value = canonicalAddress(address);
    return value !== null && list.check(value, typeOf(value));
  };
}

/**
 * The client's address: the socket's, unless the socket is a trusted proxy; then the nearest
 * `X-Forwarded-For` hop that is not a trusted proxy. Proxies append, so the hops are read from
 * the nearest: each one was written by the trusted proxy after it. A hop that is not an address
 * ends the walk at the trusted proxy that wrote it, which is then the client: skipping the hop
 * would let an entry the client wrote itself, further left, be taken for its address.
 */
export function clientAddress(socket: string | undefined, forwardedFor: string | null, trusted: (address: string) => boolean): string | undefined {
  if (socket === undefined) return undefined;
  let address = canonicalAddress(socket) ?? socket;
  if (forwardedFor === null || !trusted(address)) return address;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    if (hop === null) return address;
    address = hop;
    if (!trusted(address)) return address;
  }
  return address;
}

/** The socket of a request served by `@hono/node-server` (its env holds the Node request). */
function socketOf(env: unknown): { remoteAddress?: string; encrypted?: boolean } | undefined {
  return (env as { incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } } } | undefined)?.incoming?.socket;
}

/** The socket address of a request served by `@hono/node-server`. */
export function socketAddress(env: unknown): string | undefined {
  return socketOf(env)?.remoteAddress;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * Whether a request came straight from this machine over plain HTTP: its socket is not TLS and
 * its peer is a loopback address that is not a trusted proxy. Decided by the socket alone, never
 * by a header: a proxy on the same machine sends `Host: localhost:3000` too (nginx does with
 * `proxy_pass http://localhost:3000`). Without a socket (`backend.fetch` alone), it is not.
 */
export function isPlainLoopback(env: unknown, trusted: (address: string) => boolean): boolean {
  const socket = socketOf(env);
  if (socket?.remoteAddress === undefined || socket.encrypted === true) return false;
  const address = canonicalAddress(socket.remoteAddress);
  return address !== null && LOOPBACK.check(address, typeOf(address)) && !trusted(address);
}

/**
 * Whether a browser sent this request from another origin that is not trusted: by Fetch
 * Metadata (`Sec-Fetch-Site`) where the browser sends it, else by `Origin`. A request with
 * neither comes from outside a browser, and is not cross-origin.
 */
export function isCrossOrigin(request: { readonly headers: { get(name: string): string | null }; readonly url: string }, trustedOrigins: ReadonlySet<string>): boolean {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (origin !== null && trustedOrigins.has(origin)) return false;
  if (site !== null) return site !== "same-origin" && site !== "none";
  if (origin === null) return false;
  try {
    return new URL(origin).host !== new URL(request.url).host;
  } catch {
    return true;
  }
}
