/**
 * A cookie jar for Node's fetch, which keeps no cookies: what a browser does for one origin.
 * It keeps each cookie a response sets, forgets one set to expire, and sends them back.
 */
import { setCookies } from "../auth/support.js";

export interface CookieJar {
  /** `fetch`, keeping and sending the jar's cookies. */
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
  /** The cookies kept now, by name. */
  readonly cookies: ReadonlyMap<string, string>;
}

export function cookieJar(): CookieJar {
  const cookies = new Map<string, string>();
  return {
    cookies,
    async fetch(input, init) {
      const headers = new Headers(init.headers);
      if (cookies.size > 0) headers.set("cookie", [...cookies].map(([name, value]) => `${name}=${value}`).join("; "));
      const response = await fetch(input, { ...init, headers });
      for (const cookie of setCookies(response)) {
        const maxAge = cookie.attributes["max-age"];
        const expires = cookie.attributes["expires"];
        const gone = cookie.value === "" || maxAge === "0" || (typeof expires === "string" && Date.parse(expires) <= Date.now());
        if (gone) cookies.delete(cookie.name);
        else cookies.set(cookie.name, cookie.value);
      }
      return response;
    },
  };
}
