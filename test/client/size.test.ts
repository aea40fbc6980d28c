/**
 * `cimiento/client` stays small and self-contained: bundled for a browser (platform neutral, so
 * an import of Node or of the server fails the bundle), it imports nothing and weighs under
 * 5 kB gzipped. `npm run build` checks dist/client.js the same way.
 */
import { expect, test } from "vitest";
import { CLIENT_BUDGET, clientSize } from "../../scripts/client-size.js";

test("the client bundles for browsers with no import, under 5 kB gzipped", () => {
  const { minified, imports } = clientSize("src/client.ts");
  expect(imports).toEqual([]);
  expect(minified).toBeLessThan(CLIENT_BUDGET);
});
