import { describe, expectTypeOf, test } from "vitest";
import {
  ApiError,
  createClient,
  isApiError,
  type ClientErrorCode,
  type CollectionClient,
  type Jsonified,
  type RealtimeCollectionClient,
  type Subscription,
  type SubscriptionEndReason,
  type SubscriptionEvent,
} from "cimiento/client";
import type { FieldIssue } from "cimiento";
import type { ClientBackend } from "../client/backend.js";

const client = createClient<ClientBackend>({ baseUrl: "http://localhost:3000/api" });
const posts = client.collections.posts;
type SchemaOf = typeof import("../client/backend.js").collections;

describe("collections", () => {
  test("a record is the caller's record as JSON: dates as strings, json fields typed", async () => {
    const post = await posts.get("id");
    expectTypeOf(post).toEqualTypeOf<{
      id: string;
      title: string;
      slug: string;
      body: string | null;
      published: boolean;
      rank: number;
      publishedAt: string | null;
      tags: string[];
      author: string;
      createdAt: string;
      updatedAt: string;
    } | null>();
  });

  test("hidden fields are absent from records and from where, select and writes", async () => {
    const user = await client.collections.users.get("id");
    expectTypeOf(user!).not.toHaveProperty("secret");
    expectTypeOf(user!.name).toEqualTypeOf<string>();
    // @ts-expect-error: secret is hidden (the server answers 400 INVALID_QUERY)
    void client.collections.users.list({ select: ["secret"] });
    // @ts-expect-error: the same for one record
    void client.collections.users.get("id", { select: ["name", "secret"] });
    const selected = await client.collections.users.list({ select: ["name"] });
    expectTypeOf(selected.items[0]!).toEqualTypeOf<{ id: string; name: string }>();
    // @ts-expect-error: callers may not write a hidden field
    void client.collections.users.update("id", { secret: "x" });
  });

  test("where is typed by fields and operators; a misspelt field is an error", () => {
    void posts.list({ where: { title: { contains: "SQL" }, rank: { gte: 2 }, author: { name: "Ada" }, comments: { some: { body: "x" } } } });
    void posts.list({ where: { publishedAt: { lt: new Date() }, or: [{ published: true }, { rank: 3 }] } });
    // @ts-expect-error: "titel" is not a field
    void posts.list({ where: { titel: "x" } });
    // @ts-expect-error: rank is a number
    void posts.list({ where: { rank: { contains: "1" } } });
    // @ts-expect-error: not a field to sort by
    void posts.list({ orderBy: { titel: "asc" } });
    // @ts-expect-error: not a relation
    void posts.list({ include: { editor: true } });
  });

  test("select and include shape the result", async () => {
    const page = await posts.list({ select: ["title"], include: { author: { select: ["name"] } }, count: true });
    expectTypeOf(page.items[0]!).toEqualTypeOf<{ id: string; title: string; author: { id: string; name: string } | null }>();
    expectTypeOf(page.total).toEqualTypeOf<number>();
    expectTypeOf(page.nextCursor).toEqualTypeOf<string | null>();
    const uncounted = await posts.list({});
    expectTypeOf(uncounted).not.toHaveProperty("total");
    const withComments = await posts.get("id", { include: { comments: { include: { author: true } } } });
    expectTypeOf(withComments!.comments[0]!.author).toEqualTypeOf<{ id: string; name: string; email: string; role: string; emailVerified: boolean; createdAt: string; updatedAt: string } | null>();
  });

  test("all() yields the records of the options", async () => {
    for await (const post of posts.all({ where: { published: true }, select: ["slug"] })) {
      expectTypeOf(post).toEqualTypeOf<{ id: string; slug: string }>();
    }
    // @ts-expect-error: all() keeps the cursor itself
    void posts.all({ cursor: "x" });
  });

  test("writes take the caller's inputs", () => {
    void posts.create({ title: "T", slug: "t", publishedAt: new Date() });
    // @ts-expect-error: title is required
    void posts.create({ slug: "t" });
    // @ts-expect-error: author is read-only for callers
    void posts.create({ title: "T", slug: "t", author: "id" });
    // @ts-expect-error: callers do not set timestamps
    void posts.update("id", { createdAt: new Date() });
    expectTypeOf(posts.delete("id")).resolves.toEqualTypeOf<void>();
  });

  test("a collection the backend does not have is an error", () => {
    // @ts-expect-error: no such collection
    void client.collections.articles;
  });
});

