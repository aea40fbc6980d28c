/**
 * @internal Errors as RFC 9457 `application/problem+json` answers.
 * @module
 */
import type { ApiError } from "../errors/api-error.js";
import type { Answer } from "./exchange.js";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * The problem document of an error: the standard members (`type`, `title`, `status`,
 * `detail`), the stable `code`, the error's details (such as `issues`) and the request id.
 */
export function problemAnswer(error: ApiError, requestId: string | undefined): Answer {
  const body = {
    ...error.details,
    type: "about:blank",
    title: TITLES[error.status] ?? (error.status >= 500 ? "Server Error" : "Client Error"),
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(requestId === undefined ? {} : { requestId }),
  };
  return { status: error.status, headers: { "content-type": "application/problem+json" }, body: JSON.stringify(body) };
}
