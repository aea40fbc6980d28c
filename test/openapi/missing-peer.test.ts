/**
 * Without the optional peer `@scalar/api-reference`, `GET /reference` answers a small page that
 * says how to install it (501), and its script route a problem document that says the same. A
 * script that could not be read is read again by the next request.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { toApiError } from "../../src/errors/api-error.js";
import { HttpCore } from "../../src/http/core.js";
import { fetchHandler } from "../../src/http/fetch-transport.js";
import { RequestGate } from "../../src/http/gate.js";
import { INSTALL_SCALAR, installOpenApiRoutes, type OpenApiRoutes } from "../../src/http/openapi-routes.js";
import { problemAnswer } from "../../src/http/problem.js";

/** The OpenAPI routes alone, in an HTTP core of their own, served through the Fetch transport. */
function served(routes: OpenApiRoutes): { request(path: string): Promise<Response> } {
  const core = new HttpCore({ gate: new RequestGate(), bodyLimit: 1024, cors: undefined, answerError: async (error) => problemAnswer(toApiError(error), undefined) });
  installOpenApiRoutes(core, routes);
  const handle = fetchHandler(core);
  return { request: (path) => handle(new Request(`http://localhost${path}`)) };
}

test("without @scalar/api-reference, /reference says how to install it", async () => {
  const app = served({
    document: () => ({ openapi: "3.1.0", info: { title: "API", version: "1" }, paths: {}, components: { schemas: {} } }),
    reference: true,
    scriptFile: () => undefined,
  });
  const page = await app.request("/reference");
  expect(page.status).toBe(501);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(page.headers.get("content-security-policy")).toBe("default-src 'none'");
  const html = await page.text();
  expect(html).toContain("npm install @scalar/api-reference@~1.46.4");
  expect(html).toContain('<a href="openapi.json">openapi.json</a>');
  const script = await app.request("/reference/scalar.js");
  expect(script.status).toBe(404);
  expect(await script.json()).toMatchObject({ code: "ROUTE_NOT_FOUND", detail: INSTALL_SCALAR });
  expect((await app.request("/openapi.json")).status).toBe(200);
});

test("a script that could not be read is read again by the next request", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cimiento-scalar-"));
  const file = join(dir, "standalone.js");
  try {
    const app = served({
      document: () => ({ openapi: "3.1.0", info: { title: "API", version: "1" }, paths: {}, components: { schemas: {} } }),
      reference: true,
      scriptFile: () => file,
    });
    // Not there yet: the read fails.
    expect((await app.request("/reference/scalar.js")).status).toBe(500);
    writeFileSync(file, "window.Scalar = {};");
    const script = await app.request("/reference/scalar.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toBe("window.Scalar = {};");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
