/**
 * `createClient()`: the HTTP API of a backend, typed from the backend's type alone.
 * @module
 */
import { ApiError } from "./api-error.js";
import { queryString } from "./query.js";
import { subscription } from "./subscription.js";
import type { ActionRoute, Client, ClientOptions } from "./types.js";

type Json = Record<string, unknown>;

/** The error a failed answer stands for: its problem document, or what can be said without one. */
async function errorOf(response: Response): Promise<ApiError> {
  let problem: Json = {};
  try {
    const body: unknown = await response.json();
    if (typeof body === "object" && body !== null) problem = body as Json;
  } catch {
    // Not JSON (a proxy's page, say): the status alone speaks.
  }
  const code = typeof problem["code"] === "string" ? problem["code"] : `HTTP_${response.status}`;
  const detail = typeof problem["detail"] === "string" ? problem["detail"] : `${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, code, detail, problem);
}

/** Fills a binding's `:params` from the input; the rest of the input is what remains. */
function bind(path: string, input: unknown): { path: string; rest: unknown } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { path, rest: input };
  const rest: Json = { ...(input as Json) };
  const filled = path.replace(/:(\w+)(\{[^}]*\})?\??/g, (_match, name: string) => {
    const value = rest[name];
    if (value === undefined) throw new TypeError(`The input has no "${name}" for the path ${path}.`);
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  return { path: filled, rest };
}

/** Query parameters of an action bound to GET or DELETE: a list is the name given once per item. */
function actionQuery(input: unknown): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries((input ?? {}) as Json)) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) params.append(name, String(item));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/**
 * A client of a backend's HTTP API, typed from the backend's type alone: import the type, never
 * the backend (`import type`). It imports nothing from Node and has no dependency: it runs in
 * browsers, Node, Deno, Bun and workers. Every failed call throws an {@link ApiError}.
 *
 * @example
 * ```ts
 * import { createClient } from "cimiento/client";
 * import type { backend } from "../server/backend.js";
 *
 * const client = createClient<typeof backend>({ baseUrl: "/api", credentials: "include" });
 * await client.auth.signIn({ email, password });
 * const { items } = await client.collections.posts.list({ where: { published: true }, include: { author: true } });
 * await client.actions.publish({ id: items[0]!.id });
 * ```
 */
export function createClient<B>(options: ClientOptions<B>): Client<B> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const send = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  let token = options.token ?? null;
  const keep = (answer: unknown) => {
    if (options.keepToken && typeof (answer as Json)["token"] === "string") token = (answer as Json)["token"] as string;
    return answer;
  };
  const forget = () => {
    if (options.keepToken) token = null;
  };

  /** One request: JSON in, the response out, an ApiError for a failure. */
  async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers = new Headers(typeof options.headers === "function" ? await options.headers() : options.headers);
    headers.set("accept", signal ? "text/event-stream" : "application/json");
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    const init: RequestInit = { method, headers };
    if (options.credentials !== undefined) init.credentials = options.credentials;
    if (signal) init.signal = signal;
    if (body !== undefined) {
      headers.set("content-type", "application/json");
      init.body = JSON.stringify(body);
    }
    const response = await send(base + path, init);
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  /** One call: JSON in, JSON out (`undefined` for 204), an ApiError for a failure. */
  async function call(method: string, path: string, body?: unknown): Promise<any> {
    const response = await request(method, path, body);
    return response.status === 204 ? undefined : response.json();
  }

  /**
   * `GET /collections/:name/subscribe`, requested at once: an iterator of its events, whose
   * `return` and `close` abort the request; or, with `onEvent`, its events given to `onEvent`
   * once the first has come.
   */
  function subscribe(name: string, { after, ...query }: Json = {}, onEvent?: (event: unknown) => void) {
    const controller = new AbortController();
    const path = `/collections/${encodeURIComponent(name)}/subscribe`;
    const events = subscription(
      (from, signal) => request("GET", path + queryString({ ...query, after: from }), undefined, signal),
      after as string | undefined,
      controller.signal,
    );
    // The first event is asked for now, so that the subscription starts before it is iterated;
    // its refusal is the first next()'s, and no unhandled rejection when nobody asks.
    let first: Promise<IteratorResult<Json>> | undefined = events.next();
    first.catch(() => {});
    const iterator = {
      next() {
        const next = first ?? events.next();
        first = undefined;
        return next;
      },
      return() {
        controller.abort();
        return events.return();
      },
      close() {
        void iterator.return();
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    if (onEvent === undefined) return iterator;
    return iterator.next().then((head) => {
      void (async () => {
        for (let next = head; !next.done; next = await events.next()) {
          try {
            onEvent(next.value);
          } catch (error) {
            // As an EventSource listener's: reported, and the events go on.
            setTimeout(() => {
              throw error;
            });
          }
        }
      })();
      return iterator.close;
    });
  }

  const records = (name: string) => `/collections/${encodeURIComponent(name)}/records`;
  const record = (name: string, id: string) => `${records(name)}/${encodeURIComponent(id)}`;
  const collection = (name: string) => ({
    list: (query?: Json) => call("GET", records(name) + queryString(query)),
    async *all(query?: Json) {
      let cursor: string | null = null;
      do {
        const page: { items: unknown[]; nextCursor: string | null } = await call("GET", records(name) + queryString({ ...query, cursor }));
        yield* page.items;
        cursor = page.nextCursor;
      } while (cursor !== null);
    },
    get: (id: string, query?: Json) =>
      call("GET", record(name, id) + queryString(query)).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === "NOT_FOUND") return null;
        throw error;
      }),
    create: (data: unknown, query?: Json) => call("POST", records(name) + queryString(query), data),
    update: (id: string, data: unknown, query?: Json) => call("PATCH", record(name, id) + queryString(query), data),
    delete: (id: string) => call("DELETE", record(name, id)),
    subscribe: (query?: Json, onEvent?: (event: unknown) => void) => subscribe(name, query, onEvent),
  });

  const routes = (options.actionRoutes ?? {}) as Record<string, ActionRoute | undefined>;
  const action = (name: string) => async (input: unknown) => {
    const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
    if (route === undefined) return call("POST", `/actions/${encodeURIComponent(name)}`, input ?? {});
    const method = route.method ?? "POST";
    const { path, rest } = bind(route.path, input);
    return method === "GET" || method === "DELETE" ? call(method, path + actionQuery(rest)) : call(method, path, rest ?? {});
  };

  /** An object whose members are made on first use, by name (collections and actions are not known at run time). */
  const byName = <T>(make: (name: string) => T) => {
    const made = new Map<string, T>();
    return new Proxy(Object.create(null) as object, {
      // "then" is never a member: awaiting the object (or a promise of it) must not call anything.
      get: (_target, name) => {
        if (typeof name !== "string" || name === "then") return undefined;
        if (!made.has(name)) made.set(name, make(name));
        return made.get(name);
      },
    });
  };

  const post = (path: string) => (body?: unknown) => call("POST", `/auth/${path}`, body);
  const client = {
    collections: byName(collection),
    actions: byName(action),
    auth: {
      signUp: (input: unknown) => post("sign-up")(input).then(keep),
      signIn: (input: unknown) => post("sign-in")(input).then(keep),
      verifyEmail: (input: unknown) => post("verify-email")(input).then(keep),
      // Signed out even when the server refuses the token (expired, revoked): it is forgotten.
      signOut: () => post("sign-out")().finally(forget),
      session: () =>
        call("GET", "/auth/session").catch((error: unknown) => {
          if (error instanceof ApiError && error.code === "UNAUTHORIZED") return null;
          throw error;
        }),
      revokeAll: () =>
        post("revoke-all")().then((answer: unknown) => {
          forget();
          return answer;
        }),
      changePassword: post("change-password"),
      requestPasswordReset: post("request-password-reset"),
      resetPassword: post("reset-password"),
      apiKeys: {
        list: () => call("GET", "/auth/api-keys").then((answer: { items: unknown[] }) => answer.items),
        create: post("api-keys"),
        revoke: (id: string) => call("DELETE", `/auth/api-keys/${encodeURIComponent(id)}`),
      },
    },
    get token() {
      return token;
    },
    setToken(value: string | null) {
      token = value;
    },
  };
  return client as unknown as Client<B>;
}
