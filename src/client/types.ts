/**
 * The types of `cimiento/client`, inferred from the type of a backend: the records, inputs,
 * filters and options of the data layer, as they travel over HTTP (JSON, dates as ISO strings),
 * for a caller (no hidden fields).
 * @module
 */
import type { Backend, UsersOf } from "../backend/create-backend.js";
import type { SignUpInput } from "../define/action.js";
import type { ApiKeyInfo, CreateApiKeyInput, SessionInfo } from "../define/auth-api.js";
import type { ActionInput, ActionOutput, AnyAction } from "../define/handles.js";
import type { HttpMethod } from "../define/action.js";
import type { Subscription } from "../define/scope.js";
import type {
  CreateInput,
  ListOptions,
  Page,
  Readable,
  ReadOptions,
  RecordOf,
  Schema,
  SubscribeOptions,
  SubscriptionEvent,
  UpdateInput,
} from "../define/types.js";

/**
 * A value as it comes back from JSON: a `Date` becomes its ISO 8601 string, the rest keeps its
 * shape.
 *
 * @example
 * ```ts
 * type Wire = Jsonified<{ at: Date; tags: string[] }>; // { at: string; tags: string[] }
 * ```
 */
export type Jsonified<T> = T extends Date
  ? string
  : T extends readonly (infer E)[]
    ? Jsonified<E>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** The collections of a backend's type. */
export type SchemaOfBackend<B> = B extends Backend<infer S, infer _D, infer _A, infer _J> ? S : never;
/** The actions of a backend's type. */
export type ActionsOfBackend<B> = B extends Backend<infer _S, infer _D, infer A, infer _J> ? A : never;

type Counted<O> = O extends { count: true } ? true : false;

/**
 * `select` of the fields a caller may read: a `hidden()` field is not one (the server answers
 * `400 INVALID_QUERY`), so naming it is a compile error.
 */
type CallerSelect<S extends Schema, N extends keyof S & string> = { select?: readonly (keyof Readable<S[N]> & string)[] };

/** A record of collection `N` as the API answers a caller: `select`/`include` applied, no hidden field, dates as strings. */
export type ClientRecord<S extends Schema, N extends keyof S & string, O = {}> = Jsonified<RecordOf<S, N, O, "caller">>;

/** The options of `all()`: those of `list` but the page position, which `all` keeps itself. */
export type AllOptions<S extends Schema, N extends keyof S & string> = Omit<ListOptions<S, N>, "cursor" | "offset" | "count">;

/**
 * The routes of one collection. The options and inputs are the data layer's, for a caller; the
 * records are those of `backend.as(user).data`, as JSON.
 *
 * @example
 * ```ts
 * const page = await client.collections.posts.list({ where: { published: true }, orderBy: { createdAt: "desc" }, limit: 20 });
 * ```
 */
export interface CollectionClient<S extends Schema, N extends keyof S & string> {
  /**
   * `GET /collections/:name/records`: a page, `{ items, nextCursor }` (and `total` with
   * `count: true`).
   * @example
   * ```ts
   * const { items, nextCursor } = await client.collections.posts.list({ where: { title: { contains: "SQL" } }, limit: 20 });
   * ```
   */
  list<const O extends ListOptions<S, N> & CallerSelect<S, N> = {}>(options?: O): Promise<Jsonified<Page<RecordOf<S, N, O, "caller">, Counted<O>>>>;
  /**
   * Every record matching the options, page after page (each page one request, of `limit`
   * records), as an async iterator.
   * @example
   * ```ts
   * for await (const post of client.collections.posts.all({ where: { published: true } })) console.log(post.title);
   * ```
   */
  all<const O extends AllOptions<S, N> & CallerSelect<S, N> = {}>(options?: O): AsyncGenerator<ClientRecord<S, N, O>, void, undefined>;
  /**
   * `GET /collections/:name/records/:id`: the record, or `null` when there is none the caller
   * may see (`404 NOT_FOUND`).
   * @example
   * ```ts
   * const post = await client.collections.posts.get(id, { include: { author: true } });
   * ```
   */
  get<const O extends ReadOptions<S, N> & CallerSelect<S, N> = {}>(id: string, options?: O): Promise<ClientRecord<S, N, O> | null>;
  /**
   * `POST /collections/:name/records`: creates a record and returns it.
   * @example
   * ```ts
   * const post = await client.collections.posts.create({ title: "Hello", slug: "hello" });
   * ```
   */
  create<const O extends ReadOptions<S, N> & CallerSelect<S, N> = {}>(data: CreateInput<S[N], "caller">, options?: O): Promise<ClientRecord<S, N, O>>;
  /**
   * `PATCH /collections/:name/records/:id`: changes the given fields and returns the record.
   * @example
   * ```ts
   * await client.collections.posts.update(post.id, { published: true });
   * ```
   */
  update<const O extends ReadOptions<S, N> & CallerSelect<S, N> = {}>(id: string, data: UpdateInput<S[N], "caller">, options?: O): Promise<ClientRecord<S, N, O>>;
  /**
   * `DELETE /collections/:name/records/:id`: deletes the record.
   * @example
   * ```ts
   * await client.collections.posts.delete(post.id);
   * ```
   */
  delete(id: string): Promise<void>;
}

