/**
 * The browser of the suites that run pages: Debian's Chromium, driven by playwright-core, with
 * the flags a machine without Internet needs (without them it stalls on lookups). .ci/run
 * installs it; a developer without it sees those suites skipped, and why.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Whether the suites that need Chromium run: it is installed, or this is CI (where it must be). */
export const chromiumAvailable = existsSync(CHROMIUM) || process.env["CI"] !== undefined;

/** Starts headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}
