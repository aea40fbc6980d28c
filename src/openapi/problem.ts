/**
 * @internal The problem document of every error (RFC 9457), as a JSON Schema that lists each
 * stable code cimiento raises, with its status and meaning.
 * @module
 */
import { ERROR_CODES, type ErrorCode } from "../errors/api-error.js";
import type { JsonSchema, OpenApiResponse } from "./document.js";

/** What each code means, as `ERROR_CODES` documents it; a new code without a line here does not compile. */
const MEANINGS: Record<ErrorCode, string> = {
  VALIDATION_FAILED: "The input of a write failed validation; `issues` lists each field's problem.",
  REFERENCE_NOT_FOUND: "A `belongsTo` field names a record that does not exist or that the caller may not read.",
  INVALID_QUERY: "A query (`where`, `orderBy`, `select`, `include`, `limit`, ...) is malformed; `path` names the part.",
  INVALID_REQUEST: "The request itself is malformed: its `Host` header, or its target, is not one a URL can have.",
  LIMIT_EXCEEDED: "A request asks for more than the backend's limits allow; `limit` names the limit and `max` its value.",
  INVALID_CURSOR: "A pagination cursor is malformed or belongs to another query.",
  NOT_FOUND: "The record does not exist (or the caller may not see it).",
  UNAUTHORIZED: "The caller is anonymous and the operation needs a signed-in caller.",
  FORBIDDEN: "The caller may not do this (it may see the record, but not change it).",
  UNIQUE_VIOLATION: "A unique field already holds this value; `fields` names them.",
  STILL_REFERENCED: "The record is still referenced by `belongsTo` fields with `onDelete: \"restrict\"`.",
  INVALID_JSON: "The request body is not valid JSON.",
  UNSUPPORTED_MEDIA_TYPE: "The request body is not `application/json`.",
  PAYLOAD_TOO_LARGE: "The request body is larger than the backend accepts.",
  ROUTE_NOT_FOUND: "No route answers this method and path.",
  COLLECTION_NOT_FOUND: "The path names a collection the backend does not have.",
  INVALID_CREDENTIALS: "Sign-in failed: the e-mail address or the password is wrong (which one is not said).",
  INVALID_SESSION: "A session token or API key was presented but is unknown, expired or revoked.",
  INVALID_TOKEN: "A one-use token (password reset, e-mail verification) is unknown, used or expired.",
  EMAIL_NOT_VERIFIED: "The account's e-mail address is not verified yet.",
  EMAIL_TAKEN: "Sign-up without e-mail verification: the address already has an account.",
  CROSS_ORIGIN_REQUEST: "A cookie-authenticated write came from another origin (CSRF protection).",
  RATE_LIMITED: "Too many attempts; the `Retry-After` header and `retryAfter` say when to retry.",
  TOO_MANY_SUBSCRIPTIONS: "The caller, or the server, holds as many realtime subscriptions as the backend allows; `limit` names the limit and `max` its value.",
  INTERNAL: "Something failed inside; nothing about it is shown.",
  UNAVAILABLE:
    "The backend cannot serve the request now (shutting down, or its database unreachable, busy or full; `reason` says which); nothing was done, and `Retry-After` says when to try again.",
};

/** The codes, in the order of `ERROR_CODES`. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** The schema of the problem document. */
export function problemSchema(): JsonSchema {
  return {
    type: "object",
    description: "An error, as RFC 9457 `application/problem+json`, with a stable `code` to match on.",
    required: ["type", "title", "status", "detail", "code"],
    properties: {
      type: { type: "string", description: "Always `about:blank`." },
      title: { type: "string", description: "The status's reason phrase." },
      status: { type: "integer", minimum: 400, maximum: 599 },
      detail: { type: "string", description: "What went wrong, for humans." },
      code: {
        description: "The stable code: one of cimiento's, or one of the application's own (UPPER_SNAKE).",
        anyOf: [
          ...ERROR_CODE_LIST.map((code): JsonSchema => ({ const: code, description: `${ERROR_CODES[code]}: ${MEANINGS[code]}` })),
          { type: "string", pattern: "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", description: "A code of the application's own." },
        ],
      },
      requestId: { type: "string", description: "The request's id, as in the `X-Request-Id` header." },
      issues: {
        type: "array",
        description: "`VALIDATION_FAILED`: the problem of each field.",
        items: {
          type: "object",
          required: ["path", "code", "message"],
          properties: {
            path: { type: "array", items: { type: ["string", "integer"] } },
            code: { type: "string" },
            message: { type: "string" },
          },
        },
      },
      retryAfter: { type: "integer", description: "`RATE_LIMITED`: seconds to wait." },
    },
  };
}

/** The response of every error, as a `components.responses` entry. */
export function problemResponse(schemaRef: string): OpenApiResponse {
  return {
    description: "An error: `application/problem+json` with a stable `code`.",
    content: { "application/problem+json": { schema: { $ref: schemaRef } } },
  };
}
