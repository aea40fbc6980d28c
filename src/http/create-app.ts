/**
 * @internal The HTTP API of a backend: one Hono app, built once at `createBackend`.
 * @module
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { RequestIdVariables } from "hono/request-id";
import type { Principal } from "../define/principal.js";
import type { Action } from "../define/action.js";
import type { AnyAction } from "../define/handles.js";
import type { Scope } from "../define/scope.js";
import { ApiError, apiError, toApiError } from "../errors/api-error.js";
import type { Logger } from "../define/logger.js";
import type { Model } from "../model/model.js";
import { accessFor } from "../access/caller-access.js";
import { isPlainObject } from "../define/object-keys.js";
import type { DialectName, Schema, Privilege } from "../define/types.js";
import { runAction, type ActionServices } from "../actions/run-action.js";
import type { DataContext } from "../data/context.js";
import { limitExceeded, type ResolvedLimits } from "../data/limits.js";
import type { AuthHttp, Caller } from "../auth/caller.js";
import { installAuthRoutes } from "../auth/routes.js";
import type { HostAuthOptions } from "../auth/options.js";
import type { HttpOptions } from "./options.js";
import { frame, refuseWhenClosing, ThrownValue } from "./frame.js";
import type { RequestGate } from "./gate.js";
import type { ErrorClass, UnavailableReason } from "../dialects/dialect.js";
import { bodyText, declaresMoreThan, isNodeHttp1, tooLarge } from "./body.js";
import { finishResponse } from "./response-headers.js";
import { withIsoDates } from "../support/iso-json.js";
import { problemResponse } from "./problem.js";
import { reachedCollections } from "./reach.js";
import { parseJson } from "./parse-json.js";
import { jsonProblem } from "../model/text.js";
import { checkKey, listOptions, readOptions, subscribeOptions, type PageLimits } from "./query-params.js";
import type { RealtimeService } from "../realtime/realtime-service.js";
import { socketAddress } from "../auth/client.js";
import { eventStream } from "./event-stream.js";
import { installOpenApiRoutes } from "./openapi-routes.js";
import { buildOpenApiDocument, type OpenApiSource } from "../openapi/build-document.js";
import type { OpenApiDocument, OpenApiOptions } from "../openapi/document.js";

type CallerScope = Scope<Schema, DialectName, Record<string, AnyAction>, Privilege>;

/** What the HTTP app needs from its backend. */
export interface AppBackend {
  readonly model: Model;
  /** The actions, and what running one needs besides its caller. */
  readonly actionServices: ActionServices;
  readonly logger: Logger;
  readonly limits: ResolvedLimits;
  /**
   * The scope and the context of a caller; with `textDates`, its reads keep datetimes as text
   * (for the collection routes, whose answers are JSON; their hooks run in a transaction, whose
   * context has `Date`s).
   */
  caller(user: Principal | null, textDates?: boolean): { scope: CallerScope; ctx: DataContext };
  /** The requests being answered; `backend.close()` closes it. */
  readonly gate: RequestGate;
  /** What a driver's error means (the dialect's `classify`). */
  classify(error: unknown): ErrorClass | undefined;
  /** Subscriptions, for `GET /collections/:name/subscribe`. */
  readonly realtime: Pick<RealtimeService, "subscribe" | "settings">;
}

/** The seconds a client is told to wait before it tries again, by why the database cannot serve. */
const RETRY_AFTER: Record<UnavailableReason, number> = { unreachable: 1, busy: 1, closed: 1, full: 30 };
const UNAVAILABLE_MESSAGES: Record<UnavailableReason, string> = {
  unreachable: "The database cannot be reached right now; try again shortly.",
  busy: "The database is busy; try again shortly.",
  closed: "The backend is shutting down; try again shortly.",
  full: "The database has no space left; nothing was written.",
};

/**
 * The 503 `UNAVAILABLE` error of a driver's error that says the database cannot serve now (a
 * connection lost, a full disk, a closed backend), or `undefined`. A transaction that kept
 * failing with a serialization failure or a deadlock is `busy`.
 */
