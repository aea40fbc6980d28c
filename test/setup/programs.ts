/**
 * Test programs that run in child processes, bundled once by esbuild (in the repository, so
 * that their packages resolve): a process then starts in about half the time it takes through
 * tsx. cimiento comes from src through the tsconfig paths; its dependencies stay packages.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..", "..");

/** Bundles the program at `entry` (a `.ts` file); returns its file and how to remove it. */
export async function bundleProgram(entry: string): Promise<{ file: string; remove(): void }> {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  const folder = mkdtempSync(join(root, ".program-"));
  const file = join(folder, basename(entry).replace(/\.ts$/, ".mjs"));
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    tsconfig: join(root, "tsconfig.json"),
    external: Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }),
    logLevel: "warning",
  });
  return { file, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
