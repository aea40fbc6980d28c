/**
 * The shape of an OpenAPI 3.1 document, as `backend.openapi()` builds it: the members it writes,
 * typed, and room for the rest of the specification (extensions, members a host adds).
 * @module
 */

/**
 * A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1): the keywords cimiento writes are
 * typed, any other keyword is allowed.
 * @example
 * ```ts
 * const title: JsonSchema = { type: "string", minLength: 1, maxLength: 200 };
 * backend.openapi().components.schemas["posts.create"]?.properties?.["title"]; // like `title`
 * ```
 */
export interface JsonSchema {
  $ref?: string;
  type?: string | readonly string[];
  format?: string;
  description?: string;
  enum?: readonly unknown[];
  const?: unknown;
  default?: unknown;
  examples?: readonly unknown[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: readonly JsonSchema[];
  allOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  readOnly?: boolean;
  [keyword: string]: unknown;
}

/** `info` of a document: its title and version are required by OpenAPI. */
export interface OpenApiInfo {
  title: string;
  version: string;
  summary?: string;
  description?: string;
  termsOfService?: string;
  contact?: { name?: string; url?: string; email?: string };
  license?: { name: string; identifier?: string; url?: string };
  [extension: `x-${string}`]: unknown;
}

/**
 * A server the API answers at.
 * @example
 * ```ts
 * const servers: OpenApiServer[] = [{ url: "https://api.example.com/api", description: "Production" }, { url: "/api" }];
 * ```
 */
export interface OpenApiServer {
  url: string;
  description?: string;
  variables?: Record<string, { default: string; enum?: string[]; description?: string }>;
}

/** A parameter of an operation (path, query, header or cookie). */
export interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  description?: string;
  required?: boolean;
  schema?: JsonSchema;
  example?: unknown;
  [extension: `x-${string}`]: unknown;
}

/** The body or content of a request or response, by media type. */
export type OpenApiContent = Record<string, { schema?: JsonSchema; example?: unknown }>;

/** A response, or a reference to one of `components.responses`. */
export type OpenApiResponse =
  | { description: string; content?: OpenApiContent; headers?: Record<string, { description?: string; schema?: JsonSchema }> }
  | { $ref: string };

/** A request body. */
export interface OpenApiRequestBody {
  description?: string;
  required?: boolean;
  content: OpenApiContent;
}

/** Which security schemes an operation accepts: each entry is one way (`{}`: none needed). */
export type OpenApiSecurityRequirement = Record<string, string[]>;

/**
 * One operation: a method of a path.
 * @example
 * ```ts
 * const list: OpenApiOperation | undefined = backend.openapi().paths["/collections/posts/records"]?.get;
 * list?.operationId; // "posts.list"
 * ```
 */
export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: OpenApiParameter[];
  requestBody?: OpenApiRequestBody;
  responses: Record<string, OpenApiResponse>;
  security?: OpenApiSecurityRequirement[];
  deprecated?: boolean;
  [extension: `x-${string}`]: unknown;
}

/** The HTTP methods a path item can hold. */
export type OpenApiMethod = "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace";

/** The operations of one path, by method. */
export type OpenApiPathItem = { [M in OpenApiMethod]?: OpenApiOperation } & {
  summary?: string;
  description?: string;
  parameters?: OpenApiParameter[];
};

/**
 * A security scheme of `components.securitySchemes`.
 * @example
 * ```ts
 * // A host's own auth (auth.resolve) describes its scheme with http.openapi.filter:
 * const filter = (document: OpenApiDocument): OpenApiDocument => ({
 *   ...document,
 *   components: { ...document.components, securitySchemes: { jwt: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
 *   security: [{}, { jwt: [] }],
 * });
 * ```
 */
export type OpenApiSecurityScheme =
  | { type: "http"; scheme: string; bearerFormat?: string; description?: string }
  | { type: "apiKey"; name: string; in: "header" | "query" | "cookie"; description?: string };

/**
 * An OpenAPI 3.1 document, as `backend.openapi()` returns it and `GET /openapi.json` serves it.
 *
 * @example
 * ```ts
 * const document: OpenApiDocument = backend.openapi({ info: { title: "Blog", version: "1.0.0" } });
 * document.paths["/collections/posts/records"]?.get?.operationId; // "posts.list"
 * ```
 */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: OpenApiInfo;
  jsonSchemaDialect?: string;
  servers?: OpenApiServer[];
  paths: Record<string, OpenApiPathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses?: Record<string, OpenApiResponse>;
    parameters?: Record<string, OpenApiParameter>;
    securitySchemes?: Record<string, OpenApiSecurityScheme>;
    [member: string]: unknown;
  };
  security?: OpenApiSecurityRequirement[];
  tags?: { name: string; description?: string }[];
  externalDocs?: { url: string; description?: string };
  [extension: `x-${string}`]: unknown;
}

/**
 * What `backend.openapi()` takes: the document's `info` and `servers`.
 *
 * @example
 * ```ts
 * backend.openapi({
 *   info: { title: "Blog API", version: "2.1.0" },
 *   servers: [{ url: "https://blog.example.com/api" }],
 * });
 * ```
 */
export interface OpenApiOptions {
  /**
   * The document's `info`; a missing `title` or `version` is filled in.
   * @default { title: "API", version: "0.0.0" }
   */
  info?: Partial<OpenApiInfo>;
  /**
   * Where the API answers: the URL of the backend's mount point. Absent: no `servers`, which
   * OpenAPI reads as `/` of the document's own origin.
   */
  servers?: OpenApiServer[];
}