/**
 * The routes of a collection declared with `realtime: true`: those of every collection, and
 * `subscribe`.
 *
 * @example
 * ```ts
 * const stop = await client.collections.posts.subscribe({ where: { published: true } }, (event) => console.log(event.type));
 * ```
 */
export interface RealtimeCollectionClient<S extends Schema, N extends keyof S & string> extends CollectionClient<S, N> {
  /**
   * `GET /collections/:name/subscribe`, read as Server-Sent Events with `fetch` (it carries the
   * client's token, headers and credentials): the committed changes of the records the caller
   * may list that match `where`, each as the caller reads it (`select`, `include`), as
   * `backend.as(user).data.<name>.subscribe()` hears them. Resolves once the subscription is
   * live, to the function that ends it (and aborts its request).
   *
   * A dropped connection is opened again, after a growing delay, resuming after the last event
   * heard: no event is heard twice, and none is missed while the backend's event log holds it
   * (else `gap` says that some were: read again what is needed). `ready` is heard once. An
   * answer refused before the stream rejects with an {@link ApiError}: `400 INVALID_QUERY`,
   * `401`, `429 TOO_MANY_SUBSCRIPTIONS`. A refused reconnection ends the subscription with `end`:
   * `"revoked"` for a 401, `"error"` for another refusal (a 429 or 5xx is tried again). It ends
   * at the backend's `end` too; after `end`, nothing more is heard.
   * @example
   * ```ts
   * const stop = await client.collections.posts.subscribe({ where: { published: true }, select: ["title"] }, (event) => {
   *   if (event.type === "created" || event.type === "entered") console.log("new", event.record.title);
   * });
   * stop();
   * ```
   */
  subscribe<const O extends SubscribeOptions<S, N> & CallerSelect<S, N> = {}>(
    options: O,
    onEvent: (event: SubscriptionEvent<ClientRecord<S, N, O>>) => void,
  ): Promise<() => void>;
  /**
   * The same, as an async iterator: the request is sent at once; `for await` hears the events;
   * leaving the loop (or `close()`) ends the subscription and aborts its request. Its first
   * `next()` throws the {@link ApiError} of a refused request. Events are read from the
   * connection as they are taken: a reader that lets too many wait on the server hears `end`
   * with `"slow"`.
   * @example
   * ```ts
   * for await (const event of client.collections.posts.subscribe({ where: { published: true } })) {
   *   if (event.type === "end") break;
   *   console.log(event.type, event.sequence);
   * }
   * ```
   */
  subscribe<const O extends SubscribeOptions<S, N> & CallerSelect<S, N> = {}>(options?: O): Subscription<ClientRecord<S, N, O>>;
}

/**
 * The collections of a backend, by name: those declared with `realtime: true` (or whose type does
 * not say) have `subscribe`.
 */
export type CollectionsClient<S extends Schema> = {
  readonly [N in keyof S & string]: true extends S[N]["realtime"] ? RealtimeCollectionClient<S, N> : CollectionClient<S, N>;
};

/** The actions of a backend, called by name: their input and output are their zod schemas'. */
export type ActionsClient<A extends Record<string, AnyAction>> = {
  readonly [K in keyof A]: (input: ActionInput<A[K]>) => Promise<Jsonified<ActionOutput<A[K]>>>;
};

/**
 * Where the client calls an action over HTTP: its own binding (as in `action({ http })`)
 * instead of `POST /actions/:name`. `:params` of the path are taken from the input.
 */
export interface ActionRoute {
  /** @default "POST" */
  readonly method?: HttpMethod;
  readonly path: string;
}

/** The user's own record, as the `/auth` routes answer it. */
export type ClientUser<S extends Schema> = "users" extends keyof S ? ClientRecord<S, "users"> : { id: string; [field: string]: unknown };

/** The answer of sign-in, verification and sign-up without verification. */
export interface SignedIn<S extends Schema> {
  readonly user: ClientUser<S>;
  /** The session token (also set as the session cookie). */
  readonly token: string;
  readonly session: Jsonified<SessionInfo>;
}

/** The answer of a request whose result is mailed: sign-up with verification, a password reset. */
export interface EmailSent {
  readonly status: "email-sent";
  readonly message: string;
}