describe("subscribe", () => {
  type Post = NonNullable<Awaited<ReturnType<typeof posts.get>>>;

  test("the callback hears SubscriptionEvent of the caller's records as JSON; it resolves to the unsubscribe", async () => {
    const stop = await posts.subscribe({ where: { published: true } }, (event) => {
      expectTypeOf(event).toEqualTypeOf<SubscriptionEvent<Post>>();
      if (event.type === "created" || event.type === "updated" || event.type === "entered" || event.type === "deleted" || event.type === "left") {
        expectTypeOf(event.record.publishedAt).toEqualTypeOf<string | null>();
        expectTypeOf(event.sequence).toEqualTypeOf<string>();
      }
      if (event.type === "end") expectTypeOf(event.reason).toEqualTypeOf<SubscriptionEndReason>();
    });
    expectTypeOf(stop).toEqualTypeOf<() => void>();
  });

  test("select and include shape the records, as in list", () => {
    const events = posts.subscribe({ select: ["title"], include: { author: { select: ["name"] } }, after: "41" });
    expectTypeOf(events).toEqualTypeOf<Subscription<{ id: string; title: string; author: { id: string; name: string } | null }>>();
    expectTypeOf(events.close).toEqualTypeOf<() => void>();
  });

  test("the iterator yields the events; select names only fields; after is a sequence", async () => {
    for await (const event of posts.subscribe({ select: ["title", "rank"] })) {
      if (event.type === "created") expectTypeOf(event.record).toEqualTypeOf<{ id: string; title: string; rank: number }>();
      if (event.type === "gap" || event.type === "ready") expectTypeOf(event.sequence).toEqualTypeOf<string>();
    }
    // @ts-expect-error: not a field
    void posts.subscribe({ select: ["nope"] });
    // @ts-expect-error: nor a filter on one
    void posts.subscribe({ where: { nope: true } });
    // @ts-expect-error: after is an event's sequence, a string
    void posts.subscribe({ after: 41 });
  });

  test("only collections declared realtime: true have subscribe", () => {
    expectTypeOf(client.collections.posts).toHaveProperty("subscribe");
    expectTypeOf(client.collections.comments).not.toHaveProperty("subscribe");
    expectTypeOf(client.collections.users).not.toHaveProperty("subscribe");
    expectTypeOf(client.collections.comments).toEqualTypeOf<CollectionClient<SchemaOf, "comments">>();
    expectTypeOf(client.collections.posts).toEqualTypeOf<RealtimeCollectionClient<SchemaOf, "posts">>();
  });
});

describe("actions", () => {
  test("input and output come from the zod schemas, dates as strings", async () => {
    expectTypeOf(client.actions.double).parameter(0).toEqualTypeOf<{ n: number }>();
    expectTypeOf(await client.actions.double({ n: 2 })).toEqualTypeOf<{ n: number; doubled: number; by: string | null }>();
    expectTypeOf(await client.actions.publish({ id: "x" })).toEqualTypeOf<{ id: string; published: boolean; publishedAt: string }>();
    expectTypeOf(client.actions.publish).parameter(0).toEqualTypeOf<{ id: string; at?: unknown }>();
    expectTypeOf(await client.actions.clearTags({ id: "x" })).toEqualTypeOf<void>();
    // @ts-expect-error: n is a number
    void client.actions.double({ n: "2" });
    // @ts-expect-error: no such action
    void client.actions.nothing;
  });

  test("action routes are named by action", () => {
    createClient<ClientBackend>({ baseUrl: "/api", actionRoutes: { publish: { path: "/posts/:id/publish" }, stats: { method: "GET", path: "/stats/:published" } } });
    // @ts-expect-error: no such action
    createClient<ClientBackend>({ baseUrl: "/api", actionRoutes: { nothing: { path: "/x" } } });
  });
});

describe("auth", () => {
  test("sign-in gives the user as the user reads itself, a token and the session", async () => {
    const signed = await client.auth.signIn({ email: "a@example.com", password: "p" });
    expectTypeOf(signed.token).toEqualTypeOf<string>();
    expectTypeOf(signed.user.name).toEqualTypeOf<string>();
    expectTypeOf(signed.user).not.toHaveProperty("secret");
    expectTypeOf(signed.session.expiresAt).toEqualTypeOf<string>();
    const current = await client.auth.session();
    expectTypeOf(current).toEqualTypeOf<{ user: typeof signed.user; session: typeof signed.session } | null>();
  });

  test("sign-up takes the user's own fields and is either signed in or mailed", async () => {
    const result = await client.auth.signUp({ email: "a@example.com", password: "p", name: "Ada" });
    if ("token" in result) expectTypeOf(result.token).toEqualTypeOf<string>();
    else expectTypeOf(result.status).toEqualTypeOf<"email-sent">();
    // @ts-expect-error: name is required
    void client.auth.signUp({ email: "a@example.com" });
    // @ts-expect-error: role is read-only
    void client.auth.signUp({ email: "a@example.com", name: "A", role: "admin" });
  });

  test("API keys", async () => {
    const { key, apiKey } = await client.auth.apiKeys.create({ name: "ci", collections: ["posts"] });
    expectTypeOf(key).toEqualTypeOf<string>();
    expectTypeOf(apiKey.createdAt).toEqualTypeOf<string>();
    expectTypeOf(await client.auth.apiKeys.list()).toEqualTypeOf<(typeof apiKey)[]>();
  });
});

describe("errors", () => {
  test("ApiError carries status, code, title, issues", () => {
    const error = null as unknown as ApiError;
    expectTypeOf(new ApiError(409, "ALREADY_DONE", "Done").code).toEqualTypeOf<"ALREADY_DONE">();
    expectTypeOf(error.status).toEqualTypeOf<number>();
    expectTypeOf(error.code).toEqualTypeOf<ClientErrorCode>();
    expectTypeOf(error.title).toEqualTypeOf<string>();
    expectTypeOf(error.issues).toEqualTypeOf<readonly FieldIssue[]>();
    expectTypeOf<"VALIDATION_FAILED">().toExtend<ClientErrorCode>();
    expectTypeOf<"ALREADY_DONE">().toExtend<ClientErrorCode>();
  });

  test("isApiError narrows the code", () => {
    const error: unknown = null;
    if (isApiError(error, "EMAIL_TAKEN")) expectTypeOf(error.code).toEqualTypeOf<"EMAIL_TAKEN">();
    if (isApiError(error)) expectTypeOf(error).toEqualTypeOf<ApiError<ClientErrorCode>>();
  });

  test("Jsonified turns dates into strings, deeply", () => {
    expectTypeOf<Jsonified<{ at: Date; list: { at: Date | null }[] }>>().toEqualTypeOf<{ at: string; list: { at: string | null }[] }>();
  });
});
