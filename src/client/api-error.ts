/**
 * The client's error: a problem document of the API, thrown by every client call that is
 * answered with an error status.
 * @module
 */
import type { ErrorCode, FieldIssue } from "../errors/api-error.js";

/** A code the API answers with: one of cimiento's, or a host's own (UPPER_SNAKE). */
export type ClientErrorCode = ErrorCode | (string & {});

/**
 * An error answer of the API (an RFC 9457 problem document) as the client throws it: the HTTP
 * `status`, the stable `code`, the problem's `title` and `detail` (also the `message`), the
 * field `issues` of a `VALIDATION_FAILED`, and every other member of the document in `details`.
 * It is the client's own class: the server's `ApiError` is never loaded in a browser.
 *
 * @example
 * ```ts
 * import { ApiError } from "cimiento/client";
 *
 * try {
 *   await client.collections.posts.create({ title: "" });
 * } catch (error) {
 *   if (error instanceof ApiError && error.code === "VALIDATION_FAILED") {
 *     for (const issue of error.issues) console.log(issue.path.join("."), issue.message);
 *   }
 * }
 * ```
 */
export class ApiError<Code extends string = ClientErrorCode> extends Error {
  override readonly name = "ApiError";
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The stable code; match on this, not on the message. */
  readonly code: Code;
  /** The problem's title (`"Unprocessable Content"`); its `detail` is the `message`. */
  readonly title: string;
  /** The whole problem document (`issues`, `requestId`, `retryAfter`, a host's own members). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, code: Code, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.title = typeof details["title"] === "string" ? details["title"] : "";
    this.details = details;
  }

  /** The field issues of a `VALIDATION_FAILED` error; empty for other errors. */
  get issues(): readonly FieldIssue[] {
    const issues = this.details["issues"];
    return Array.isArray(issues) ? (issues as FieldIssue[]) : [];
  }

  /** The id of the request the server answered, to find it in the server's log. */
  get requestId(): string | undefined {
    const id = this.details["requestId"];
    return typeof id === "string" ? id : undefined;
  }
}

/**
 * Whether `error` is an {@link ApiError} of the client, with the given code when one is given:
 * `error.code` is then narrowed to it.
 *
 * @example
 * ```ts
 * try {
 *   await client.auth.signIn({ email, password });
 * } catch (error) {
 *   if (isApiError(error, "INVALID_CREDENTIALS")) showWrongPassword();
 *   else throw error;
 * }
 * ```
 */
export function isApiError<const Code extends ClientErrorCode = ClientErrorCode>(error: unknown, code?: Code): error is ApiError<Code> {
  return error instanceof ApiError && (code === undefined || error.code === code);
}