function unavailableError(kind: ErrorClass | undefined, closing: boolean): ApiError | undefined {
  if (kind === undefined || (kind.kind !== "unavailable" && kind.kind !== "retry")) return undefined;
  // Once the backend closes, a statement fails because it closed its connections.
  const key = closing ? "closed" : kind.kind === "retry" ? "busy" : kind.reason;
  return apiError("UNAVAILABLE", UNAVAILABLE_MESSAGES[key], { reason: key === "closed" ? "closing" : key, retryAfter: RETRY_AFTER[key] });
}

type Env = { Variables: RequestIdVariables & { caller: Caller; cacheControl?: string } };

/**
 * Sets the answer's `Cache-Control` once (the first value set stays), for the frame to write
 * with the other headers of every answer, errors included.
 */
function cacheControl(c: Context<Env>, value: string): void {
  if (c.get("cacheControl") === undefined) c.set("cacheControl", value);
}

/** How the app learns who calls: built-in auth, the host's `resolve`, or nobody (anonymous). */
export type AppAuth = { builtIn: AuthHttp } | { host: HostAuthOptions } | undefined;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/i;

/** How a request's JSON body is bounded: its size in bytes and its depth. */
interface BodyBounds {
  readonly bytes: number;
  readonly depth: number;
}

/**
 * Reads a JSON body: `undefined` when empty; 413 past the size limit; 415 when not JSON; 400
 * when malformed, when it has a key that reaches a prototype, or when it nests too deep.
 */
async function jsonBody(c: Context, bounds: BodyBounds): Promise<unknown> {
  const request = c.req.raw;
  const text = await bodyText(request, bounds.bytes, isNodeHttp1(c.env));
  if (text.trim().length === 0) return undefined;
  const type = request.headers.get("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw apiError("UNSUPPORTED_MEDIA_TYPE", `The body must be application/json, not ${type || "untyped"}.`);
  }
  let body: unknown;
  try {
    body = parseJson(text);
  } catch (error) {
    throw apiError("INVALID_JSON", `The body is not valid JSON: ${(error as Error).message}`);
  }
  const maxDepth = bounds.depth;
  if (jsonProblem(body, maxDepth, false) === "deep") limitExceeded("jsonDepth", maxDepth, `The body nests more than ${maxDepth} levels deep`);
  return body;
}

