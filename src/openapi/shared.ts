/**
 * @internal What the parts of the document share: references to component schemas, JSON
 * content, the error responses of every operation.
 * @module
 */
import type { OpenApiContent, OpenApiResponse } from "./document.js";

/** The name of the problem document's schema and response. */
export const PROBLEM = "Problem";

/** A reference to the component schema `name`. */
export function schemaRef(name: string): string {
  return `#/components/schemas/${name}`;
}

/** `application/json` content of the schema at `ref`. */
export function json(ref: string): OpenApiContent {
  return { "application/json": { schema: { $ref: ref } } };
}

/** The error answers of an operation: every error is a problem document. */
export function errorResponses(): Record<string, OpenApiResponse> {
  return { default: { $ref: `#/components/responses/${PROBLEM}` } };
}
