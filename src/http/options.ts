/**
 * The options of the HTTP handler.
 * @module
 */
import type { ApiError } from "../errors/api-error.js";
import type { OpenApiDocument, OpenApiOptions } from "../openapi/document.js";

/**
 * The OpenAPI document the backend serves at `GET /openapi.json`, and its reference page at
 * `GET /reference`.
 *
 * @example
 * ```ts
 * http: {
 *   openapi: {
 *     info: { title: "Blog API", version: "1.0.0" },
 *     servers: [{ url: "https://blog.example.com/api" }],
 *     reference: false, // no page; the document is still served
 *     filter: (document) => ({ ...document, paths: Object.fromEntries(Object.entries(document.paths).filter(([path]) => !path.startsWith("/auth/api-keys"))) }),
 *   },
 * }
 * ```
 */
export interface OpenApiHttpOptions extends OpenApiOptions {
  /**
   * Serve `GET /reference`, an API reference page made with Scalar's, and its script at
   * `GET /reference/scalar.js`. The script comes from the optional peer `@scalar/api-reference`
   * (installed by the host); without it, the page says how to install it.
   * @default true
   */
  reference?: boolean;
  /**
   * Changes the document before it is served (it is built, filtered and kept once, at the first
   * request for it): remove paths, add descriptions, security schemes of the host's own.
   * @default the document as it is
   */
  filter?: (document: OpenApiDocument) => OpenApiDocument;
}

/** CORS: which origins may call the API from a browser (none by default). */
export interface CorsOptions {
  /** Allowed origins: a list, `"*"`, or a function of the request's origin. */
  origin: string | readonly string[] | ((origin: string) => boolean);
  /** @default false */
  credentials?: boolean;
  /** @default ["GET", "POST", "PATCH", "DELETE", "PUT"] */
  allowMethods?: readonly string[];
  /** @default the request's Access-Control-Request-Headers */
  allowHeaders?: readonly string[];
  /** @default [] */
  exposeHeaders?: readonly string[];
  /** Seconds browsers may cache a preflight. @default 600 */
  maxAge?: number;
}

/** The HTTP side of a backend. Every option has a safe default. */
export interface HttpOptions {
  /**
   * The page size of list routes when `limit` is not given.
   * @default 20
   */
  defaultLimit?: number;
  /**
   * The largest `limit` a list accepts; a larger one is an `INVALID_QUERY` error.
   * @deprecated Set `limits.maxLimit` of `createBackend`, which bounds in-process callers too;
   * this one is read when that is not set.
   * @default 100
   */
  maxLimit?: number;
  /**
   * The largest request body, in bytes (also for chunked bodies without Content-Length).
   * @default 1048576 (1 MiB)
   */
  bodyLimit?: number;
  /** CORS; absent: no CORS headers, so browsers allow only same-origin calls. */
  cors?: CorsOptions;
  /**
   * Builds the response of an error, for hosts with an error shape of their own. By default
   * errors are RFC 9457 `application/problem+json`.
   * @example
   * ```ts
   * formatError: (error) => Response.json({ errors: { body: [error.message] } }, { status: error.status })
   * ```
   */
  formatError?: (error: ApiError, request: Request) => Response | Promise<Response>;
  /**
   * `GET /openapi.json` (the document of `backend.openapi()`) and `GET /reference` (its
   * reference page); `false` serves neither.
   * @default {}
   */
  openapi?: OpenApiHttpOptions | false;
}
