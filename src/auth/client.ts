/**
 * @internal Who is on the other end: the client address (behind trusted proxies only), and
 * whether a browser request comes from another origin.
 * @module
 */
import { BlockList, isIP } from "node:net";

function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
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
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  }
  return (address) => {
    const value = plain(address);
    const family = isIP(value);
    return family !== 0 && list.check(value, family === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * The client's address: the socket's, unless the socket is a trusted proxy; then the nearest
 * address in `X-Forwarded-For` that is not a trusted proxy.
 */
export function clientAddress(socket: string | undefined, forwardedFor: string | null, trusted: (address: string) => boolean): string | undefined {
  if (socket === undefined) return undefined;
  let address = plain(socket);
  if (!trusted(address) || forwardedFor === null) return address;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => isIP(plain(hop)) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    address = plain(hops[i]!);
    if (!trusted(address)) return address;
  }
  return address;
}

/** The socket address of a request served by `@hono/node-server` (its env holds the Node request). */
export function socketAddress(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/**
 * Whether a browser sent this request from another origin that is not trusted: by Fetch
 * Metadata (`Sec-Fetch-Site`) where the browser sends it, else by `Origin`. A request with
 * neither comes from outside a browser, and is not cross-origin.
 */
export function isCrossOrigin(request: Request, trustedOrigins: ReadonlySet<string>): boolean {
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

/** Whether a request is addressed to this machine (cookies may then be sent without `Secure`). */
export function isLocalRequest(request: Request): boolean {
  const host = new URL(request.url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
}
