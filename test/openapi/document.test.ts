/**
 * The OpenAPI document: valid OpenAPI 3.1 by an independent validator (the quickstart and the
 * RealWorld example), the same on every build, true to the definitions (hidden and read-only
 * fields, action schemas, the auth routes the options turn on, every error code), and in step
 * with the router: every route the app serves is in it, and every path in it is served.
 */
import { validate } from "@readme/openapi-parser";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { action, collection, createBackend, ERROR_CODES, field, type DatabaseAdapter, type OpenApiDocument, type OpenApiOperation } from "cimiento";
import type { Schema } from "cimiento/types";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase, type TestDatabase } from "../setup/dialects.js";
import type { AnyAction } from "../../src/define/handles.js";
import { openApiPath } from "../../src/openapi/actions.js";

// The examples declare cimiento's Register for themselves: loaded by a path the type checker does
// not follow, so that their declarations stay out of this program.
const QUICKSTART = "../../examples/quickstart/schema.js";
const REALWORLD = "../../examples/realworld/backend.js";
const { actions, collections } = (await import(QUICKSTART)) as { actions: Record<string, AnyAction>; collections: Schema };
const { conduit } = (await import(REALWORLD)) as { conduit: (database: DatabaseAdapter<"sqlite" | "postgres">) => AnyBackend };

type AnyBackend = {
  fetch(request: Request): Promise<Response>;
  openapi(): OpenApiDocument;
  migrate(): Promise<unknown>;
  close(): Promise<void>;
};

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

/** Every operation of a document: its method, path and operation. */
function operations(document: OpenApiDocument): { method: string; path: string; operation: OpenApiOperation }[] {
  const found = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation !== undefined) found.push({ method: method.toUpperCase(), path, operation });
    }
  }
  return found;
}

/** The routes of a backend's HTTP core: method and Hono path. */
function routerRoutes(backend: object): { method: string; path: string }[] {
  return partsOf(backend).core.routes.map(({ method, path }) => ({ method, path }));
}

/** Whether a router path (`/collections/:name/records`) matches a document path (`/collections/posts/records`, `/posts/{slug}/view`). */
function matches(routerPath: string, documentPath: string): boolean {
  const pattern = routerPath.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, "[^/]+");
  return new RegExp(`^${pattern}$`).test(documentPath);
}

async function problemCode(response: Response): Promise<string | undefined> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) return undefined;
  const body = (await response.json()) as { code?: string; errors?: unknown };
  return body.code;
}

/** A request for each operation of the document, with `x` for each path parameter. */
function requestFor(method: string, path: string): Request {
  const url = `http://localhost${path.replace(/\{[^}]+\}/g, "x")}`;
  const hasBody = method !== "GET" && method !== "DELETE";
  return new Request(url, { method, ...(hasBody ? { body: "{}", headers: { "content-type": "application/json" } } : {}) });
}

/** Checks both directions between the router and the document of a backend. */
async function expectRoutesInStep(backend: AnyBackend, notFoundCodes: readonly string[]) {
  const document = backend.openapi();
  const documented = operations(document);
  const routes = routerRoutes(backend);
  expect(routes.length).toBeGreaterThan(10);
  for (const route of routes) {
    const covered = documented.some(({ method, path }) => method === route.method && matches(route.path, path));
    if (covered) continue;
    // A route left out of the document is one the options turn off: it answers 404 ROUTE_NOT_FOUND.
    const response = await backend.fetch(requestFor(route.method, route.path.replace(/:[A-Za-z0-9_]+/g, "x")));
    expect({ route, status: response.status }).toEqual({ route, status: 404 });
  }
  for (const { method, path } of documented) {
    const covered = routes.some((route) => route.method === method && matches(route.path, path));
    expect({ method, path, covered }).toEqual({ method, path, covered: true });
    const response = await backend.fetch(requestFor(method, path));
    const code = await problemCode(response);
    expect({ method, path, code }).not.toSatisfy(() => notFoundCodes.includes(code ?? ""));
  }
}

