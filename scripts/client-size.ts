/**
 * The size of `cimiento/client` as it ships (dist/client.js), gzipped, and as a browser bundle
 * minifies it; exits with 1 when either is above 5 kB, or when it imports anything (it must
 * bring no dependency and nothing of Node's or of the server's). Run by `npm run build`.
 * `npx tsx scripts/client-size.ts [file]`.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { buildSync } from "esbuild";

/** The budget, in gzipped bytes. */
export const CLIENT_BUDGET = 5120;

/** The gzipped size of a file as it is, and of a minified bundle of it, and what it imports. */
export function clientSize(file: string): { gzipped: number; minified: number; imports: string[] } {
  const text = readFileSync(file, "utf8");
  const bundle = buildSync({ entryPoints: [file], bundle: true, minify: true, format: "esm", platform: "neutral", write: false, metafile: true });
  const imports = Object.values(bundle.metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
  return { gzipped: gzipSync(text, { level: 9 }).length, minified: gzipSync(bundle.outputFiles[0]!.contents, { level: 9 }).length, imports };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const file = process.argv[2] ?? "dist/client.js";
  const { gzipped, minified, imports } = clientSize(file);
  console.log(`cimiento/client: ${gzipped} B gzipped (${minified} B minified and gzipped), budget ${CLIENT_BUDGET} B`);
  if (imports.length > 0) console.error(`cimiento/client imports ${imports.join(", ")}: it must import nothing.`);
  if (gzipped > CLIENT_BUDGET || minified > CLIENT_BUDGET || imports.length > 0) process.exit(1);
}
