/**
 * The quickstart's live page (examples/quickstart/live.ts) in a real browser: Chromium's own
 * `EventSource` on `GET /collections/posts/subscribe` shows a post published through the API,
 * its new title, and drops it when it is unpublished (the visitor is anonymous: it reads only
 * published posts).
 */
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../setup/chromium.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toNodeHandler } from "cimiento/node";
import { withLivePage } from "../../examples/quickstart/live.js";
import { listening, type Listening } from "../http/support.js";

const root = join(import.meta.dirname, "..", "..");

/** The quickstart's backend, loaded by URL: its Register declaration stays out of this program. */
interface QuickstartBackend {
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
}

// Chromium is installed by .ci/run; a developer without it sees the test skipped, and why.
describe.skipIf(!chromiumAvailable)(`the live page in Chromium (${CHROMIUM})`, () => {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-live-"));
  let backend: QuickstartBackend;
  let token: string;
  let server: Listening;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    process.env["QUICKSTART_DB"] = join(folder, "quickstart.db");
    const module = (await import(pathToFileURL(join(root, "examples", "quickstart", "backend.ts")).href)) as {
      openBackend(log: (line: string) => void): Promise<{ backend: QuickstartBackend; demo: { token: string } }>;
    };
    const opened = await module.openBackend(() => {});
    backend = opened.backend;
    token = opened.demo.token;
    server = await listening(createServer(withLivePage(toNodeHandler(backend))).listen(0, "127.0.0.1"));
    browser = await launchChromium();
    page = await browser.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await backend?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const items = () => page.locator("#posts li").allTextContents();
  const api = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${server.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.ok).toBe(true);
    return (await response.json()) as { id: string };
  };

  test("a post published through the API appears, changes and goes, with no reload", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.origin}/live`);
    await expect.poll(() => page.locator("#status").textContent()).toBe("live");
    await expect.poll(items).toEqual(["SQLite is enough"]);

    const post = await api("POST", "/collections/posts/records", { title: "Live from the API", slug: "live-from-the-api", published: true });
    await expect.poll(items).toEqual(["Live from the API", "SQLite is enough"]);
    await api("PATCH", `/collections/posts/records/${post.id}`, { title: "Renamed, live" });
    await expect.poll(items).toEqual(["Renamed, live", "SQLite is enough"]);
    // Unpublished: the anonymous visitor may no longer read it, and hears it leave.
    await api("PATCH", `/collections/posts/records/${post.id}`, { published: false });
    await expect.poll(items).toEqual(["SQLite is enough"]);
    expect(errors).toEqual([]);
  });
});
