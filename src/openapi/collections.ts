/**
 * @internal The collection routes of the document: a record's schema as callers read it, the
 * schemas of a caller's create and update, a page of a list, the five routes of each collection
 * with their query parameters, and the subscription route of each realtime collection with the
 * schema of its events.
 * @module
 */
import type { CollectionModel, ColumnModel, Model } from "../model/model.js";
import type { JsonSchema, OpenApiOperation, OpenApiParameter, OpenApiPathItem } from "./document.js";
import { fieldValueSchema, nullable, type SchemaRegistry } from "./json-schema.js";
import { errorResponses, json, PROBLEM, schemaRef } from "./shared.js";

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

const WHERE: OpenApiParameter = {
  name: "where",
  in: "query",
  description: "A filter, as a JSON object: fields and operators (`eq ne gt gte lt lte in notIn contains startsWith endsWith isNull`, `and or not`, relation filters).",
  schema: { type: "string" },
  example: '{"published":true}',
};
/** A sequence as subscribers see it: the event's number in the log, enciphered (opaque). */
const SEQUENCE: JsonSchema = { type: "string", pattern: "^[A-Za-z0-9_-]{22}$" };

/** The query parameters of a list. */
function listParameters(bounds: ListBounds): OpenApiParameter[] {
  return [
    WHERE,
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

/** The parameters of a subscription: which records, in what shape, and where to resume. */
const SUBSCRIBE_PARAMETERS: OpenApiParameter[] = [
  { ...WHERE, description: `${WHERE.description} AND-ed with the caller's \`list\` rule, as in a list.` },
  INCLUDE,
  SELECT,
  {
    name: "after",
    in: "query",
    description: "Resume after this event (the `sequence` of the last one heard): the events since are sent first, from the event log, or a `gap` event says they are no longer there.",
    schema: SEQUENCE,
  },
  {
    name: "Last-Event-ID",
    in: "header",
    description: "The same as `after` (a browser's `EventSource` sends it when it reconnects); `after` wins when both are given.",
    schema: SEQUENCE,
  },
];

/** The schema of the events of a subscription to `name`: one of four shapes, by `type`. */
function eventSchema(name: string): JsonSchema {
  const sequence: JsonSchema = { ...SEQUENCE, description: "The event's place in the event log, opaque: resume after it with `after` or `Last-Event-ID`." };
  return {
    description: `An event of a subscription to "${name}": the \`data\` of one SSE event (one line of JSON), named by its \`type\`, with its \`sequence\` (when it has one) as the SSE \`id\`.`,
    oneOf: [
      {
        type: "object",
        description: "A change of a record the caller may read, the record as it reads it (`deleted` and `left`: as it was): `entered` and `left` when an update makes a record start or stop matching the caller's rule or `where`.",
        required: ["type", "sequence", "record"],
        properties: { type: { enum: ["created", "updated", "entered", "deleted", "left"] }, sequence, record: { $ref: schemaRef(name) } },
      },
      {
        type: "object",
        description: "First (after the events it resumes from, with `after`): the events that follow are those after `sequence`.",
        required: ["type", "sequence"],
        properties: { type: { const: "ready" }, sequence },
      },
      {
        type: "object",
        description: "After `ready`, when resuming: some events after `after` are no longer in the event log; read again what is needed.",
        required: ["type", "sequence"],
        properties: { type: { const: "gap" }, sequence },
      },
      {
        type: "object",
        description: "Last, when the backend ends the subscription: it is closing, the client read too slowly, its session or API key was revoked, or its events could not be read.",
        required: ["type", "reason"],
        properties: { type: { const: "end" }, reason: { enum: ["closing", "slow", "revoked", "error"] } },
      },
    ],
  };
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
    if (!collection.realtime) continue;
    registry.set(`${name}.event`, eventSchema(name));
    const problem = { $ref: `#/components/responses/${PROBLEM}` };
    paths[`/collections/${name}/subscribe`] = {
      get: operation("subscribe", `Subscribe to ${name}`, {
        description:
          "The committed changes of the records the caller may list that match `where`, as Server-Sent Events, until the client goes away or the backend ends the subscription (`end`). Each event is named by its `type`; its `data` is one of the event schemas; changes, `ready` and `gap` have their `sequence` as `id`. A comment (`: heartbeat`) keeps an idle connection open. Errors before the stream starts are problem documents.",
        parameters: SUBSCRIBE_PARAMETERS,
        responses: {
          "200": {
            description: "The stream of events (`text/event-stream`): each event's `data` is one of these.",
            content: { "text/event-stream": { schema: { $ref: schemaRef(`${name}.event`) } } },
          },
          "400": problem,
          "401": problem,
          "429": problem,
          ...errorResponses(),
        },
      }),
    };
  }
  return paths;
}
