import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^cimiento\/sqlite$/, replacement: src("dialects/sqlite/index.ts") },
      { find: /^cimiento\/postgres$/, replacement: src("dialects/postgres/index.ts") },
      { find: /^cimiento\/node$/, replacement: src("hosts/node.ts") },
      { find: /^cimiento\/hono$/, replacement: src("hosts/hono.ts") },
      { find: /^cimiento\/testing$/, replacement: src("testing/index.ts") },
      { find: /^cimiento\/types$/, replacement: src("types.ts") },
      { find: /^cimiento\/client$/, replacement: src("client.ts") },
      { find: /^cimiento$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    setupFiles: ["test/setup/prototype-guard.ts"],
    // Every cache hit compiles its statement again and fails on any difference (see
    // src/data/compiled-query-cache.ts): a statement key that misses a choice fails a test.
    env: { CIMIENTO_VERIFY_STATEMENTS: "1" },
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
