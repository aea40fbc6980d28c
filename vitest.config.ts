import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^cimiento\/sqlite$/, replacement: src("dialects/sqlite/index.ts") },
      { find: /^cimiento\/postgres$/, replacement: src("dialects/postgres/index.ts") },
      { find: /^cimiento\/node$/, replacement: src("adapters/node.ts") },
      { find: /^cimiento\/hono$/, replacement: src("adapters/hono.ts") },
      { find: /^cimiento\/testing$/, replacement: src("testing/index.ts") },
      { find: /^cimiento\/types$/, replacement: src("types.ts") },
      { find: /^cimiento$/, replacement: src("index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    setupFiles: ["test/setup/prototype-guard.ts"],
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