test("an action's Hono path becomes an OpenAPI path, regular expressions and optional marks dropped", () => {
  expect(openApiPath("/posts/:id/publish")).toEqual({ path: "/posts/{id}/publish", params: ["id"] });
  expect(openApiPath("/items/:id{[0-9]+}/parts/:part")).toEqual({ path: "/items/{id}/parts/{part}", params: ["id", "part"] });
  expect(openApiPath("/stats")).toEqual({ path: "/stats", params: [] });
});

describeEachDatabase("OpenAPI document", (db: TestDatabase) => {
  const made: { backend: AnyBackend; drop(): Promise<void> }[] = [];
  async function quickstart(extra: Parameters<typeof createBackend>[0]["http"] = {}) {
    const { database, drop } = await db.fresh();
    const backend = createBackend({ database, collections, actions, auth: { password: {}, sessions: { ttl: "30d" } }, http: extra });
    await backend.migrate();
    made.push({ backend, drop });
    return backend;
  }
  async function realworld() {
    const { database, drop } = await db.fresh();
    const backend = conduit(database);
    await backend.migrate();
    made.push({ backend, drop });
    return backend;
  }
  afterAll(async () => {
    for (const { backend, drop } of made) {
      await backend.close();
      await drop();
    }
  });

  let quick: Awaited<ReturnType<typeof quickstart>>;
  let world: Awaited<ReturnType<typeof realworld>>;
  beforeAll(async () => {
    quick = await quickstart();
    world = await realworld();
  });

  test("the quickstart's and the RealWorld example's documents are valid OpenAPI 3.1", async () => {
    for (const backend of [quick, world]) {
      const document = backend.openapi({ info: { title: "Checked", version: "1.0.0" } });
      expect(document.openapi).toBe("3.1.0");
      const result = await validate(structuredClone(document) as never);
      expect(result).toMatchObject({ valid: true, specification: "OpenAPI" });
      expect(result.warnings).toEqual([]);
    }
  });

  test("a backend gives the same document on every build, and another backend of the same definitions too", async () => {
    const again = await quickstart();
    expect(JSON.stringify(quick.openapi())).toBe(JSON.stringify(quick.openapi()));
    expect(JSON.stringify(again.openapi())).toBe(JSON.stringify(quick.openapi()));
    expect(quick.openapi().info).toEqual({ title: "API", version: "0.0.0" });
    expect(quick.openapi({ info: { description: "A blog" } }).info).toEqual({ title: "API", version: "0.0.0", description: "A blog" });
    expect(quick.openapi().servers).toBeUndefined();
  });

  test("a record's schema has no hidden field; create and update have no read-only, generated or hidden field", () => {
    const { schemas } = quick.openapi().components;
    expect(Object.keys(schemas["users"]!.properties!)).not.toContain("email"); // hidden in the quickstart
    expect(schemas["posts"]!.properties!["views"]).toMatchObject({ type: "integer", readOnly: true });
    expect(Object.keys(schemas["posts.create"]!.properties!).sort()).toEqual(["body", "published", "slug", "tags", "title"]);
    expect(Object.keys(schemas["posts.update"]!.properties!).sort()).toEqual(["body", "published", "slug", "tags", "title"]);
    expect(schemas["posts.create"]!.additionalProperties).toBe(false);
    // Zod's own checks come through: title is 1 to 200 characters, tags an array of strings.
    expect(schemas["posts.create"]!.properties!["title"]).toEqual({ type: "string", minLength: 1, maxLength: 200 });
    expect(schemas["posts.create"]!.properties!["tags"]).toEqual({ type: "array", items: { type: "string" } });
    expect(schemas["posts.create"]!.properties!["body"]).toEqual({ type: ["string", "null"] });
    expect(schemas["posts.page"]!.required).toEqual(["items", "nextCursor"]);
  });

  test("the list route has its query parameters, bounded by the backend's limits", () => {
    const list = quick.openapi().paths["/collections/posts/records"]!.get!;
    expect(list.parameters!.map((parameter) => parameter.name)).toEqual(["where", "orderBy", "limit", "cursor", "offset", "count", "include", "select"]);
    expect(list.parameters!.find((parameter) => parameter.name === "limit")!.schema).toEqual({ type: "integer", minimum: 0, maximum: 100, default: 20 });
  });

  test("the problem document lists every stable error code", () => {
    const problem = quick.openapi().components.schemas["Problem"]!;
    const codes = (problem.properties!["code"]!.anyOf as { const?: string }[]).map((member) => member.const).filter((code) => code !== undefined);
    expect(codes).toEqual(Object.keys(ERROR_CODES));
    expect(quick.openapi().paths["/health"]!.get!.responses["200"]).toBeDefined();
  });

  test("actions: input and output schemas, their own routes with path parameters; no output schema is an open one", async () => {
    const { database, drop } = await db.fresh();
    const notes = collection("notes", { fields: { text: field.text() } });
    const rename = action({
      input: z.object({ id: z.string(), name: z.string().min(1) }),
      output: z.object({ id: z.string(), name: z.string() }),
      http: { method: "PUT", path: "/notes/:id/name", status: 202 },
      access: () => true,
      handler: ({ input }) => input,
    });
    const search = action({
      input: z.object({ q: z.string(), limit: z.coerce.number().optional() }),
      http: { method: "GET", path: "/notes/search" },
      access: () => true,
      handler: ({ input }) => [input.q],
    });
    const backend = createBackend({ database, collections: { notes }, actions: { rename, search } });
    made.push({ backend, drop });
    const document = backend.openapi();
    expect(document.components.schemas["actions.rename.input"]).toMatchObject({ type: "object", required: ["id", "name"] });
    expect(document.components.schemas["actions.rename.output"]).toMatchObject({ type: "object", required: ["id", "name"] });
    expect(document.components.schemas["actions.search.output"]).toEqual({ description: 'What "search" returns (it declares no output schema).' });
    const put = document.paths["/notes/{id}/name"]!.put!;
    expect(put.parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "string" } }]);
    expect(put.requestBody!.content["application/json"]!.schema).toMatchObject({ required: ["name"], properties: { name: { type: "string", minLength: 1 } } });
    expect(Object.keys(put.responses)).toEqual(["202", "default"]);
    const get = document.paths["/notes/search"]!.get!;
    expect(get.requestBody).toBeUndefined();
    expect(get.parameters!.map(({ name, in: where, required }) => ({ name, where, required }))).toEqual([
      { name: "q", where: "query", required: true },
      { name: "limit", where: "query", required: false },
    ]);
    expect(Object.keys(document.paths["/actions/search"]!.post!.responses)).toEqual(["200", "204", "default"]);
    // No auth: no auth routes, no security schemes.
    expect(Object.keys(document.paths).filter((path) => path.startsWith("/auth"))).toEqual([]);
    expect(document.components.securitySchemes).toBeUndefined();
  });

  test("auth: only the routes the options turn on, and the configured security schemes", async () => {
    const { database, drop } = await db.fresh();
    const backend = createBackend({
      database,
      collections: {},
      auth: { password: { signUp: false, reset: false }, sessions: { schemes: ["Bearer", "Token"], cookie: { name: "sid" } } },
    });
    made.push({ backend, drop });
    const document = backend.openapi();
    const authPaths = Object.keys(document.paths).filter((path) => path.startsWith("/auth"));
    expect(authPaths).toEqual(["/auth/sign-in", "/auth/verify-email", "/auth/sign-out", "/auth/session", "/auth/revoke-all", "/auth/change-password", "/auth/api-keys", "/auth/api-keys/{id}"]);
    expect(document.components.securitySchemes).toEqual({
      sessionCookie: expect.objectContaining({ type: "apiKey", in: "cookie", name: "sid" }),
      bearer: expect.objectContaining({ type: "http", scheme: "bearer" }),
      "authorization.token": expect.objectContaining({ type: "apiKey", in: "header", name: "Authorization" }),
      apiKey: expect.objectContaining({ type: "http", scheme: "bearer", bearerFormat: "ck_…" }),
    });
    expect(document.paths["/auth/session"]!.get!.security).toEqual([{ sessionCookie: [] }, { bearer: [] }, { "authorization.token": [] }]);
    expect(document.paths["/auth/sign-in"]!.post!.security).toEqual([]);
    // The RealWorld example has no cookie, and the schemes Token and Bearer.
    expect(Object.keys(world.openapi().components.securitySchemes!)).toEqual(["bearer", "authorization.token", "apiKey"]);
    await expectRoutesInStep(backend, ["ROUTE_NOT_FOUND", "COLLECTION_NOT_FOUND"]);
  });

  test("every route the quickstart's router serves is in its document, and every path in it is served", async () => {
    await expectRoutesInStep(quick, ["ROUTE_NOT_FOUND", "COLLECTION_NOT_FOUND"]);
  });

  test("the same for the RealWorld example", async () => {
    await expectRoutesInStep(world, ["ROUTE_NOT_FOUND", "COLLECTION_NOT_FOUND"]);
  });

  describe("serving", () => {
    test("GET /openapi.json serves the document, with the options' info and servers and after the host's filter", async () => {
      const backend = await quickstart({
        openapi: {
          info: { title: "Blog", version: "2.0.0" },
          servers: [{ url: "https://blog.example.com/api" }],
          filter: (document) => ({ ...document, paths: Object.fromEntries(Object.entries(document.paths).filter(([path]) => !path.startsWith("/auth/api-keys"))) }),
        },
      });
      const response = await backend.fetch(new Request("http://localhost/openapi.json"));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      const served = (await response.json()) as OpenApiDocument;
      const expected = backend.openapi({ info: { title: "Blog", version: "2.0.0" }, servers: [{ url: "https://blog.example.com/api" }] });
      delete expected.paths["/auth/api-keys"];
      delete expected.paths["/auth/api-keys/{id}"];
      expect(served).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(served.paths["/auth/api-keys"]).toBeUndefined();
    });

    test("GET /reference serves the page with a Content-Security-Policy, and its script from the installed package", async () => {
      const page = await quick.fetch(new Request("http://localhost/reference"));
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const policy = page.headers.get("content-security-policy")!;
      expect(policy).toContain("default-src 'none'");
      expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(policy).toContain("connect-src 'self'");
      const html = await page.text();
      expect(html).toContain('<script src="reference/scalar.js"></script>');
      expect(html).not.toMatch(/https?:\/\//); // nothing from another site
      const script = await quick.fetch(new Request("http://localhost/reference/scalar.js"));
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(await script.text()).toContain("@scalar/api-reference");
      const zipped = await quick.fetch(new Request("http://localhost/reference/scalar.js", { headers: { "accept-encoding": "gzip, br" } }));
      expect(zipped.headers.get("content-encoding")).toBe("gzip");
    });

    test("openapi: false serves neither; reference: false serves the document only", async () => {
      const off = await quickstart({ openapi: false });
      for (const path of ["/openapi.json", "/reference", "/reference/scalar.js"]) {
        const response = await off.fetch(new Request(`http://localhost${path}`));
        expect({ path, status: response.status, code: await problemCode(response) }).toEqual({ path, status: 404, code: "ROUTE_NOT_FOUND" });
      }
      expect(off.openapi().paths["/openapi.json"]).toBeUndefined();
      const noPage = await quickstart({ openapi: { reference: false } });
      expect((await noPage.fetch(new Request("http://localhost/openapi.json"))).status).toBe(200);
      expect((await noPage.fetch(new Request("http://localhost/reference"))).status).toBe(404);
      expect(Object.keys(noPage.openapi().paths).filter((path) => path.startsWith("/reference"))).toEqual([]);
    });
  });
});
