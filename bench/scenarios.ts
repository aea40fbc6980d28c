/**
 * The HTTP scenarios. Each is one entry: the request every server is sent, who sends it, and
 * what the hand-written baselines do to answer it. The cimiento servers answer from the backend
 * alone.
 * @module
 */
import { ACCOUNT, createBody, USER_HEADER, type BenchAuth } from "./fixture.js";
import { checkNewPost, signInRaw, type RawStore, type SessionRow } from "./raw/store.js";

/** The signed-in caller of the scenarios, made by the seed. */
export interface BenchCaller {
  readonly userId: string;
  /** A session token of that user. */
  readonly token: string;
}

/** The name of the session cookie (cimiento's default). */
export const SESSION_COOKIE = "cimiento_session";

/** A request as the baselines see it, with its caller resolved as the scenario says. */
export interface RawRequest {
  /** The `:id` of the path, when it has one. */
  readonly id: string | undefined;
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** The caller's user id: from the host's header, or from the session of the cookie. */
  readonly userId: string | null;
  /** The session and user of the cookie, for session scenarios. */
  readonly session: SessionRow | null;
}

/** What a baseline answers: a status and a JSON body. */
export interface RawAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Who calls: `"host"`, a caller the host resolves (from a header); `"session"`, the seed's user
 * with its session cookie; `"anonymous"`, nobody (to a server with built-in auth).
 */
export type ScenarioCaller = "host" | "session" | "anonymous";

/** One measured kind of request. */
export interface HttpScenario {
  /** A short stable key, used in results. */
  readonly key: string;
  /** What the request does, for the table. */
  readonly title: string;
  readonly method: "GET" | "POST";
  /** The path under the mount point; `:id` is replaced by a random readable id per request. */
  readonly path: string;
  /** The query string, without `?`. */
  readonly query?: string;
  readonly caller: ScenarioCaller;
  /** The JSON body, for the caller. */
  body?(caller: BenchCaller): unknown;
  /** The status every answer must have; another one counts as an error. */
  readonly status: number;
  /**
   * Connections of its rounds, when not the run's: a hash-bound request waits in the thread
   * pool's queue, and 50 of them on one core wait longer than the load generator's timeout.
   */
  readonly connections?: number;
  /** The hand-written baseline of this request. */
  raw(store: RawStore, request: RawRequest): Promise<RawAnswer>;
}

/** How a server of `scenario` learns who calls. */
export function serverAuth(scenario: HttpScenario): BenchAuth {
  return scenario.caller === "host" ? "host" : "session";
}

/** The headers of every request of `scenario`. */
export function requestHeaders(scenario: HttpScenario, caller: BenchCaller): Record<string, string> {
  const headers: Record<string, string> = {};
  if (scenario.caller === "host") headers[USER_HEADER] = caller.userId;
  if (scenario.caller === "session") headers["cookie"] = `${SESSION_COOKIE}=${caller.token}`;
  if (scenario.body !== undefined) headers["content-type"] = "application/json";
  return headers;
}

const LIST_QUERY = `where=${encodeURIComponent(JSON.stringify({ published: true }))}&orderBy=-views&limit=20`;

async function found<T>(value: T | null | Promise<T | null>): Promise<RawAnswer> {
  const result = await value;
  return result === null ? { status: 404, body: { code: "NOT_FOUND" } } : { status: 200, body: result };
}

const UNAUTHENTICATED: RawAnswer = { status: 401, body: { code: "UNAUTHENTICATED" } };

/** Both list scenarios share a route; the baseline reads `count` from the query as cimiento does. */
async function listRaw(store: RawStore, request: RawRequest): Promise<RawAnswer> {
  if (request.userId === null) return UNAUTHENTICATED;
  return { status: 200, body: await store.list(request.userId, request.query.get("count") === "true") };
}

async function getRaw(store: RawStore, request: RawRequest): Promise<RawAnswer> {
  if (request.userId === null) return UNAUTHENTICATED;
  return found(store.get(request.id!, request.userId));
}

/** Every HTTP scenario, in the order they run. */
export const HTTP_SCENARIOS: readonly HttpScenario[] = [
  {
    key: "get",
    title: "get one record by id",
    method: "GET",
    path: "/collections/posts/records/:id",
    caller: "host",
    status: 200,
    raw: getRaw,
  },
  {
    key: "list",
    title: "list 20 of 10,000 (filter + sort)",
    method: "GET",
    path: "/collections/posts/records",
    query: LIST_QUERY,
    caller: "host",
    status: 200,
    raw: listRaw,
  },
  {
    key: "list-count",
    title: "list 20 of 10,000 with count",
    method: "GET",
    path: "/collections/posts/records",
    query: `${LIST_QUERY}&count=true`,
    caller: "host",
    status: 200,
    raw: listRaw,
  },
  {
    key: "create",
    title: "create one record (validated, author = caller)",
    method: "POST",
    path: "/collections/posts/records",
    caller: "host",
    body: (caller) => createBody(caller.userId),
    status: 201,
    raw: async (store, request) => {
      if (request.userId === null) return UNAUTHENTICATED;
      const input = checkNewPost(request.body);
      if (input === null) return { status: 422, body: { code: "VALIDATION_FAILED" } };
      if (input.author !== request.userId) return { status: 403, body: { code: "FORBIDDEN" } };
      return { status: 201, body: await store.create(input) };
    },
  },
  {
    key: "action",
    title: "action: read + update in one transaction",
    method: "POST",
    path: "/posts/:id/like",
    caller: "host",
    status: 200,
    raw: async (store, request) => (request.userId === null ? UNAUTHENTICATED : found(store.like(request.id!, request.userId))),
  },
  {
    key: "session",
    title: "the session of a cookie (GET /auth/session)",
    method: "GET",
    path: "/auth/session",
    caller: "session",
    status: 200,
    raw: async (_store, request) => (request.session === null ? UNAUTHENTICATED : { status: 200, body: request.session }),
  },
  {
    key: "get-session",
    title: "get one record by id, signed in with a cookie",
    method: "GET",
    path: "/collections/posts/records/:id",
    caller: "session",
    status: 200,
    raw: getRaw,
  },
  {
    key: "sign-in",
    title: "sign-in (scrypt N = 2^17, a new session)",
    method: "POST",
    path: "/auth/sign-in",
    caller: "anonymous",
    body: () => ACCOUNT,
    status: 200,
    connections: 4,
    raw: (store, request) => signInRaw(store, request.body),
  },
];

/** The scenario of a key; throws for an unknown one. */
export function scenarioOf(key: string): HttpScenario {
  const scenario = HTTP_SCENARIOS.find((candidate) => candidate.key === key);
  if (scenario === undefined) throw new Error(`There is no scenario "${key}".`);
  return scenario;
}
