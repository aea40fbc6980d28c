/**
 * The API reference page in a real browser: the system's Chromium, driven by playwright-core,
 * loads `GET /reference` of the quickstart mounted under `/api`, with the page's own
 * Content-Security-Policy, and shows the collections; every request it makes goes to the
 * backend (no CDN), and it breaks no rule of its policy. `CIMIENTO_UPDATE_SCREENSHOTS=1` keeps
 * its screenshot as docs/images/reference.png.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { chromiumAvailable as available, launchChromium } from "../setup/chromium.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createBackend } from "cimiento";
import { toNodeHandler } from "cimiento/node";
import { sqlite } from "cimiento/sqlite";
import type { Schema } from "cimiento/types";
import type { AnyAction } from "../../src/define/handles.js";

// The quickstart declares cimiento's Register for itself: loaded by a path the type checker does
// not follow, so that its declarations stay out of this program.
const QUICKSTART = "../../examples/quickstart/schema.js";
const { actions, collections } = (await import(QUICKSTART)) as { actions: Record<string, AnyAction>; collections: Schema };

// Outside CI a machine without Chromium skips this suite, saying why; in CI it must run.

let server: Server;
let origin: string;
let browser: Browser;
let close: () => Promise<void>;

beforeAll(async () => {
  if (!available) return;
  const backend = createBackend({
    database: sqlite({ file: ":memory:" }),
    collections,
    actions,
    auth: { password: {} },
    http: { openapi: { info: { title: "Quickstart blog", version: "1.0.0" }, servers: [{ url: "/api" }] } },
  });
  await backend.migrate();
  const handler = toNodeHandler(backend);
  // Mounted under /api, as a host would: the page finds its script and document by relative URLs.
  server = createServer((request, response) => {
    if (request.url?.startsWith("/api/")) {
      request.url = request.url.slice("/api".length);
      void handler(request, response);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
  close = async () => {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await backend.close();
  };
}, 60_000);

afterAll(async () => close?.());

test.skipIf(!available)(`the reference page loads in Chromium and shows the collections${available ? "" : " (skipped: no /usr/bin/chromium)"}`, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requested: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));

  const response = await page.goto(`${origin}/api/reference`);
  expect(response?.status()).toBe(200);
  for (const name of ["posts", "comments", "users"]) {
    await expect.poll(() => page.getByRole("heading", { name: new RegExp(`^${name}\\b`) }).count(), { timeout: 20_000 }).toBeGreaterThan(0);
  }
  await expect.poll(() => page.getByText("Quickstart blog").count()).toBeGreaterThan(0);

  // The page's script and the document, both from the backend; nothing from another origin.
  expect(requested).toContain(`${origin}/api/reference/scalar.js`);
  expect(requested).toContain(`${origin}/api/openapi.json`);
  expect(requested.filter((url) => !url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:"))).toEqual([]);
  // Nothing the policy refused, and no script error.
  expect(problems).toEqual([]);

  const dir = mkdtempSync(join(tmpdir(), "cimiento-reference-"));
  const shot = join(dir, "reference.png");
  await page.screenshot({ path: shot });
  expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
  if (process.env["CIMIENTO_UPDATE_SCREENSHOTS"] === "1") copyFileSync(shot, join(import.meta.dirname, "..", "..", "docs", "images", "reference.png"));
  rmSync(dir, { recursive: true, force: true });
  await page.close();
}, 60_000);
