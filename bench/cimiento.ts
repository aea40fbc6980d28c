/**
 * cimiento as users run it: the build of `src/` (by tsup, into `bench/.build/`), not the
 * sources through tsx, whose transform adds work to every closure the library makes. Typed
 * from the sources, which the build is made of.
 * @module
 */
const build = new URL("./.build/", import.meta.url);

async function entry<T>(name: string): Promise<T> {
  return (await import(new URL(`${name}.js`, build).href)) as T;
}

export const { action, ApiError, collection, createBackend, field } = await entry<typeof import("../src/index.js")>("index");
export const { sqlite } = await entry<typeof import("../src/dialects/sqlite/index.js")>("sqlite");
export const { postgres } = await entry<typeof import("../src/dialects/postgres/index.js")>("postgres");
export const { toHono } = await entry<typeof import("../src/hosts/hono.js")>("hono");
export const { toNodeHandler } = await entry<typeof import("../src/hosts/node.js")>("node");
export type { DatabaseAdapter, RuleContext } from "../src/index.js";
