import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    sqlite: "src/dialects/sqlite/index.ts",
    postgres: "src/dialects/postgres/index.ts",
    node: "src/adapters/node.ts",
    hono: "src/adapters/hono.ts",
    testing: "src/testing/index.ts",
  },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  clean: true,
  sourcemap: true,
  splitting: true,
  treeshake: true,
});
