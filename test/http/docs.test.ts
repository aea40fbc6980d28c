/**
 * docs/http.md describes every error code the backend answers with, with its status.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ERROR_CODES } from "cimiento";

const page = readFileSync(join(import.meta.dirname, "..", "..", "docs", "http.md"), "utf8");

test.each(Object.entries(ERROR_CODES))("docs/http.md has a row for %s with status %i", (code, status) => {
  expect(page).toContain(`| \`${code}\` | ${status} |`);
});
