/**
 * The React page of docs/client.md (examples/react/posts.tsx) in a real browser: bundled with
 * esbuild, served by Express beside the quickstart's API on one origin, and driven in headless
 * Chromium (the system's, through playwright-core). The session is the cookie: the page never
 * holds a token.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import express from "express";
import type { Browser, Page } from "playwright-core";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../setup/chromium.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toNodeHandler } from "cimiento/node";
import { listening, type Listening } from "../http/support.js";

const root = join(import.meta.dirname, "..", "..");

test("docs/client.md shows examples/react/posts.tsx whole", () => {
  const file = readFileSync(join(root, "examples", "react", "posts.tsx"), "utf8");
  const page = readFileSync(join(root, "docs", "client.md"), "utf8");
  expect(page).toContain("```tsx\n" + file + "```\n");
});

/** The quickstart's backend, loaded by URL: its Register declaration stays out of this program. */
interface QuickstartBackend {
  fetch(request: Request): Promise<Response>;
  close(): Promise<void>;
  readonly system: { readonly data: { readonly posts: { list(options: object): Promise<{ items: Record<string, unknown>[] }> } } };
}

// Chromium is installed by .ci/run; a developer without it sees the test skipped, and why.
describe.skipIf(!chromiumAvailable)(`the React page in Chromium (${CHROMIUM})`, () => {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-react-"));
  let backend: QuickstartBackend;
  let server: Listening;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    process.env["QUICKSTART_DB"] = join(folder, "quickstart.db");
    const module = (await import(pathToFileURL(join(root, "examples", "quickstart", "backend.ts")).href)) as {
      openBackend(log: (line: string) => void): Promise<{ backend: QuickstartBackend }>;
    };
    ({ backend } = await module.openBackend(() => {}));
    const bundle = await build({
      entryPoints: [join(root, "examples", "react", "main.tsx")],
      tsconfig: join(root, "examples", "react", "tsconfig.json"),
      bundle: true,
      format: "esm",
      platform: "browser",
      jsx: "automatic",
      define: { "process.env.NODE_ENV": '"production"' },
      write: false,
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]!.text;
    const app = express();
    app.use("/api", toNodeHandler(backend));
    app.get("/", (_req, res) => {
      res.type("html").send('<!doctype html><meta charset="utf-8"><title>Posts</title><div id="root"></div><script type="module" src="/app.js"></script>');
    });
    app.get("/app.js", (_req, res) => {
      res.type("text/javascript").send(script);
    });
    server = await listening(app.listen(0, "127.0.0.1"));
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

  test("anonymous, then signed in with the cookie: drafts, a refused draft, a new one, a reload, sign-out", async () => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.origin}/`);
    await page.locator("form[aria-label='sign in']").waitFor();
    await expect.poll(items).toEqual(["SQLite is enough by Ada"]);

    await page.fill("input[name=email]", "ada@example.com");
    await page.fill("input[name=password]", "wrong password");
    await page.click("text=Sign in");
    await expect.poll(() => page.locator("[role=alert]").textContent()).toBe("Wrong e-mail address or password.");

    await page.fill("input[name=password]", "ada-demo-password");
    await page.click("text=Sign in");
    await expect.poll(() => page.locator("#user").textContent()).toBe("Ada");
    await expect.poll(items).toEqual(["Draft: PostgreSQL later by Ada (draft)", "SQLite is enough by Ada"]);
    const cookie = (await page.context().cookies()).find((one) => one.name === "cimiento_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(await page.evaluate("document.cookie")).toBe(""); // HttpOnly: no script reads it

    await page.fill("input[name=title]", "");
    await page.fill("input[name=slug]", "Not A Slug");
    await page.click("text=Add a draft");
    const alert = page.locator("[role=alert]");
    await expect.poll(() => alert.textContent()).toMatch(/^title: .+; slug: .+$/);

    await page.fill("input[name=title]", "From the browser");
    await page.fill("input[name=slug]", "from-the-browser");
    await page.click("text=Add a draft");
    await expect.poll(async () => (await items())[0]).toBe("From the browser by Ada (draft)");
    const stored = await backend.system.data.posts.list({ where: { slug: "from-the-browser" }, include: { author: true } });
    expect(stored.items[0]).toMatchObject({ title: "From the browser", published: false, author: { name: "Ada" } });

    await page.reload();
    await expect.poll(() => page.locator("#user").textContent()).toBe("Ada");
    await expect.poll(async () => (await items()).length).toBe(3);

    await page.click("text=Sign out");
    await page.locator("form[aria-label='sign in']").waitFor();
    await expect.poll(items).toEqual(["SQLite is enough by Ada"]);
    expect((await page.context().cookies()).some((one) => one.name === "cimiento_session")).toBe(false);
    expect(errors).toEqual([]);
  });
});
