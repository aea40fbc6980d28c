/**
 * `defineErrors()`: a typed registry of an application's own error codes.
 * @module
 */
import { ApiError } from "./api-error.js";
import { SchemaError } from "./schema-error.js";

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** An error factory per code: `errors.POST_NOT_FOUND("No such post")`. */
export type ErrorFactories<Codes extends Record<string, number>> = {
  readonly [C in keyof Codes & string]: (message: string, details?: Record<string, unknown>) => ApiError<C>;
};

/**
 * Declares error codes (UPPER_SNAKE) with their HTTP status, and returns a typed factory per
 * code. Throwing `errors.X(message)` is the same as `new ApiError(status, "X", message)`, with the
 * code and status checked once, here.
 *
 * @example
 * ```ts
 * export const errors = defineErrors({ POST_NOT_FOUND: 404, ALREADY_PUBLISHED: 409 });
 *
 * throw errors.ALREADY_PUBLISHED("Already published");
 * ```
 */
export function defineErrors<const Codes extends Record<string, number>>(codes: Codes): ErrorFactories<Codes> {
  const factories: Record<string, (message: string, details?: Record<string, unknown>) => ApiError> = {};
  for (const [code, status] of Object.entries(codes)) {
    if (!UPPER_SNAKE.test(code)) throw new SchemaError(`Error code "${code}" is not UPPER_SNAKE.`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new SchemaError(`Error code "${code}" has status ${status}; an error status is from 400 to 599.`);
    }
    factories[code] = (message, details) => new ApiError(status, code, message, details);
  }
  return Object.freeze(factories) as ErrorFactories<Codes>;
}