/** Reads a body that must be a JSON object (400 otherwise). */
async function objectBody(c: Context, bounds: BodyBounds): Promise<Record<string, unknown>> {
  const body = await jsonBody(c, bounds);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw apiError("INVALID_JSON", "The body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** A query string as an object (with no prototype); a repeated name gives an array. */
function queryObject(params: URLSearchParams): Record<string, unknown> {
  const query = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of params) {
    checkKey(name, name);
    const current = query[name];
    query[name] = current === undefined ? value : Array.isArray(current) ? [...current, value] : [current, value];
  }
  return query;
}

/**
 * The user's own record as a `get` of it by the user would answer it, made from the principal
 * when that already holds every column of `users` (as a session's lookup reads it, in the same
 * statement): when the user's `get` rule is `true` or exactly its own id, and `users` has no
 * computed fields; its field rules applied. `undefined` when it takes a read.
 */
async function ownRecordOf(model: Model, user: Principal): Promise<Record<string, unknown> | undefined> {
  const users = model.collections.get("users");
  const principal = user as unknown as Record<string, unknown>;
  if (users === undefined || users.computed.length > 0 || !users.columns.every((column) => Object.hasOwn(principal, column.name))) return undefined;
  const access = (await accessFor(false, user, model, users, ["get"]))!;
  const rule = access.rule(users, "get");
  const own = rule === true || (isPlainObject(rule) && Object.keys(rule).length === 1 && rule["id"] === user.id);
  if (!own) return undefined;
  const record: Record<string, unknown> = {};
  for (const column of users.columns) if (access.readable(column)) record[column.name] = principal[column.name];
  return record;
}

/** The app `backend.fetch` serves, and the OpenAPI document of its routes. */
export interface BackendApp {
  readonly app: Hono<Env>;
  /** The app's `onError`, for `cimiento/hono` to answer the errors of the routes it mounts. */
  readonly answerError: (error: Error, c: Context<Env>) => Promise<Response>;
  /** The OpenAPI 3.1 document of the app's routes, built anew. */
  openapi(options?: OpenApiOptions): OpenApiDocument;
}

/** Builds the Hono app that `backend.fetch` serves. */
export function createApp(backend: AppBackend, http: HttpOptions, auth: AppAuth): BackendApp {
  const maxLimit = backend.limits.maxLimit;
  if (http.defaultLimit !== undefined && !(Number.isSafeInteger(http.defaultLimit) && http.defaultLimit >= 0 && http.defaultLimit <= maxLimit)) {
    throw new TypeError(`http.defaultLimit must be a whole number from 0 to limits.maxLimit (${maxLimit}), not ${http.defaultLimit}.`);
  }
  const limits: PageLimits = { defaultLimit: http.defaultLimit ?? Math.min(20, maxLimit), maxLimit };
  const queryLength = backend.limits.queryLength;
  const bounds: BodyBounds = { bytes: http.bodyLimit ?? 1024 * 1024, depth: backend.limits.jsonDepth };
  const readObject = (c: Context<Env>) => objectBody(c, bounds);
  const app = new Hono<Env>();

  /**
   * The one answer to an error, thrown anywhere in a request: the app's `onError`. An unexpected
   * error is logged and answered 500 without its details; every answer is finished here (an
   * error thrown by the frame's body limit never returns to the frame).
   */
  async function errorResponse(error: Error, c: Context<Env>): Promise<Response> {
    const unavailable = error instanceof ApiError ? undefined : unavailableError(backend.classify(error), backend.gate.closing);
    const safe = unavailable ?? toApiError(error);
    if (!(error instanceof ApiError)) {
      const details = { error: error instanceof ThrownValue ? error.value : error, requestId: c.get("requestId"), method: c.req.method, path: c.req.path };
      if (unavailable === undefined) backend.logger.error("A request failed with an unexpected error.", details);
      else (backend.logger.warn ?? backend.logger.error).call(backend.logger, "A request failed: the database cannot serve it now.", details);
    }
    const response = http.formatError ? await http.formatError(safe, c.req.raw) : problemResponse(safe, c.get("requestId"));
    // A new Response with every header given at construction: behind @hono/node-server, headers
    // set on a Response after it was made can be lost.
    const headers = new Headers(response.headers);
    const retryAfter = safe.details?.["retryAfter"];
    if ((safe.code === "RATE_LIMITED" || safe.code === "UNAVAILABLE") && typeof retryAfter === "number") headers.set("retry-after", String(retryAfter));
    // A closing backend takes no more requests on this connection either.
    if (safe.code === "UNAVAILABLE" && backend.gate.closing) headers.set("connection", "close");
    // Middleware headers (security, CORS, cookies) are set on c.res; keep them.
    c.res.headers.forEach((value, name) => {
      if (name !== "set-cookie" && !headers.has(name)) headers.set(name, value);
    });
    for (const cookie of c.res.headers.getSetCookie()) headers.append("set-cookie", cookie);
    const answer = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    finishResponse(answer, c.get("requestId"), c.get("cacheControl"));
    return answer;
  }

  /** Who calls; decided once per request. */
  async function identify(c: Context<Env>): Promise<Caller> {
    const known = c.get("caller");
    if (known !== undefined) return known;
    let current: Caller;
    if (auth === undefined) current = { user: null, via: null, identity: null, token: null };
    else if ("host" in auth) current = { user: await auth.host.resolve(c.req.raw), via: null, identity: null, token: null };
    else current = await auth.builtIn.identify(c);
    c.set("caller", current);
    // An answer for a signed-in caller is that caller's: no cache may keep it.
    if (current.user !== null) cacheControl(c, "private, no-store");
    return current;
  }

  /**
   * The caller's scope, after checking that an API key limited to some collections or actions
   * allows this one, and the collections a read's `include` and `where` reach through relations.
   */
  async function caller(c: Context<Env>, target?: { kind: "collections" | "actions"; name: string; options?: Record<string, unknown> }) {
    const current = await identify(c);
    const allowed = target === undefined ? null : current.identity?.apiKey?.[target.kind];
    if (allowed != null) {
      const names = [target!.name];
      if (target!.options !== undefined) names.push(...reachedCollections(backend.model, target!.name, target!.options));
      const refused = names.find((name) => !allowed.includes(name));
      if (refused !== undefined) {
        throw apiError("FORBIDDEN", `This API key may not use the ${target!.kind === "collections" ? "collection" : "action"} "${refused}".`);
      }
    }
    return backend.caller(current.user, target?.kind === "collections");
  }

  function collection(c: Context<Env>) {
    const name = c.req.param("name")!;
    if (!backend.model.collections.has(name)) {
      throw apiError("COLLECTION_NOT_FOUND", `There is no collection "${name}".`, { collection: name });
    }
    return name;
  }

  /** The query string's parameters, without parsing the whole URL; `LIMIT_EXCEEDED` past its length. */
  function searchParams(c: Context<Env>): URLSearchParams {
    const href = c.req.url;
    const start = href.indexOf("?");
    if (start < 0) return new URLSearchParams();
    if (href.length - start - 1 > queryLength) {
      limitExceeded("queryLength", queryLength, `The query string is longer than ${queryLength} characters`);
    }
    return new URLSearchParams(href.slice(start + 1));
  }

  // A body that says it is too large is refused before any route; one without a length is
  // counted as it is read (body.ts). Nothing here touches the body itself: behind
  // @hono/node-server, reading it whole later skips the Fetch stream.
  const limitBody: MiddlewareHandler<Env> = async (c, next) => {
    if (declaresMoreThan(c.req.raw.headers, bounds.bytes)) throw tooLarge(bounds.bytes);
    await next();
  };
  // Every error is answered here, Hono's way. Hono's route() wraps each handler of an app that
  // has an onError in an error layer of its own, per request, when the app is mounted with it
  // (cimiento/hono); through backend.fetch and cimiento/node there is no such layer.
  app.onError(errorResponse);
  // The request id, the security headers, the refusal once closing and the body limit are one
  // middleware. With CORS, the refusal and the body limit come after it, so that they are
  // answered with the CORS headers (a browser hides an answer without them from the page).
  app.use(frame<Env>(http.cors === undefined ? limitBody : undefined, backend.gate, http.cors === undefined));
  if (http.cors !== undefined) {
    const { origin, credentials, allowMethods, allowHeaders, exposeHeaders, maxAge } = http.cors;
    app.use(
      cors({
        origin: typeof origin === "function" ? (o) => (origin(o) ? o : null) : (origin as string | string[]),
        credentials: credentials ?? false,
        allowMethods: [...(allowMethods ?? ["GET", "POST", "PATCH", "DELETE", "PUT"])],
        ...(allowHeaders === undefined ? {} : { allowHeaders: [...allowHeaders] }),
        exposeHeaders: [...(exposeHeaders ?? [])],
        maxAge: maxAge ?? 600,
      }),
    );
    // GET and HEAD bodies are never read; looking for one would build the full Fetch Request
    // that @hono/node-server otherwise never makes for them.
    app.use(async (c, next) => {
      refuseWhenClosing(backend.gate);
      return c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitBody(c, next);
    });
  }

  app.get("/health", (c) => c.json({ status: "ok" }));

  const served = http.openapi === false ? undefined : (http.openapi ?? {});
  const source: OpenApiSource = {
    model: backend.model,
    actions: backend.actionServices.actions,
    auth: auth !== undefined && "builtIn" in auth ? auth.builtIn.auth : undefined,
    bounds: limits,
    served: { document: served !== undefined, reference: served !== undefined && served.reference !== false },
  };
  const openapi = (options?: OpenApiOptions) => buildOpenApiDocument(source, options);
  if (served !== undefined) {
    let document: OpenApiDocument | undefined;
    installOpenApiRoutes(app, {
      document: () => {
        if (document !== undefined) return document;
        const built = openapi({ ...(served.info === undefined ? {} : { info: served.info }), ...(served.servers === undefined ? {} : { servers: served.servers }) });
        document = served.filter === undefined ? built : served.filter(built);
        return document;
      },
      reference: source.served.reference,
      cacheControl,
    });
  }

  if (auth !== undefined && "builtIn" in auth) {
    installAuthRoutes(app, auth.builtIn, {
      caller: identify,
      objectBody: readObject,
      cacheControl,
      ownRecord: async (user) => {
        const known = await ownRecordOf(backend.model, user);
        if (known !== undefined) return known;
        const record = await backend.caller(user).scope.data["users"]!.get(user.id);
        return (record as Record<string, unknown> | null) ?? { id: user.id };
      },
    });
  }

  app.get("/collections/:name/records", async (c) => {
    const name = collection(c);
    const options = listOptions(searchParams(c), limits);
    const { scope } = await caller(c, { kind: "collections", name, options });
    return c.json(withIsoDates(await scope.data[name]!.list(options as never)) as object);
  });
  app.get("/collections/:name/subscribe", async (c) => {
    const name = collection(c);
    const model = backend.model.collections.get(name)!;
    if (!model.realtime) throw apiError("ROUTE_NOT_FOUND", `The collection "${name}" has no subscriptions (it is not realtime).`);
    const options = subscribeOptions(searchParams(c));
    // A browser's EventSource resumes with Last-Event-ID; an explicit `after` wins.
    const lastEventId = c.req.header("last-event-id");
    if (options["after"] === undefined && lastEventId !== undefined && lastEventId !== "") options["after"] = lastEventId;
    const { ctx } = await caller(c, { kind: "collections", name, options });
    const current = await identify(c);
    const settings = backend.realtime.settings;
    const stream = eventStream({ heartbeat: settings.heartbeat, maxBuffered: settings.maxBuffered });
    try {
      const unsubscribe = await backend.realtime.subscribe(ctx, model, options, stream.sink, {
        callerKey: current.user === null ? `address:${anonymousAddress(c)}` : `user:${current.user.id}`,
        ...(current.user === null ? {} : { recheck: recheckOf(c, current) }),
      });
      stream.subscribed(unsubscribe);
    } catch (error) {
      stream.abort();
      throw error;
    }
    cacheControl(c, "no-store");
    return new Response(stream.body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no" },
    });
  });

  /** The client address an anonymous subscriber counts against (as built-in auth's limits see it). */
  function anonymousAddress(c: Context<Env>): string {
    if (auth !== undefined && "builtIn" in auth) return auth.builtIn.client(c).address ?? "unknown";
    return socketAddress(c.env) ?? "unknown";
  }

  /** Whether a subscriber's credential still names the same caller: its session or key, or the host's resolve. */
  function recheckOf(c: Context<Env>, current: Caller): () => Promise<boolean> {
    const user = current.user!;
    const same = (other: Principal | null | undefined) => other != null && other.id === user.id && other.role === user.role;
    if (auth !== undefined && "builtIn" in auth && current.token !== null) {
      const token = current.token;
      return async () => same((await auth.builtIn.auth.verifyToken(token))?.user);
    }
    if (auth !== undefined && "host" in auth) {
      const { url } = c.req.raw;
      const headers = new Headers(c.req.raw.headers);
      return async () => same(await auth.host.resolve(new Request(url, { headers })));
    }
    return async () => true;
  }

  app.post("/collections/:name/records", async (c) => {
    const name = collection(c);
    const options = readOptions(searchParams(c));
    const body = await readObject(c);
    const { scope } = await caller(c, { kind: "collections", name, options });
    return c.json(withIsoDates(await scope.data[name]!.create(body as never, options as never)) as object, 201);
  });
  app.get("/collections/:name/records/:id", async (c) => {
    const name = collection(c);
    const options = readOptions(searchParams(c));
    const { scope } = await caller(c, { kind: "collections", name, options });
    const id = c.req.param("id")!;
    const record = await scope.data[name]!.get(id, options as never);
    if (record === null) throw apiError("NOT_FOUND", `No ${name} record with id "${id}".`, { collection: name, id });
    return c.json(withIsoDates(record) as object);
  });
  app.patch("/collections/:name/records/:id", async (c) => {
    const name = collection(c);
    const options = readOptions(searchParams(c));
    const body = await readObject(c);
    const { scope } = await caller(c, { kind: "collections", name, options });
    return c.json(withIsoDates(await scope.data[name]!.update(c.req.param("id")!, body as never, options as never)) as object);
  });
  app.delete("/collections/:name/records/:id", async (c) => {
    const name = collection(c);
    if (searchParams(c).size > 0) throw apiError("INVALID_QUERY", "DELETE takes no query parameters.");
    const { scope } = await caller(c, { kind: "collections", name });
    await scope.data[name]!.delete(c.req.param("id")!);
    return c.body(null, 204);
  });

  async function serveAction(
    c: Context<Env>,
    name: string,
    action: Action<never, unknown>,
    status: number,
    params: Record<string, string>,
  ): Promise<Response> {
    const query = queryObject(searchParams(c));
    const body = c.req.method === "GET" || c.req.method === "DELETE" ? undefined : await jsonBody(c, bounds);
    let input: unknown;
    if (body === undefined) input = { ...query, ...params };
    else if (typeof body === "object" && body !== null && !Array.isArray(body)) input = { ...query, ...body, ...params };
    else if (Object.keys(query).length === 0 && Object.keys(params).length === 0) input = body;
    else throw apiError("INVALID_JSON", "With path or query parameters, the body must be a JSON object.");
    // A link, a redirect or a form from another site reaches an action bound to GET with the
    // SameSite=Lax session cookie; the action serves it as anonymous (as a SameSite=Strict
    // cookie would be absent), so that no other site can make it act, or write, for the user.
    // Writes with other methods are refused such a request by identify() already.
    if (auth !== undefined && "builtIn" in auth && (c.req.method === "GET" || c.req.method === "HEAD") && auth.builtIn.crossSiteCookie(c)) {
      c.set("caller", { user: null, via: null, identity: null, token: null });
    }
    const { ctx } = await caller(c, { kind: "actions", name });
    const credentials = {
      token: c.get("caller").token,
      client: auth !== undefined && "builtIn" in auth ? auth.builtIn.client(c) : {},
    };
    const result = await runAction(backend.actionServices, ctx, name, action, input, c.req.raw, credentials);
    return result === undefined ? c.body(null, 204) : c.json(withIsoDates(result) as object, status as 200);
  }

  for (const [name, action] of Object.entries(backend.actionServices.actions)) {
    const binding = action.definition.http;
    if (binding === undefined) continue;
    app.on(binding.method ?? "POST", binding.path, (c) => serveAction(c, name, action, binding.status ?? 200, c.req.param() as Record<string, string>));
  }
  app.post("/actions/:action", (c) => {
    const name = c.req.param("action")!;
    const action = Object.hasOwn(backend.actionServices.actions, name) ? backend.actionServices.actions[name] : undefined;
    if (action === undefined) throw apiError("ROUTE_NOT_FOUND", `There is no action "${name}".`);
    return serveAction(c, name, action, 200, {});
  });

  // Last, so every route above wins. Unmatched paths are answered by a catch-all route rather
  // than notFound, which Hono's route() does not carry into the app the backend is mounted in.
  app.all("*", (c) => {
    throw apiError("ROUTE_NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`);
  });
  return { app, answerError: errorResponse, openapi };
}
