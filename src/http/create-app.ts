/**
 * @internal The HTTP API of a backend: the routes of its HTTP core, built once at `createBackend`.
 * @module
 */
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
import { installAuthRoutes } from "./auth-routes.js";
import type { HostAuthOptions } from "../auth/options.js";
import type { HttpOptions } from "./options.js";
import { HttpCore, NO_PARAMS, ThrownValue } from "./core.js";
import { emptyAnswer, jsonAnswer, queryOf, type Answer, type Exchange } from "./exchange.js";
import type { RequestGate } from "./gate.js";
import type { ErrorClass, UnavailableReason } from "../dialects/dialect.js";
import { withIsoDates } from "../support/iso-json.js";
import { problemAnswer } from "./problem.js";
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
async function jsonBody(x: Exchange, bounds: BodyBounds): Promise<unknown> {
  const text = await x.arrival.text(bounds.bytes);
  if (text.trim().length === 0) return undefined;
  const type = x.header("content-type") ?? "";
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
async function objectBody(x: Exchange, bounds: BodyBounds): Promise<Record<string, unknown>> {
  const body = await jsonBody(x, bounds);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw apiError("INVALID_JSON", "The body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/**
 * What a read of the collection routes answers, ready for `JSON.stringify`: as it is where the
 * context's reads keep datetimes as the text the database holds (no `Date` is in it), else with
 * its `Date`s written sooner (`withIsoDates`). Either way `JSON.stringify` writes the same text.
 */
function readAnswer(ctx: DataContext, result: unknown): unknown {
  return ctx.textDates && ctx.runtime.datetimeText !== undefined ? result : withIsoDates(result);
}

/** The parameters of a request without a query string: shared, so never changed. */
const NO_QUERY = new URLSearchParams();

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

/** The HTTP core every transport serves, and the OpenAPI document of its routes. */
export interface BackendApp {
  readonly core: HttpCore;
  /** The OpenAPI 3.1 document of the core's routes, built anew. */
  openapi(options?: OpenApiOptions): OpenApiDocument;
}

/** An error answer a host's `formatError` made, as an answer (its body read whole). */
async function answerOfResponse(response: Response): Promise<Answer> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && name !== "x-powered-by") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const body = response.body === null ? null : new Uint8Array(await response.arrayBuffer());
  return { status: response.status, headers, body };
}

/** Builds the routes of the HTTP core that `backend.fetch`, `cimiento/hono` and `cimiento/node` serve. */
export function createApp(backend: AppBackend, http: HttpOptions, auth: AppAuth): BackendApp {
  const maxLimit = backend.limits.maxLimit;
  if (http.defaultLimit !== undefined && !(Number.isSafeInteger(http.defaultLimit) && http.defaultLimit >= 0 && http.defaultLimit <= maxLimit)) {
    throw new TypeError(`http.defaultLimit must be a whole number from 0 to limits.maxLimit (${maxLimit}), not ${http.defaultLimit}.`);
  }
  const limits: PageLimits = { defaultLimit: http.defaultLimit ?? Math.min(20, maxLimit), maxLimit };
  const queryLength = backend.limits.queryLength;
  const bounds: BodyBounds = { bytes: http.bodyLimit ?? 1024 * 1024, depth: backend.limits.jsonDepth };
  const readObject = (x: Exchange) => objectBody(x, bounds);

  /**
   * The one answer to an error, thrown anywhere in a request. An unexpected error is logged and
   * answered 500 without its details. The host's `formatError` makes the answer when given; one
   * that fails is logged, and the error answered as if it were not given.
   */
  async function answerError(error: Error, x: Exchange): Promise<Answer> {
    const unavailable = error instanceof ApiError ? undefined : unavailableError(backend.classify(error), backend.gate.closing);
    const safe = unavailable ?? toApiError(error);
    if (!(error instanceof ApiError)) {
      const details = { error: error instanceof ThrownValue ? error.value : error, requestId: x.requestId, method: x.method, path: x.path };
      if (unavailable === undefined) backend.logger.error("A request failed with an unexpected error.", details);
      else (backend.logger.warn ?? backend.logger.error).call(backend.logger, "A request failed: the database cannot serve it now.", details);
    }
    let answer: Answer | undefined;
    if (http.formatError !== undefined) {
      try {
        answer = await answerOfResponse(await http.formatError(safe, x.wholeRequest()));
      } catch (failure) {
        backend.logger.error("http.formatError failed; the error is answered as a problem document.", { error: failure, requestId: x.requestId });
      }
    }
    answer ??= problemAnswer(safe, x.requestId);
    const retryAfter = safe.details?.["retryAfter"];
    if ((safe.code === "RATE_LIMITED" || safe.code === "UNAVAILABLE") && typeof retryAfter === "number") answer.headers["retry-after"] = String(retryAfter);
    // A closing backend takes no more requests on this connection either.
    if (safe.code === "UNAVAILABLE" && backend.gate.closing) answer.headers["connection"] = "close";
    return answer;
  }

  const core = new HttpCore({ gate: backend.gate, bodyLimit: bounds.bytes, cors: http.cors, answerError });

  /** Who calls; decided once per request. */
  async function identify(x: Exchange): Promise<Caller> {
    const known = x.caller;
    if (known !== undefined) return known;
    let current: Caller;
    if (auth === undefined) current = { user: null, via: null, identity: null, token: null };
    else if ("host" in auth) current = { user: await auth.host.resolve(x.request), via: null, identity: null, token: null };
    else current = await auth.builtIn.identify(x);
    x.caller = current;
    // An answer for a signed-in caller is that caller's: no cache may keep it.
    if (current.user !== null) x.setCacheControl("private, no-store");
    return current;
  }

  /**
   * The caller's scope, after checking that an API key limited to some collections or actions
   * allows this one, and the collections a read's `include` and `where` reach through relations.
   */
  async function caller(x: Exchange, target?: { kind: "collections" | "actions"; name: string; options?: Record<string, unknown> }) {
    const current = await identify(x);
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

  function collection(x: Exchange) {
    const name = x.param("name");
    if (!backend.model.collections.has(name)) {
      throw apiError("COLLECTION_NOT_FOUND", `There is no collection "${name}".`, { collection: name });
    }
    return name;
  }

  /**
   * The query string's parameters, without parsing the whole URL; `LIMIT_EXCEEDED` past its
   * length. Read, never changed: most requests have none, and share one empty set.
   */
  function searchParams(x: Exchange): URLSearchParams {
    const query = queryOf(x.arrival.url);
    if (query === "") return NO_QUERY;
    if (query.length > queryLength) limitExceeded("queryLength", queryLength, `The query string is longer than ${queryLength} characters`);
    return new URLSearchParams(query);
  }

  core.on("GET", "/health", () => jsonAnswer({ status: "ok" }));

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
    installOpenApiRoutes(core, {
      document: () => {
        if (document !== undefined) return document;
        const built = openapi({ ...(served.info === undefined ? {} : { info: served.info }), ...(served.servers === undefined ? {} : { servers: served.servers }) });
        document = served.filter === undefined ? built : served.filter(built);
        return document;
      },
      reference: source.served.reference,
    });
  }

  if (auth !== undefined && "builtIn" in auth) {
    installAuthRoutes(core, auth.builtIn, {
      caller: identify,
      objectBody: readObject,
      ownRecord: async (user) => {
        const known = await ownRecordOf(backend.model, user);
        if (known !== undefined) return known;
        const record = await backend.caller(user).scope.data["users"]!.get(user.id);
        return (record as Record<string, unknown> | null) ?? { id: user.id };
      },
    });
  }

  core.on("GET", "/collections/:name/records", async (x) => {
    const name = collection(x);
    const options = listOptions(searchParams(x), limits);
    const { scope, ctx } = await caller(x, { kind: "collections", name, options });
    return jsonAnswer(readAnswer(ctx, await scope.data[name]!.list(options as never)));
  });
  core.on("GET", "/collections/:name/subscribe", async (x) => {
    const name = collection(x);
    const model = backend.model.collections.get(name)!;
    if (!model.realtime) throw apiError("ROUTE_NOT_FOUND", `The collection "${name}" has no subscriptions (it is not realtime).`);
    const options = subscribeOptions(searchParams(x));
    // A browser's EventSource resumes with Last-Event-ID; an explicit `after` wins.
    const lastEventId = x.header("last-event-id");
    if (options["after"] === undefined && lastEventId !== undefined && lastEventId !== "") options["after"] = lastEventId;
    const { ctx } = await caller(x, { kind: "collections", name, options });
    const current = await identify(x);
    const settings = backend.realtime.settings;
    const stream = eventStream({ heartbeat: settings.heartbeat, maxBuffered: settings.maxBuffered });
    try {
      const unsubscribe = await backend.realtime.subscribe(ctx, model, options, stream.sink, {
        callerKey: current.user === null ? `address:${anonymousAddress(x)}` : `user:${current.user.id}`,
        ...(current.user === null ? {} : { recheck: recheckOf(x, current) }),
      });
      stream.subscribed(unsubscribe);
    } catch (error) {
      stream.abort();
      throw error;
    }
    x.setCacheControl("no-store");
    return { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no" }, body: stream.body };
  });

  /** The client address an anonymous subscriber counts against (as built-in auth's limits see it). */
  function anonymousAddress(x: Exchange): string {
    if (auth !== undefined && "builtIn" in auth) return auth.builtIn.client(x).address ?? "unknown";
    return socketAddress(x.arrival.env) ?? "unknown";
  }

  /** Whether a subscriber's credential still names the same caller: its session or key, or the host's resolve. */
  function recheckOf(x: Exchange, current: Caller): () => Promise<boolean> {
    const user = current.user!;
    const same = (other: Principal | null | undefined) => other != null && other.id === user.id && other.role === user.role;
    if (auth !== undefined && "builtIn" in auth && current.token !== null) {
      const token = current.token;
      return async () => same((await auth.builtIn.auth.verifyToken(token))?.user);
    }
    if (auth !== undefined && "host" in auth) {
      const { url, headers: original } = x.request;
      const headers = new Headers(original);
      return async () => same(await auth.host.resolve(new Request(url, { headers })));
    }
    return async () => true;
  }

  core.on("POST", "/collections/:name/records", async (x) => {
    const name = collection(x);
    const options = readOptions(searchParams(x));
    const body = await readObject(x);
    const { scope } = await caller(x, { kind: "collections", name, options });
    return jsonAnswer(withIsoDates(await scope.data[name]!.create(body as never, options as never)), 201);
  });
  core.on("GET", "/collections/:name/records/:id", async (x) => {
    const name = collection(x);
    const options = readOptions(searchParams(x));
    const { scope, ctx } = await caller(x, { kind: "collections", name, options });
    const id = x.param("id");
    const record = await scope.data[name]!.get(id, options as never);
    if (record === null) throw apiError("NOT_FOUND", `No ${name} record with id "${id}".`, { collection: name, id });
    return jsonAnswer(readAnswer(ctx, record));
  });
  core.on("PATCH", "/collections/:name/records/:id", async (x) => {
    const name = collection(x);
    const options = readOptions(searchParams(x));
    const body = await readObject(x);
    const { scope } = await caller(x, { kind: "collections", name, options });
    return jsonAnswer(withIsoDates(await scope.data[name]!.update(x.param("id"), body as never, options as never)));
  });
  core.on("DELETE", "/collections/:name/records/:id", async (x) => {
    const name = collection(x);
    if (searchParams(x).size > 0) throw apiError("INVALID_QUERY", "DELETE takes no query parameters.");
    const { scope } = await caller(x, { kind: "collections", name });
    await scope.data[name]!.delete(x.param("id"));
    return emptyAnswer();
  });

  async function serveAction(x: Exchange, name: string, action: Action<never, unknown>, status: number, params: Readonly<Record<string, string>>): Promise<Answer> {
    const query = queryObject(searchParams(x));
    const body = x.method === "GET" || x.method === "DELETE" ? undefined : await jsonBody(x, bounds);
    let input: unknown;
    if (body === undefined) input = { ...query, ...params };
    else if (typeof body === "object" && body !== null && !Array.isArray(body)) input = { ...query, ...body, ...params };
    else if (Object.keys(query).length === 0 && Object.keys(params).length === 0) input = body;
    else throw apiError("INVALID_JSON", "With path or query parameters, the body must be a JSON object.");
    // A link, a redirect or a form from another site reaches an action bound to GET with the
    // SameSite=Lax session cookie; the action serves it as anonymous (as a SameSite=Strict
    // cookie would be absent), so that no other site can make it act, or write, for the user.
    // Writes with other methods are refused such a request by identify() already.
    if (auth !== undefined && "builtIn" in auth && (x.method === "GET" || x.method === "HEAD") && auth.builtIn.crossSiteCookie(x)) {
      x.caller = { user: null, via: null, identity: null, token: null };
    }
    const { ctx } = await caller(x, { kind: "actions", name });
    const credentials = {
      token: x.caller!.token,
      client: auth !== undefined && "builtIn" in auth ? auth.builtIn.client(x) : {},
    };
    const result = await runAction(backend.actionServices, ctx, name, action, input, () => x.wholeRequest(), credentials);
    return result === undefined ? emptyAnswer() : jsonAnswer(withIsoDates(result), status);
  }

  for (const [name, action] of Object.entries(backend.actionServices.actions)) {
    const binding = action.definition.http;
    if (binding === undefined) continue;
    core.on(binding.method ?? "POST", binding.path, (x) => serveAction(x, name, action, binding.status ?? 200, x.params));
  }
  core.on("POST", "/actions/:action", (x) => {
    const name = x.param("action");
    const action = Object.hasOwn(backend.actionServices.actions, name) ? backend.actionServices.actions[name] : undefined;
    if (action === undefined) throw apiError("ROUTE_NOT_FOUND", `There is no action "${name}".`);
    return serveAction(x, name, action, 200, NO_PARAMS);
  });
  return { core, openapi };
}
