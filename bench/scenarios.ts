/**
 * The HTTP scenarios. Each is one entry: the request every server is sent, and what the
 * hand-written baselines do to answer it. The cimiento servers answer from the backend alone.
 * @module
 */
import { ACCOUNT, CREATE_BODY } from "./fixture.js";
import { checkNewPost, signInRaw, type RawStore } from "./raw/store.js";

/** A request as the baselines see it. */
export interface RawRequest {
  /** The `:id` of the path, when it has one. */
  readonly id: string | undefined;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

/** What a baseline answers: a status and a JSON body. */
export interface RawAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One measured kind of request. */
export interface HttpScenario {
  /** A short stable key, used in results. */
  readonly key: string;
  /** What the request does, for the table. */
  readonly title: string;
  readonly method: "GET" | "POST";
  /** The path under the mount point; `:id` is replaced by a random seeded id per request. */
  readonly path: string;
  /** The query string, without `?`. */
  readonly query?: string;
  /** The JSON body. */
  readonly body?: unknown;
  /** The status every answer must have; another one counts as an error. */
  readonly status: number;
  /** The hand-written baseline of this request. */
  raw(store: RawStore, request: RawRequest): Promise<RawAnswer>;
}

const LIST_QUERY = `where=${encodeURIComponent(JSON.stringify({ published: true }))}&orderBy=-views&limit=20`;

async function found<T>(value: T | null | Promise<T | null>): Promise<RawAnswer> {
  const result = await value;
  return result === null ? { status: 404, body: { code: "NOT_FOUND" } } : { status: 200, body: result };
}

/** Both list scenarios share a route; the baseline reads `count` from the query as cimiento does. */
async function listRaw(store: RawStore, request: RawRequest): Promise<RawAnswer> {
  return { status: 200, body: await store.list(request.query.get("count") === "true") };
}

/** Every HTTP scenario, in the order they run. */
export const HTTP_SCENARIOS: readonly HttpScenario[] = [
  {
    key: "get",
    title: "get one record by id",
    method: "GET",
    path: "/collections/posts/records/:id",
    status: 200,
    raw: (store, request) => found(store.get(request.id!)),
  },
  {
    key: "list",
    title: "list 20 of 10,000 (filter + sort)",
    method: "GET",
    path: "/collections/posts/records",
    query: LIST_QUERY,
    status: 200,
    raw: listRaw,
  },
  {
    key: "list-count",
    title: "list 20 of 10,000 with count",
    method: "GET",
    path: "/collections/posts/records",
    query: `${LIST_QUERY}&count=true`,
    status: 200,
    raw: listRaw,
  },
  {
    key: "create",
    title: "create one record (validated)",
    method: "POST",
    path: "/collections/posts/records",
    body: CREATE_BODY,
    status: 201,
    raw: async (store, request) => {
      const input = checkNewPost(request.body);
      if (input === null) return { status: 422, body: { code: "VALIDATION_FAILED" } };
      return { status: 201, body: await store.create(input) };
    },
  },
  {
    key: "action",
    title: "action: read + update in one transaction",
    method: "POST",
    path: "/posts/:id/like",
    status: 200,
    raw: (store, request) => found(store.like(request.id!)),
  },
  {
    key: "sign-in",
    title: "sign-in (scrypt N = 2^17, a new session)",
    method: "POST",
    path: "/auth/sign-in",
    body: ACCOUNT,
    status: 200,
    raw: (store, request) => signInRaw(store, request.body),
  },
];