/** The `/auth` routes of built-in auth. */
export interface AuthClient<S extends Schema> {
  /**
   * `POST /auth/sign-up`: `{ status: "email-sent" }` with e-mail verification (the default),
   * else the new account signed in.
   * @example
   * ```ts
   * await client.auth.signUp({ email: "ada@example.com", name: "Ada" });
   * ```
   */
  signUp(input: SignUpInput<UsersOf<S>>): Promise<SignedIn<S> | EmailSent>;
  /**
   * `POST /auth/sign-in`: the user, a session and its token (and the session cookie).
   * @example
   * ```ts
   * const { user } = await client.auth.signIn({ email, password });
   * ```
   */
  signIn(input: { email: string; password: string }): Promise<SignedIn<S>>;
  /** `POST /auth/verify-email`: follows a verification link (`password` for a sign-up's), and signs in. */
  verifyEmail(input: { token: string; password?: string }): Promise<SignedIn<S>>;
  /** `POST /auth/sign-out`: ends the session (and clears the cookie, and a kept token). */
  signOut(): Promise<void>;
  /**
   * `GET /auth/session`: the signed-in user and session; `null` when not signed in.
   * @example
   * ```ts
   * const current = await client.auth.session();
   * if (current === null) redirectToSignIn();
   * ```
   */
  session(): Promise<{ user: ClientUser<S>; session: Jsonified<SessionInfo> } | null>;
  /** `POST /auth/revoke-all`: ends every session of the caller (a kept token too). */
  revokeAll(): Promise<{ revoked: number }>;
  /** `POST /auth/change-password`: the caller's other sessions end. */
  changePassword(input: { currentPassword: string; newPassword: string }): Promise<void>;
  /** `POST /auth/request-password-reset`: mails a reset link, whether the address has an account or not. */
  requestPasswordReset(input: { email: string }): Promise<EmailSent>;
  /** `POST /auth/reset-password`: sets a new password with the mailed token; every session of the account ends. */
  resetPassword(input: { token: string; password: string }): Promise<void>;
  /** The caller's API keys (`/auth/api-keys`). */
  readonly apiKeys: {
    /** `GET /auth/api-keys`: the caller's keys (never the keys themselves). */
    list(): Promise<Jsonified<ApiKeyInfo>[]>;
    /** `POST /auth/api-keys`: a new key, shown this once, and its description. */
    create(input: Pick<CreateApiKeyInput, "name" | "collections" | "actions" | "expiresIn">): Promise<{ key: string; apiKey: Jsonified<ApiKeyInfo> }>;
    /** `DELETE /auth/api-keys/:id`: revokes one of the caller's keys. */
    revoke(id: string): Promise<void>;
  };
}

/** What `createClient` returns. */
export interface Client<B> {
  readonly collections: CollectionsClient<SchemaOfBackend<B>>;
  readonly actions: ActionsClient<ActionsOfBackend<B>>;
  readonly auth: AuthClient<SchemaOfBackend<B>>;
  /** The bearer token sent with every request, if any (set by `token`, `setToken`, or a sign-in with `keepToken`). */
  readonly token: string | null;
  /** Sets (or with `null`, forgets) the bearer token sent with every request. */
  setToken(token: string | null): void;
}

/** Headers, as `new Headers()` takes them: an object, a list of pairs or a `Headers`. */
export type ClientHeaders = ConstructorParameters<typeof Headers>[0];

/** What `createClient` takes. */
export interface ClientOptions<B = unknown> {
  /** Where the backend is mounted: `"https://api.example.com"`, `"http://localhost:3000/api"`, or `"/api"` in a browser. */
  readonly baseUrl: string;
  /**
   * The `fetch` to call (a server's own, one with a cookie jar, a test's).
   * @default globalThis.fetch
   */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Headers sent with every request; a function is called for each. */
  readonly headers?: ClientHeaders | (() => ClientHeaders | Promise<ClientHeaders>);
  /**
   * Whether a browser sends cookies: `"include"` for an API on another origin, which then names
   * this site in `auth.trustedOrigins` and CORS.
   * @default "same-origin" (the browser's default)
   */
  readonly credentials?: RequestInit["credentials"];
  /** A session token or API key, sent as `Authorization: Bearer <token>`. */
  readonly token?: string | null;
  /**
   * Keep the token of sign-in, sign-up and verification, and send it with the requests after
   * (forgotten at sign-out and revoke-all). For clients without cookies: servers, apps, scripts.
   * @default false
   */
  readonly keepToken?: boolean;
  /** Actions to call at their own HTTP binding rather than `POST /actions/:name`. */
  readonly actionRoutes?: { readonly [K in keyof ActionsOfBackend<B>]?: ActionRoute };
}
