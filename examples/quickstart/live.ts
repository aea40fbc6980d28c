/**
 * A page that watches the published posts arrive, live: a browser's `EventSource` on
 * `GET /collections/posts/subscribe` (it sends the session cookie, when there is one). Served by
 * the quickstart at `/live`, beside the API.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The page: the posts the visitor may read, updated as they change. */
export const LIVE_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Posts, live</title>
<h1>Posts, live</h1>
<p id="status">connecting…</p>
<ul id="posts"></ul>
<script type="module">
  const list = document.getElementById("posts");
  const status = document.getElementById("status");
  const shown = new Map();
  const show = (post) => {
    let item = shown.get(post.id);
    if (!item) {
      item = document.createElement("li");
      shown.set(post.id, item);
      list.prepend(item);
    }
    item.textContent = post.title;
  };
  const hide = (post) => {
    shown.get(post.id)?.remove();
    shown.delete(post.id);
  };
  const load = async () => {
    const page = await (await fetch("./collections/posts/records?orderBy=-createdAt&limit=20")).json();
    for (const post of page.items.reverse()) show(post);
  };
  const events = new EventSource("./collections/posts/subscribe");
  events.addEventListener("ready", () => (status.textContent = "live"));
  events.addEventListener("gap", () => void load());
  for (const type of ["created", "updated", "entered"]) events.addEventListener(type, (event) => show(JSON.parse(event.data).record));
  for (const type of ["deleted", "left"]) events.addEventListener(type, (event) => hide(JSON.parse(event.data).record));
  events.addEventListener("end", () => (status.textContent = "ended"));
  events.onerror = () => (status.textContent = "reconnecting…");
  await load();
</script>
`;

/** Serves the page at `/live`; every other request goes to `api`. */
export function withLivePage(api: (request: IncomingMessage, response: ServerResponse) => void) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method === "GET" && (request.url === "/live" || request.url?.startsWith("/live?"))) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      response.end(LIVE_PAGE);
      return;
    }
    api(request, response);
  };
}
