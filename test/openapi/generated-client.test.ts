/**
 * A client generated from the document by openapi-typescript, used with openapi-fetch: the
 * generated types and a small program using them type-check (a misspelt field is an error), and
 * the program round-trips against the real server (node:http and toNodeHandler) on every
 * database: a list, a get, a create, an action on its own route, and an error.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createBackend, type OpenApiDocument } from "cimiento";
import { toNodeHandler } from "cimiento/node";
import { sqlite } from "cimiento/sqlite";
import type { Schema } from "cimiento/types";
import type { AnyAction } from "../../src/define/handles.js";
import { describeEachDatabase, type TestDatabase } from "../setup/dialects.js";

// The quickstart declares cimiento's Register for itself: loaded by a path the type checker does
// not follow, so that its declarations stay out of this program.
const QUICKSTART = "../../examples/quickstart/schema.js";
const { actions, collections } = (await import(QUICKSTART)) as { actions: Record<string, AnyAction>; collections: Schema };

/** Inside the project, so that `openapi-fetch` resolves from its node_modules; removed afterwards. */
const DIR = join(import.meta.dirname, `.generated-${process.pid}`);

/** The program a front end would write with the generated types. */
const USAGE = `import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Post = components["schemas"]["posts"];

export async function roundTrip(baseUrl: string, token: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const created = await client.POST("/collections/posts/records", { body: { title: "Generated", slug: "generated", tags: ["openapi"] } });
  if (created.error) throw new Error(created.error.detail);
  const post: Post = created.data;
  const got = await client.GET("/collections/posts/records/{id}", { params: { path: { id: post.id } } });
  const page = await client.GET("/collections/posts/records", { params: { query: { limit: 10, orderBy: "title", count: true } } });
  const titles: string[] = (page.data?.items ?? []).map((item) => item.title);
  const viewed = await client.POST("/posts/{slug}/view", { params: { path: { slug: "generated" } } });
  const refused = await client.POST("/collections/posts/records", { body: { title: "", slug: "empty" } });
  const missing = await client.GET("/collections/posts/records/{id}", { params: { path: { id: "nothing" } } });
  return {
    created: post,
    got: got.data,
    titles,
    total: page.data?.total,
    viewed: viewed.data,
    refused: { status: refused.response.status, code: refused.error?.code, issues: refused.error?.issues },
    missing: { status: missing.response.status, code: missing.error?.code },
  };
}

type NewPost = components["schemas"]["posts.create"];
// @ts-expect-error: "titel" is no field of posts
export const misspelt: NewPost = { titel: "x", slug: "x" };
// @ts-expect-error: views is read-only, not part of a create
export const readOnly: NewPost = { title: "x", slug: "x", views: 3 };
// @ts-expect-error: a title is a string
export const mistyped: NewPost = { title: 3 };

export async function wrongPath(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  // @ts-expect-error: no such path
  await client.GET("/collections/post/records");
  // @ts-expect-error: a get needs its id
  await client.GET("/collections/posts/records/{id}", {});
}
`;

let generated: string;

beforeAll(async () => {
  // The document does not depend on the database: any backend of the quickstart's definitions.
  const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections, actions, auth: { password: {} } });
  const document: OpenApiDocument = backend.openapi({ info: { title: "Quickstart", version: "1.0.0" } });
  await backend.close();
  generated = astToString(await openapiTS(structuredClone(document) as never));
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, "schema.ts"), generated);
  writeFileSync(join(DIR, "usage.ts"), USAGE);
});

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

test("the generated types and a program using them type-check with tsc, and a misspelt field does not", () => {
  expect(generated).toContain('"/collections/posts/records"');
  const program = ts.createProgram([join(DIR, "schema.ts"), join(DIR, "usage.ts")], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const at = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
    return `${diagnostic.file?.fileName.split("/").pop()}:${at}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
  });
  // Each @ts-expect-error is needed: an unused one is an error of its own.
  expect(diagnostics).toEqual([]);
});

describeEachDatabase("a client generated from the OpenAPI document", (db: TestDatabase) => {
  let server: Server;
  let baseUrl: string;
  let token: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const { database, drop } = await db.fresh();
    const backend = createBackend({ database, collections, actions, auth: { password: {} } });
    await backend.migrate();
    const ada = await backend.auth.createUser({ email: "ada@example.com", name: "Ada", emailVerified: true } as never);
    token = (await backend.auth.createSession((ada as { id: string }).id)).token;
    server = createServer(toNodeHandler(backend));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
      await drop();
    };
  });
  afterAll(async () => close());

  test("round-trips a create, a get, a list, an action and errors against the real server", async () => {
    const { roundTrip } = (await import(join(DIR, "usage.ts"))) as { roundTrip: (baseUrl: string, token: string) => Promise<Record<string, any>> };
    const result = await roundTrip(baseUrl, token);
    expect(result["created"]).toMatchObject({ title: "Generated", slug: "generated", tags: ["openapi"], published: false, views: 0 });
    expect(result["got"]).toEqual(result["created"]);
    expect(result["titles"]).toEqual(["Generated"]);
    expect(result["total"]).toBe(1);
    expect(result["viewed"]).toEqual({ id: result["created"].id, title: "Generated", slug: "generated", views: 1 });
    expect(result["refused"]).toMatchObject({ status: 422, code: "VALIDATION_FAILED", issues: [expect.objectContaining({ path: ["title"] })] });
    expect(result["missing"]).toEqual({ status: 404, code: "NOT_FOUND" });
  });
});
