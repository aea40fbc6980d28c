/**
 * @internal The action routes of the document: `POST /actions/:name` for each action, and its
 * own `http` binding, with the input and output schemas of its zod schemas.
 * @module
 */
import type { Action } from "../define/action.js";
import type { JsonSchema, OpenApiOperation, OpenApiParameter, OpenApiPathItem, OpenApiResponse } from "./document.js";
import { zodJsonSchema, type SchemaRegistry } from "./json-schema.js";
import { errorResponses, json, schemaRef } from "./shared.js";

/** A Hono path (`/posts/:id/publish`, `:id{[0-9]+}`) as an OpenAPI one (`/posts/{id}/publish`), and its parameters. */
export function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z0-9_]+)(\{(?:[^{}]|\{[^{}]*\})*\})?\??/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

/** `schema` without the members that come from the path. */
function withoutMembers(schema: JsonSchema, names: readonly string[]): JsonSchema {
  if (names.length === 0 || schema.properties === undefined) return schema;
  const properties = { ...schema.properties };
  for (const name of names) delete properties[name];
  const required = (schema.required ?? []).filter((name) => !names.includes(name));
  const { required: _required, ...rest } = schema;
  return { ...rest, properties, ...(required.length > 0 ? { required } : {}) };
}

/** Whether a body of this schema must be sent: it requires members, or it is no object at all. */
function bodyRequired(schema: JsonSchema): boolean {
  if (schema.type === "object") return (schema.required ?? []).length > 0;
  return Object.keys(schema).length > 0;
}

/** The schemas and paths of every action, its own binding included. */
export function actionPaths(actions: Readonly<Record<string, Action<never, unknown>>>, registry: SchemaRegistry): Record<string, OpenApiPathItem> {
  const paths: Record<string, OpenApiPathItem> = {};
  for (const [name, action] of Object.entries(actions)) {
    const definition = action.definition;
    const input = zodJsonSchema(definition.input, "input", registry, `actions.${name}.input`);
    registry.set(`actions.${name}.input`, input);
    const output: JsonSchema =
      definition.output === undefined
        ? { description: `What "${name}" returns (it declares no output schema).` }
        : zodJsonSchema(definition.output, "output", registry, `actions.${name}.output`);
    registry.set(`actions.${name}.output`, output);
    const answered = (status: number): Record<string, OpenApiResponse> => ({
      [String(status)]: { description: "The action's result.", content: json(schemaRef(`actions.${name}.output`)) },
      ...(definition.output === undefined && status !== 204 ? { "204": { description: "The action returned nothing." } } : {}),
      ...errorResponses(),
    });
    const operation = (id: string, rest: Omit<OpenApiOperation, "operationId" | "summary" | "tags">): OpenApiOperation => ({
      operationId: id,
      summary: `Run the action "${name}"`,
      tags: ["actions"],
      ...rest,
    });
    paths[`/actions/${name}`] = {
      post: operation(`actions.${name}`, {
        requestBody: { required: bodyRequired(input), content: json(schemaRef(`actions.${name}.input`)) },
        responses: answered(200),
      }),
    };
    const binding = definition.http;
    if (binding === undefined) continue;
    const method = binding.method ?? "POST";
    const { path, params } = openApiPath(binding.path);
    const parameters: OpenApiParameter[] = params.map((param) => ({ name: param, in: "path", required: true, schema: { type: "string" } }));
    let requestBody: OpenApiOperation["requestBody"];
    const rest = withoutMembers(input, params);
    if (method === "GET" || method === "DELETE") {
      // No body: the input is the query parameters (strings; z.coerce makes numbers of them).
      for (const [member, schema] of Object.entries(rest.properties ?? {})) {
        parameters.push({ name: member, in: "query", required: (rest.required ?? []).includes(member), schema });
      }
    } else {
      requestBody = { required: bodyRequired(rest), content: { "application/json": { schema: rest } } };
    }
    paths[path] = {
      ...paths[path],
      [method.toLowerCase()]: operation(`actions.${name}.route`, {
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(requestBody === undefined ? {} : { requestBody }),
        responses: answered(binding.status ?? 200),
      }),
    };
  }
  return paths;
}
