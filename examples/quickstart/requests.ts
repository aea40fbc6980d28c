/**
 * The requests the examples suggest trying, printed as curl lines. test/examples sends the same
 * requests and checks their statuses, so the printed lines stay true.
 */

/** Ada's account in the demo data (a demo password, printed for everyone to try). */
export const DEMO_ACCOUNT = { email: "ada@example.com", password: "ada-demo-password" } as const;

/** What the suggested requests need to know about the running demo. */
export interface Demo {
  /** A session token of Ada's, made at start-up. */
  readonly token: string;
  /** The seeded published post, when it is still there. */
  readonly post: { readonly id: string; readonly slug: string } | null;
}

/** One suggested request and the status it answers with on the demo data. */
export interface DemoRequest {
  readonly title: string;
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Sends `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** A JSON body. */
  readonly body?: unknown;
  readonly status: number;
}

/** The requests to try, with paths relative to where the API is mounted. */
export function demoRequests(demo: Demo): DemoRequest[] {
  const requests: DemoRequest[] = [
    {
      title: "Sign in as Ada: the answer has a new session token (and sets the session cookie)",
      method: "POST",
      path: "/auth/sign-in",
      body: { email: DEMO_ACCOUNT.email, password: DEMO_ACCOUNT.password },
      status: 200,
    },
    {
      title: "Published posts about SQLite, newest first, with their authors and comments",
      method: "GET",
      path: "/collections/posts/records",
      query: { where: JSON.stringify({ published: true, title: { contains: "SQLite" } }), include: "author,comments", orderBy: "-createdAt" },
      status: 200,
    },
  ];
  if (demo.post) {
    const { id, slug } = demo.post;
    requests.push(
      {
        title: "One post, with its comments and their authors",
        method: "GET",
        path: `/collections/posts/records/${id}`,
        query: { include: "comments.author", select: "title,views" },
        status: 200,
      },
      {
        title: "Ada comments on it (the token signs in as Ada)",
        method: "POST",
        path: "/collections/comments/records",
        token: demo.token,
        body: { post: id, body: "Thanks for reading!" },
        status: 201,
      },
      {
        title: "An action with a path parameter: count a view",
        method: "POST",
        path: `/posts/${slug}/view`,
        status: 200,
      },
      {
        title: "An error: anonymous callers may not comment (401, application/problem+json)",
        method: "POST",
        path: "/collections/comments/records",
        body: { post: id, body: "Anonymous" },
        status: 401,
      },
    );
  }
  requests.push(
    {
      title: "Ada's drafts: only she sees them",
      method: "GET",
      path: "/collections/posts/records",
      query: { where: JSON.stringify({ published: false }), select: "title,slug" },
      token: demo.token,
      status: 200,
    },
    {
      title: "An error: a post with an empty title and a bad slug (422, with each field's issue)",
      method: "POST",
      path: "/collections/posts/records",
      token: demo.token,
      body: { title: "", slug: "Not A Slug" },
      status: 422,
    },
  );
  return requests;
}

/** A word in single quotes for a POSIX shell. */
function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The request as a curl command line that runs in a POSIX shell. */
export function curl(base: string, request: DemoRequest): string {
  const words = ["curl"];
  if (request.query !== undefined) words.push("-G");
  if (request.method !== "GET" && !(request.method === "POST" && request.body !== undefined)) words.push("-X", request.method);
  words.push(quote(base + request.path));
  for (const [name, value] of Object.entries(request.query ?? {})) {
    const pair = `${name}=${value}`;
    words.push(/^[\w.,-]+=[\w.,-]*$/.test(pair) ? "-d" : "--data-urlencode", quote(pair));
  }
  if (request.token !== undefined) words.push("-H", quote(`Authorization: Bearer ${request.token}`));
  if (request.body !== undefined) words.push("-H", quote("Content-Type: application/json"), "-d", quote(JSON.stringify(request.body)));
  return words.join(" ");
}

/** The request as `fetch` arguments. */
export function fetchArgs(base: string, request: DemoRequest): [string, RequestInit] {
  const url = new URL(base + request.path);
  for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = {};
  if (request.token !== undefined) headers["authorization"] = `Bearer ${request.token}`;
  if (request.body !== undefined) headers["content-type"] = "application/json";
  return [
    url.toString(),
    { method: request.method, headers, ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }) },
  ];
}

/** Prints the requests to try against `base`. */
export function printDemoRequests(base: string, demo: Demo, log: (line: string) => void = console.log): void {
  log(`\nTry (the token ${demo.token} signs in as Ada, from a session made at start-up; without it you are anonymous):`);
  for (const request of demoRequests(demo)) {
    log(`\n# ${request.title}`);
    log(curl(base, request));
  }
}
