/**
 * `ApiError`: the one error type callers see, with an HTTP status and a stable code.
 * @module
 */

/**
 * The codes cimiento itself raises, with their HTTP status. Hosts may use their own codes
 * (UPPER_SNAKE) with {@link ApiError} too.
 */
export const ERROR_CODES = {
  /** The input of a write failed validation; `details.issues` lists each field's problem. */
  VALIDATION_FAILED: 422,
  /** A `belongsTo` field names a record that does not exist or that the caller may not read. */
  REFERENCE_NOT_FOUND: 422,
  /** A query (`where`, `orderBy`, `select`, `include`, `limit`, ...) is malformed. */
  INVALID_QUERY: 400,
  /** The request itself is malformed: its `Host` header, or its target, is not one a URL can have. */
  INVALID_REQUEST: 400,
  /**
   * A request asks for more than the backend's limits allow (include depth, records per request,
   * `where` size, query length); `details.limit` names the limit and `details.max` its value.
   */
  LIMIT_EXCEEDED: 400,
  /** A pagination cursor is malformed or belongs to another query. */
  INVALID_CURSOR: 400,
  /** The record does not exist (or the caller may not see it). */
  NOT_FOUND: 404,
  /** The caller is anonymous and the operation needs a signed-in caller. */
  UNAUTHORIZED: 401,
  /** The caller may not do this (it may see the record, but not change it). */
  FORBIDDEN: 403,
  /** A unique field already holds this value; `details.fields` names them. */
  UNIQUE_VIOLATION: 409,
  /** The record is still referenced by `belongsTo` fields with `onDelete: "restrict"`. */
  STILL_REFERENCED: 409,
  /** The request body is not valid JSON. */
  INVALID_JSON: 400,
  /** The request body is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The request body is larger than the backend accepts. */
  PAYLOAD_TOO_LARGE: 413,
  /** No route answers this method and path. */
  ROUTE_NOT_FOUND: 404,
  /** The path names a collection the backend does not have. */
  COLLECTION_NOT_FOUND: 404,
  /** Sign-in failed: the e-mail address or the password is wrong (which one is not said). */
  INVALID_CREDENTIALS: 401,
  /** A session token or API key was presented but is unknown, expired or revoked. */
  INVALID_SESSION: 401,
  /** A one-use token (password reset, e-mail verification) is unknown, used or expired. */
  INVALID_TOKEN: 400,
  /** The account's e-mail address is not verified yet. */
  EMAIL_NOT_VERIFIED: 403,
  /** Sign-up without e-mail verification: the address already has an account. */
  EMAIL_TAKEN: 409,
  /** A cookie-authenticated write came from another origin (CSRF protection). */
  CROSS_ORIGIN_REQUEST: 403,
  /** Too many attempts; the `Retry-After` header and `details.retryAfter` say when to retry. */
  RATE_LIMITED: 429,
  /**
   * The caller, or the server, holds as many realtime subscriptions as the backend allows;
   * `details.limit` names the limit (`maxPerCaller`, `maxPerProcess`) and `details.max` its value.
   */
  TOO_MANY_SUBSCRIPTIONS: 429,
  /** Something failed inside; nothing about it is shown. */
  INTERNAL: 500,
  /**
   * The backend cannot serve the request now, through no fault of the request: it is shutting
   * down, or its database cannot be reached, is busy or is full (`details.reason`:
   * `"closing"`, `"unreachable"`, `"busy"`, `"full"`). Nothing was done; the `Retry-After`
   * header says when to try again.
   */
  UNAVAILABLE: 503,
} as const;

/** A code cimiento raises. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one field of an input. */
export interface FieldIssue {
  /** Where in the input: `["title"]`, `["tags", 2]`, or `[]` for the whole input. */
  readonly path: readonly (string | number)[];
  /** A stable machine-readable kind, e.g. `too_small`, `invalid_type`, `unrecognized_keys`. */
  readonly code: string;
  /** A sentence for humans. */
  readonly message: string;
}

/**
 * An error with an HTTP status, a stable UPPER_SNAKE `code`, a message for humans and optional
 * details. Throw it from actions and hooks; cimiento throws it for every expected failure.
 *
 * @example
 * ```ts
 * throw new ApiError(409, "ALREADY_PUBLISHED", "Already published");
 *
 * try {
 *   await backend.system.data.posts.create({ title: "" });
 * } catch (error) {
 *   if (error instanceof ApiError && error.code === "VALIDATION_FAILED") {
 *     console.log(error.issues); // [{ path: ["title"], code: "too_small", message: "..." }]
 *   }
 * }
 * ```
 */
export class ApiError<Code extends string = string> extends Error {
  override readonly name = "ApiError";
  /** The HTTP status this error answers with. */
  readonly status: number;
  /** The stable code; match on this, not on the message. */
  readonly code: Code;
  /** Extra data that is safe to show to the caller. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(status: number, code: Code, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The field issues of a `VALIDATION_FAILED` error; empty for other errors. */
  get issues(): readonly FieldIssue[] {
    const issues = this.details?.["issues"];
    return Array.isArray(issues) ? (issues as FieldIssue[]) : [];
  }
}

/** @internal An `INVALID_QUERY` error for the option or filter at `path`. */
export function invalidQuery(path: string, message: string): never {
  throw apiError("INVALID_QUERY", `${path}: ${message}`, { path });
}

/** @internal Builds an {@link ApiError} for one of cimiento's own codes. */
export function apiError(code: ErrorCode, message: string, details?: Record<string, unknown>): ApiError<ErrorCode> {
  return new ApiError(ERROR_CODES[code], code, message, details);
}

/**
 * What a caller may be shown of any error: an {@link ApiError} as it is; anything else becomes a
 * 500 `INTERNAL` error that exposes nothing (log the original on the server).
 *
 * @example
 * ```ts
 * try {
 *   await backend.as(user).actions.publish({ id });
 * } catch (error) {
 *   const safe = toApiError(error); // ApiError, with nothing internal in it
 *   if (safe.status === 500) logger.error("publish failed", { error });
 * }
 * ```
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return apiError("INTERNAL", "Something went wrong on our side.");
}
