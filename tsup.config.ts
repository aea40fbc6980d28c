import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    sqlite: "src/dialects/sqlite/index.ts",
    postgres: "src/dialects/postgres/index.ts",
    node: "src/hosts/node.ts",
    hono: "src/hosts/hono.ts",
    testing: "src/testing/index.ts",
    types: "src/types.ts",
    client: "src/client.ts",
  },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: {
    compilerOptions: { ignoreDeprecations: "6.0" },
    // Whatever declaration file a program loads brings cimiento/types with it: then the
    // declarations that program emits (declaration: true) can name the type machinery inside
    // inferred types, as import("cimiento/types"), instead of failing with TS2742/TS2883.
    banner: 'import "./types.js";',
  },
  clean: true,
  sourcemap: true,
  splitting: true,
  treeshake: true,
});
