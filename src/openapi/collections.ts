/**
 * @internal The collection routes of the document: a record's schema as callers read it, the
 * schemas of a caller's create and update, a page of a list, and the five routes of each
 * collection with their query parameters.
 * @module
 */
import type { CollectionModel, ColumnModel, Model } from "../model/model.js";
import type { JsonSchema, OpenApiOperation, OpenApiParameter, OpenApiPathItem } from "./document.js";
import { fieldValueSchema, nullable, type SchemaRegistry } from "./json-schema.js";
import { errorResponses, json, schemaRef } from "./shared.js";

/** The page sizes of the list routes. */
export interface ListBounds {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

const DATETIME: JsonSchema = { type: "string", format: "date-time" };

/** A column callers may read, unless a field rule hides it from some. */
function readable(column: ColumnModel): boolean {
  return column.field === undefined || !column.field.hidden;
}

/** A column callers may write (not hidden, read-only or generated, not an automatic one). */
function writable(column: ColumnModel): boolean {
  const field = column.field;
  return field !== undefined && !field.hidden && !field.readOnly && field.generated === undefined;
}

/** The schema of a record as callers read it. */
function recordSchema(model: Model, collection: CollectionModel, registry: SchemaRegistry): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const column of collection.columns) {
    if (!readable(column)) continue;
    const field = column.field;
    let schema: JsonSchema;
    if (field === undefined) schema = column.kind === "id" ? { type: "string" } : DATETIME;
    else {
      schema = fieldValueSchema(field, "output", registry, `${collection.name}.${column.name}`);
      const relation = collection.relations.get(column.name);
      if (relation?.kind === "one") {
        schema = {
          description: `The id of the related "${relation.target}" record; with \`include\`, that record.`,
          anyOf: [{ type: "string" }, { $ref: schemaRef(relation.target) }],
        };
      }
      if (column.nullable) schema = nullable(schema);
      if (field.readOnly || field.generated !== undefined) schema = { ...schema, readOnly: true };
    }
    properties[column.name] = schema;
    // A field behind a read rule is absent for callers the rule denies.
    if (field?.access?.read === undefined) required.push(column.name);
  }
  for (const computed of collection.computed) {
    properties[computed.name] =
      computed.kind === "count"
        ? { type: "integer", minimum: 0, readOnly: true, description: `How many related "${computed.relation.target}" records there are.` }
        : { type: "boolean", readOnly: true, description: `Whether there is a related "${computed.relation.target}" record.` };
    required.push(computed.name);
  }
  for (const relation of collection.relations.values()) {
    if (relation.kind !== "many" || !model.collections.has(relation.target)) continue;
    properties[relation.name] = {
      type: "array",
      items: { $ref: schemaRef(relation.target) },
      description: `With \`include=${relation.name}\`: the related "${relation.target}" records.`,
    };
  }
  return {
    type: "object",
    description: `A "${collection.name}" record, as callers read it: hidden fields never appear; with \`select\`, only the selected fields (and \`id\`) do.`,
    properties,
    required,
  };
}

