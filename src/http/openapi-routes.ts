/**
 * @internal `GET /openapi.json` and the API reference page: `GET /reference`, Scalar's API
 * reference, whose browser script (from the optional peer `@scalar/api-reference`) the backend
 * serves itself, at `GET /reference/scalar.js`.
 * @module
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

const gzip = promisify(gzipCallback);
import { apiError } from "../errors/api-error.js";
import { OPENAPI_PATHS } from "../openapi/build-document.js";
import type { OpenApiDocument } from "../openapi/document.js";
import { packageFile } from "../support/load-package.js";
import type { HttpCore } from "./core.js";

/** The browser script of `@scalar/api-reference`, as the package exports it. */
const SCALAR_SCRIPT = "@scalar/api-reference/browser/standalone.js";

/** What the page tells when the peer is missing. */
export const INSTALL_SCALAR = "The API reference page needs the package @scalar/api-reference: npm install @scalar/api-reference@~1.46.4 (1.47 and later need Node 22).";

/**
 * How the page starts Scalar: the document next to it (a relative URL, so that the page works
 * wherever the backend is mounted), no fonts from Scalar's servers, no telemetry, no assistant.
 */
const START = `Scalar.createApiReference("#app", ${JSON.stringify({
  url: "openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  agent: { disabled: true },
})});`;

/**
 * The page's Content-Security-Policy: its scripts come from the backend (the one inline script
 * by its hash), it talks to the backend only, and no other site may frame it. Scalar sets its
 * styles inline.
 */
const POLICY = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${createHash("sha256").update(START).digest("base64")}'`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join("; ");

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The reference page, titled with the document's title. */
function page(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
</head>
<body>
<div id="app"></div>
<script src="reference/scalar.js"></script>
<script>${START}</script>
</body>
</html>
`;
}

/** The page that says how to install the peer. */
function missingPage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API reference</title></head>
<body>
<h1>API reference</h1>
<p>${escapeHtml(INSTALL_SCALAR)}</p>
<p>The OpenAPI document is at <a href="openapi.json">openapi.json</a>.</p>
</body>
</html>
`;
}

/** Scalar's script, read once: as it is, and gzipped. */
interface Script {
  readonly plain: Uint8Array<ArrayBuffer>;
  readonly gzip: Uint8Array<ArrayBuffer>;
}

/** What the routes need: the document (built and filtered once), and whether the page is served. */
export interface OpenApiRoutes {
  document(): OpenApiDocument;
  reference: boolean;
  /** Where Scalar's script is; `undefined` when the package is missing. @default resolved from the installed package */
  scriptFile?: () => string | undefined;
}

/** Installs `GET /openapi.json` and, with `reference`, the page and its script. */
export function installOpenApiRoutes(core: HttpCore, routes: OpenApiRoutes): void {
  let text: string | undefined;
  core.on("GET", OPENAPI_PATHS.document, (x) => {
    text ??= JSON.stringify(routes.document());
    x.setCacheControl("no-cache");
    return { status: 200, headers: { "content-type": "application/json; charset=utf-8" }, body: text };
  });
  if (!routes.reference) return;

  // Read once; a read that failed (too many open files, say) is tried again by the next request.
  let script: Promise<Script | null> | undefined;
  const loadScript = (): Promise<Script | null> => {
    if (script !== undefined) return script;
    const loading = (async () => {
      const file = (routes.scriptFile ?? (() => packageFile(SCALAR_SCRIPT)))();
      if (file === undefined) return null;
      const plain = Uint8Array.from(await readFile(file));
      // Compressed on the thread pool: the script is megabytes, and the event loop serves requests.
      return { plain, gzip: Uint8Array.from(await gzip(plain)) };
    })();
    script = loading;
    loading.catch(() => {
      if (script === loading) script = undefined;
    });
    return loading;
  };

  core.on("GET", OPENAPI_PATHS.reference, async (x) => {
    x.setCacheControl("no-cache");
    if ((await loadScript()) === null) {
      return { status: 501, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'" }, body: missingPage() };
    }
    return { status: 200, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": POLICY }, body: page(routes.document().info.title) };
  });
  core.on("GET", OPENAPI_PATHS.script, async (x) => {
    const found = await loadScript();
    if (found === null) throw apiError("ROUTE_NOT_FOUND", INSTALL_SCALAR);
    x.setCacheControl("public, max-age=3600");
    const gzipped = /\bgzip\b/.test(x.header("accept-encoding") ?? "");
    return {
      status: 200,
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        vary: "Accept-Encoding",
        ...(gzipped ? { "content-encoding": "gzip" } : {}),
      },
      body: gzipped ? found.gzip : found.plain,
    };
  });
}
