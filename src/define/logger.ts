/**
 * The logger cimiento reports to: failures that must not be lost but have no caller to throw to.
 * @module
 */

/**
 * Where cimiento reports what it cannot throw to a caller (a failed `afterCommit` handler, and
 * later unexpected errors of requests). Any object with these methods works: `console`, pino,
 * winston.
 *
 * @example
 * ```ts
 * createBackend({ collections, logger: { error: (message, details) => pino.error(details, message) } });
 * ```
 */
export interface Logger {
  error(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
}

/** The default logger: `console.error`. */
export const consoleLogger: Logger = {
  error: (message, details) => console.error(`[cimiento] ${message}`, details ?? ""),
  warn: (message, details) => console.warn(`[cimiento] ${message}`, details ?? ""),
};
