/**
 * The subscription route in the OpenAPI document: `GET /collections/{name}/subscribe` for each
 * realtime collection and no other, its query parameters and `Last-Event-ID` header, its
 * `text/event-stream` answer whose schema is one of the four event shapes (the record as the
 * collection's read schema), its error answers; the document stays valid OpenAPI 3.1,
 * openapi-typescript makes the events a union told apart by `type`, and the route it names is
 * served as it says.
 */
import { validate } from "@readme/openapi-parser";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, expect, test } from "vitest";
import { collection, createBackend, field, type JsonSchema, type OpenApiDocument } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { fastHasher } from "../auth/support.js";

const posts = collection("posts", {
  fields: { title: field.text(), secret: field.text().optional().hidden() },
  realtime: true,
  access: { list: () => true },
});
const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true } });

describeEachDatabase("the subscription route in the OpenAPI document", (db) => {
  let backend: ReturnType<typeof make>;
  let drop: () => Promise<void>;
  let document: OpenApiDocument;
  const make = (database: Parameters<typeof createBackend>[0]["database"]) =>
    createBackend({ database, collections: { posts, notes }, auth: { password: { hasher: fastHasher } } });

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = make(fresh.database);
    await backend.migrate();
    document = backend.openapi();
  });
  afterAll(async () => {
    await backend?.close();
    await drop?.();
  });

  test("only realtime collections have the route, and the document is valid OpenAPI 3.1", async () => {
    expect(Object.keys(document.paths).filter((path) => path.endsWith("/subscribe"))).toEqual(["/collections/posts/subscribe"]);
    const result = await validate(structuredClone(document) as never);
    expect(result).toMatchObject({ valid: true, specification: "OpenAPI" });
    expect(result.warnings).toEqual([]);
  });

  test("its parameters, its event stream and its errors", () => {
    const operation = document.paths["/collections/posts/subscribe"]!.get!;
    expect(operation.operationId).toBe("posts.subscribe");
    expect(operation.tags).toEqual(["posts"]);
    expect(operation.parameters!.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual([
      "query:where",
      "query:include",
      "query:select",
      "query:after",
      "header:Last-Event-ID",
    ]);
    expect(operation.responses["200"]).toMatchObject({ content: { "text/event-stream": { schema: { $ref: "#/components/schemas/posts.event" } } } });
    for (const status of ["400", "401", "429", "default"]) {
      expect(operation.responses[status]).toEqual({ $ref: "#/components/responses/Problem" });
    }

    const event = document.components.schemas["posts.event"]!;
    const shapes = event.oneOf as JsonSchema[];
    const typeOf = (shape: JsonSchema) => shape.properties!["type"]!;
    expect(shapes.map(typeOf)).toEqual([
      { enum: ["created", "updated", "entered", "deleted", "left"] },
      { const: "ready" },
      { const: "gap" },
      { const: "end" },
    ]);
    expect(shapes.map((shape) => shape.required)).toEqual([["type", "sequence", "record"], ["type", "sequence"], ["type", "sequence"], ["type", "reason"]]);
    expect(shapes[0]!.properties!["record"]).toEqual({ $ref: "#/components/schemas/posts" });
    expect(shapes[3]!.properties!["reason"]).toEqual({ enum: ["closing", "slow", "revoked", "error"] });
    // The record is the read schema: no hidden field.
    expect(Object.keys(document.components.schemas["posts"]!.properties!)).not.toContain("secret");
    expect(document.components.schemas["notes.event"]).toBeUndefined();
  });

  test("openapi-typescript makes the events a union told apart by type, the record as the collection's", async () => {
    const generated = astToString(await openapiTS(structuredClone(document) as never)).replace(/\s+/g, " ");
    expect(generated).toContain('"/collections/posts/subscribe": {');
    expect(generated).toContain('type: "created" | "updated" | "entered" | "deleted" | "left";');
    expect(generated).toContain('record: components["schemas"]["posts"];');
    expect(generated).toContain('type: "ready";');
    expect(generated).toContain('type: "end";');
    expect(generated).toMatch(/"text\/event-stream": components\["schemas"\]\["posts\.event"\]/);
  });

  test("the route is served as the document says: an event stream whose first event is one of its shapes", async () => {
    const response = await backend.fetch(new Request("http://local/collections/posts/subscribe?select=title"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const text = new TextDecoder().decode(value);
    expect(text).toMatch(/^event: ready\nid: [\w-]{22}\ndata: \{"type":"ready","sequence":"[\w-]{22}"\}\n\n$/);
    const refused = await backend.fetch(new Request("http://local/collections/posts/subscribe?where=%7B%22nope%22%3A1%7D"));
    expect(refused.status).toBe(400);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
  });
});