/** The body of a caller's create (`update: false`) or update. */
function writeSchema(collection: CollectionModel, update: boolean, registry: SchemaRegistry): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  // A beforeCreate hook may fill in any field, so none is required of the caller.
  const hooked = collection.hooks.beforeCreate !== undefined;
  if (!update && writableId(collection)) {
    properties["id"] = { type: "string", minLength: 1, maxLength: 255 };
  }
  for (const column of collection.columns) {
    if (!writable(column)) continue;
    const field = column.field!;
    const value = fieldValueSchema(field, "input", registry, `${collection.name}.${column.name}`);
    properties[column.name] = field.optional ? nullable(value) : value;
    if (!update && !hooked && !field.optional && field.default === undefined) required.push(column.name);
  }
  return {
    type: "object",
    description: update
      ? `The fields of a "${collection.name}" record to change.`
      : `A new "${collection.name}" record: read-only, generated and hidden fields are not sent.`,
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

/** Whether callers choose the ids of records they create (`clientIds`). */
function writableId(collection: CollectionModel): boolean {
  const shape = (collection.callerCreateSchema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape?.["id"] !== undefined;
}

/** The schema of a page of a list. */
function pageSchema(collection: CollectionModel): JsonSchema {
  return {
    type: "object",
    required: ["items", "nextCursor"],
    properties: {
      items: { type: "array", items: { $ref: schemaRef(collection.name) } },
      nextCursor: { type: ["string", "null"], description: "The `cursor` of the next page; `null` on the last one." },
      total: { type: "integer", minimum: 0, description: "With `count=true`: how many records match `where`." },
    },
  };
}

const SELECT: OpenApiParameter = {
  name: "select",
  in: "query",
  description: "Fields to return, separated by commas (the id always comes), e.g. `title,views`.",
  schema: { type: "string" },
};
const INCLUDE: OpenApiParameter = {
  name: "include",
  in: "query",
  description: "Relations to include, separated by commas and nested with dots (`author,comments.author`), or the include object as JSON.",
  schema: { type: "string" },
};
const ID: OpenApiParameter = { name: "id", in: "path", required: true, schema: { type: "string" } };

/** The query parameters of a list. */
function listParameters(bounds: ListBounds): OpenApiParameter[] {
  return [
    {
      name: "where",
      in: "query",
      description: "A filter, as a JSON object: fields and operators (`eq ne gt gte lt lte in notIn contains startsWith endsWith isNull`, `and or not`, relation filters).",
      schema: { type: "string" },
      example: '{"published":true}',
    },
    {
      name: "orderBy",
      in: "query",
      description: "Fields to sort by, separated by commas; `-` before a field sorts it descending.",
      schema: { type: "string" },
      example: "-createdAt,title",
    },
    {
      name: "limit",
      in: "query",
      description: "How many records a page holds.",
      schema: { type: "integer", minimum: 0, maximum: bounds.maxLimit, default: bounds.defaultLimit },
    },
    { name: "cursor", in: "query", description: "The `nextCursor` of the previous page.", schema: { type: "string" } },
    { name: "offset", in: "query", description: "How many records to skip (not with `cursor`).", schema: { type: "integer", minimum: 0 } },
    { name: "count", in: "query", description: "Whether to add `total`, the number of records matching `where`.", schema: { type: "boolean" } },
    INCLUDE,
    SELECT,
  ];
}

/** The schemas and paths of every collection. */
export function collectionPaths(model: Model, bounds: ListBounds, registry: SchemaRegistry): Record<string, OpenApiPathItem> {
  const paths: Record<string, OpenApiPathItem> = {};
  for (const collection of model.collections.values()) {
    const name = collection.name;
    registry.set(name, recordSchema(model, collection, registry));
    registry.set(`${name}.create`, writeSchema(collection, false, registry));
    registry.set(`${name}.update`, writeSchema(collection, true, registry));
    registry.set(`${name}.page`, pageSchema(collection));
    const tags = [name];
    const record = json(schemaRef(name));
    const operation = (id: string, summary: string, rest: Omit<OpenApiOperation, "operationId" | "summary" | "tags">): OpenApiOperation => ({
      operationId: `${name}.${id}`,
      summary,
      tags,
      ...rest,
    });
    paths[`/collections/${name}/records`] = {
      get: operation("list", `List ${name}`, {
        parameters: listParameters(bounds),
        responses: { "200": { description: "A page of records.", content: json(schemaRef(`${name}.page`)) }, ...errorResponses() },
      }),
      post: operation("create", `Create a ${name} record`, {
        parameters: [INCLUDE, SELECT],
        requestBody: { required: true, content: json(schemaRef(`${name}.create`)) },
        responses: { "201": { description: "The created record.", content: record }, ...errorResponses() },
      }),
    };
    paths[`/collections/${name}/records/{id}`] = {
      get: operation("get", `Get a ${name} record`, {
        parameters: [ID, INCLUDE, SELECT],
        responses: { "200": { description: "The record.", content: record }, ...errorResponses() },
      }),
      patch: operation("update", `Update a ${name} record`, {
        parameters: [ID, INCLUDE, SELECT],
        requestBody: { required: true, content: json(schemaRef(`${name}.update`)) },
        responses: { "200": { description: "The updated record.", content: record }, ...errorResponses() },
      }),
      delete: operation("delete", `Delete a ${name} record`, {
        parameters: [ID],
        responses: { "204": { description: "Deleted." }, ...errorResponses() },
      }),
    };
  }
  return paths;
}
