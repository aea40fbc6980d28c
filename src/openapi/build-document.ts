/**
 * @internal The OpenAPI 3.1 document of a backend, built from its one definition: collections,
 * actions, the auth routes the options turn on, `/health`, the problem document of every error
 * and the security schemes.
 * @module
 */
import type { Auth } from "../auth/auth.js";
import type { Action } from "../define/action.js";
import type { Model } from "../model/model.js";
import { actionPaths } from "./actions.js";
import { authPaths, authSecurity } from "./auth.js";
import { collectionPaths, type ListBounds } from "./collections.js";
import type { JsonSchema, OpenApiDocument, OpenApiOptions, OpenApiPathItem } from "./document.js";
import type { SchemaRegistry } from "./json-schema.js";
import { problemResponse, problemSchema } from "./problem.js";
import { errorResponses, PROBLEM, schemaRef } from "./shared.js";

/** What the document is built from. */
export interface OpenApiSource {
  readonly model: Model;
  readonly actions: Readonly<Record<string, Action<never, unknown>>>;
  /** Built-in auth, when the backend has it. */
  readonly auth: Auth | undefined;
  readonly bounds: ListBounds;
  /** Which of the document's own routes the backend serves. */
  readonly served: { readonly document: boolean; readonly reference: boolean };
}

/** The path of the document, of the reference page and of the page's script. */
export const OPENAPI_PATHS = { document: "/openapi.json", reference: "/reference", script: "/reference/scalar.js" } as const;

function metaPaths(served: OpenApiSource["served"]): Record<string, OpenApiPathItem> {
  const paths: Record<string, OpenApiPathItem> = {
    "/health": {
      get: {
        operationId: "health",
        summary: "Whether the backend answers",
        tags: ["meta"],
        security: [],
        responses: {
          "200": {
            description: "It answers.",
            content: { "application/json": { schema: { type: "object", required: ["status"], properties: { status: { const: "ok" } } } } },
          },
        },
      },
    },
  };
  if (served.document) {
    paths[OPENAPI_PATHS.document] = {
      get: {
        operationId: "openapi",
        summary: "This document",
        tags: ["meta"],
        security: [],
        responses: { "200": { description: "The OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } }, ...errorResponses() },
      },
    };
  }
  if (served.document && served.reference) {
    paths[OPENAPI_PATHS.reference] = {
      get: {
        operationId: "reference",
        summary: "The API reference page",
        tags: ["meta"],
        security: [],
        responses: { "200": { description: "An HTML page that shows this document.", content: { "text/html": { schema: { type: "string" } } } }, ...errorResponses() },
      },
    };
    paths[OPENAPI_PATHS.script] = {
      get: {
        operationId: "referenceScript",
        summary: "The script of the API reference page",
        tags: ["meta"],
        security: [],
        responses: { "200": { description: "Scalar's API reference, as one browser script.", content: { "text/javascript": { schema: { type: "string" } } } }, ...errorResponses() },
      },
    };
  }
  return paths;
}

/** The component schemas, by name in a fixed order, so that a document is the same on every run. */
function sorted(registry: SchemaRegistry): Record<string, JsonSchema> {
  return Object.fromEntries([...registry.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The OpenAPI 3.1 document of a backend. */
export function buildOpenApiDocument(source: OpenApiSource, options: OpenApiOptions = {}): OpenApiDocument {
  const registry: SchemaRegistry = new Map();
  const problem = source.model.collections.has(PROBLEM) ? `cimiento.${PROBLEM}` : PROBLEM;
  const paths: Record<string, OpenApiPathItem> = {
    ...metaPaths(source.served),
    ...collectionPaths(source.model, source.bounds, registry),
    ...actionPaths(source.actions, registry),
  };
  const security = source.auth === undefined ? undefined : authSecurity(source.auth);
  if (source.auth !== undefined) Object.assign(paths, authPaths(source.auth, security!, registry));
  registry.set(problem, problemSchema());
  const text = JSON.stringify(paths).replaceAll(`"#/components/responses/${PROBLEM}"`, `"#/components/responses/${problem}"`);
  const tags = [
    ...[...source.model.collections.keys()].map((name) => ({ name, description: `The "${name}" collection.` })),
    ...(Object.keys(source.actions).length > 0 ? [{ name: "actions", description: "Business functions." }] : []),
    ...(source.auth !== undefined ? [{ name: "auth", description: "Accounts, sessions and API keys." }] : []),
    { name: "meta", description: "Health, this document and its reference page." },
  ];
  return {
    openapi: "3.1.0",
    info: { ...options.info, title: options.info?.title ?? "API", version: options.info?.version ?? "0.0.0" },
    ...(options.servers === undefined ? {} : { servers: options.servers.map((server) => ({ ...server })) }),
    ...(security === undefined ? {} : { security: security.any }),
    tags,
    paths: JSON.parse(text) as Record<string, OpenApiPathItem>,
    components: {
      schemas: sorted(registry),
      responses: { [problem]: problemResponse(schemaRef(problem)) },
      ...(security === undefined ? {} : { securitySchemes: security.schemes }),
    },
  };
}
