/**
 * The RealWorld (Conduit) example, as a client of the specification sees it: the server runs as
 * its own process (`examples/realworld/index.ts`) on a fresh SQLite file, and on a fresh
 * PostgreSQL database when CIMIENTO_TEST_POSTGRES_URL is set; every operation of
 * shared/realworld/openapi.yml is exercised over HTTP, with its statuses, envelopes and errors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PASSWORD = "password123";

interface Server {
  readonly child: ChildProcess;
  readonly api: string;
  output: string;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ["--import", "tsx", join("examples", "realworld", "index.ts")], {
    cwd: root,
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const server = { child, api: "", output: "" };
  child.stdout!.on("data", (chunk: Buffer) => (server.output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (server.output += chunk.toString()));
  server.api = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The example did not start in time:\n${server.output}`)), 60_000);
    child.stdout!.on("data", () => {
      const found = /listens on (http:\/\/\S+\/api)/.exec(server.output);
      if (found === null) return;
      clearTimeout(timer);
      resolve(found[1]!);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The example exited with ${code}:\n${server.output}`));
    });
  });
  return server;
}

async function stopServer(server: Server | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

type Json = Record<string, any>;

/** The suite, once per database. */
function conduitSuite(name: string, prepare: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>) {
  describe(`RealWorld example [${name}]`, () => {
    let server: Server | undefined;
    let cleanup = async () => {};

    beforeAll(async () => {
      const prepared = await prepare();
      cleanup = prepared.cleanup;
      server = await startServer(prepared.env);
    }, 90_000);
    afterAll(async () => {
      await stopServer(server);
      await cleanup();
    });

    async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
      const headers: Record<string, string> = {};
      if (options.token !== undefined) headers["authorization"] = `Token ${options.token}`;
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(server!.api + path, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as Json };
    }

    const register = async (username: string) => {
      const response = await call("POST", "/users", { body: { user: { username, email: `${username}@example.com`, password: PASSWORD } } });
      expect(response.status).toBe(201);
      return response.body["user"].token as string;
    };

    let jake = "";
    let jane = "";
    let slug = "";

    test("CreateUser: 201 with the user and a token; bio and image are null", async () => {
      const response = await call("POST", "/users", { body: { user: { username: "jake", email: "jake@jake.jake", password: PASSWORD } } });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ user: { email: "jake@jake.jake", token: expect.any(String), username: "jake", bio: null, image: null } });
      jake = response.body["user"].token;
      jane = await register("jane");
    });

    test("CreateUser errors: 422 for a blank field, 409 for a taken username or e-mail", async () => {
      for (const field of ["username", "email", "password"]) {
        const user = { username: "u1", email: "u1@example.com", password: PASSWORD, [field]: "" };
        const response = await call("POST", "/users", { body: { user } });
        expect(response.status).toBe(422);
        expect(response.body["errors"][field]).toEqual(["can't be blank"]);
      }
      const name = await call("POST", "/users", { body: { user: { username: "jake", email: "other@example.com", password: PASSWORD } } });
      expect(name.status).toBe(409);
      expect(name.body["errors"]["username"]).toEqual(["has already been taken"]);
      const email = await call("POST", "/users", { body: { user: { username: "other", email: "jake@jake.jake", password: PASSWORD } } });
      expect(email.status).toBe(409);
      expect(email.body["errors"]["email"]).toEqual(["has already been taken"]);
      const missing = await call("POST", "/users", { body: {} });
      expect(missing.status).toBe(422);
      expect(missing.body["errors"]["body"]).toEqual([expect.any(String)]);
    });

    test("Login: 200 with a new token; 401 for a wrong password; 422 for a blank field", async () => {
      const response = await call("POST", "/users/login", { body: { user: { email: "jake@jake.jake", password: PASSWORD } } });
      expect(response.status).toBe(200);
      expect(response.body["user"]).toMatchObject({ email: "jake@jake.jake", username: "jake", bio: null, image: null });
      expect(response.body["user"].token).not.toBe(jake);
      const wrong = await call("POST", "/users/login", { body: { user: { email: "jake@jake.jake", password: "wrong-password" } } });
      expect(wrong.status).toBe(401);
      expect(wrong.body["errors"]["credentials"]).toEqual(["invalid"]);
      const blank = await call("POST", "/users/login", { body: { user: { email: "jake@jake.jake", password: "" } } });
      expect(blank.status).toBe(422);
      expect(blank.body["errors"]["password"]).toEqual(["can't be blank"]);
    });

    test("GetCurrentUser: 200 with the caller and its token; 401 without one or with a bad one", async () => {
      const response = await call("GET", "/user", { token: jake });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ user: { email: "jake@jake.jake", token: jake, username: "jake", bio: null, image: null } });
      const anonymous = await call("GET", "/user");
      expect(anonymous.status).toBe(401);
      expect(anonymous.body["errors"]["token"]).toEqual(["is missing"]);
      expect((await call("GET", "/user", { token: "not-a-token" })).status).toBe(401);
    });

    test("UpdateCurrentUser: bio and image set and cleared, username and e-mail changed, password changed", async () => {
      const bio = await call("PUT", "/user", { token: jake, body: { user: { bio: "I work at statefarm", image: "https://example.com/jake.jpg" } } });
      expect(bio.status).toBe(200);
      expect(bio.body["user"]).toEqual({ email: "jake@jake.jake", token: jake, username: "jake", bio: "I work at statefarm", image: "https://example.com/jake.jpg" });
      const cleared = await call("PUT", "/user", { token: jake, body: { user: { image: "" } } });
      expect(cleared.body["user"].image).toBeNull();
      expect((await call("PUT", "/user", { token: jake, body: { user: { bio: null } } })).body["user"].bio).toBeNull();
      const same = await call("PUT", "/user", { token: jake, body: { user: { email: "jake@jake.jake" } } });
      expect(same.status).toBe(200);
      const renamed = await call("PUT", "/user", { token: jake, body: { user: { username: "jacob", email: "Jacob@Jake.Jake" } } });
      expect(renamed.body["user"]).toMatchObject({ username: "jacob", email: "jacob@jake.jake", token: jake });
      expect((await call("GET", "/user", { token: jake })).body["user"].username).toBe("jacob");
      await call("PUT", "/user", { token: jake, body: { user: { username: "jake", email: "jake@jake.jake" } } });
      const password = await call("PUT", "/user", { token: jake, body: { user: { password: "new-password-1" } } });
      expect(password.status).toBe(200);
      const fresh = password.body["user"].token as string;
      expect(fresh).not.toBe(jake);
      expect((await call("GET", "/user", { token: jake })).status).toBe(401); // the old session ended
      expect((await call("GET", "/user", { token: fresh })).status).toBe(200);
      const login = await call("POST", "/users/login", { body: { user: { email: "jake@jake.jake", password: "new-password-1" } } });
      expect(login.status).toBe(200);
      jake = fresh;
    });

    test("UpdateCurrentUser errors: 401 without a token; 422 for a blank or null e-mail or username; 409 for a taken one", async () => {
      expect((await call("PUT", "/user", { body: { user: { bio: "x" } } })).status).toBe(401);
      for (const user of [{ email: "" }, { username: "" }, { email: null }, { username: null }]) {
        expect((await call("PUT", "/user", { token: jake, body: { user } })).status).toBe(422);
      }
      const taken = await call("PUT", "/user", { token: jake, body: { user: { username: "jane" } } });
      expect(taken.status).toBe(409);
      expect(taken.body["errors"]["username"]).toEqual(["has already been taken"]);
    });

    test("GetProfileByUsername, FollowUserByUsername, UnfollowUserByUsername", async () => {
      const profile = await call("GET", "/profiles/jane");
      expect(profile.status).toBe(200);
      expect(profile.body).toEqual({ profile: { username: "jane", bio: null, image: null, following: false } });
      const followed = await call("POST", "/profiles/jane/follow", { token: jake, body: { user: { email: "jane@example.com" } } });
      expect(followed.status).toBe(200);
      expect(followed.body).toEqual({ profile: { username: "jane", bio: null, image: null, following: true } });
      expect((await call("POST", "/profiles/jane/follow", { token: jake })).body["profile"].following).toBe(true); // twice is fine
      expect((await call("GET", "/profiles/jane", { token: jake })).body["profile"].following).toBe(true);
      expect((await call("GET", "/profiles/jane")).body["profile"].following).toBe(false);
      const unfollowed = await call("DELETE", "/profiles/jane/follow", { token: jake });
      expect(unfollowed.status).toBe(200);
      expect(unfollowed.body["profile"].following).toBe(false);
      expect((await call("GET", "/profiles/jane", { token: jake })).body["profile"].following).toBe(false);
    });

    test("profile errors: 404 for an unknown user; 401 before 404 without a token", async () => {
      const missing = await call("GET", "/profiles/nobody");
      expect(missing.status).toBe(404);
      expect(missing.body["errors"]["profile"]).toEqual(["not found"]);
      expect((await call("POST", "/profiles/nobody/follow")).status).toBe(401);
      expect((await call("DELETE", "/profiles/nobody/follow")).status).toBe(401);
      expect((await call("POST", "/profiles/nobody/follow", { token: jake })).status).toBe(404);
    });

    test("CreateArticle: 201 with slug, sorted tags, dates, favorite state and author", async () => {
      const article = { title: "How to train your dragon", description: "Ever wonder how?", body: "Very carefully.", tagList: ["training", "dragons"] };
      const response = await call("POST", "/articles", { token: jake, body: { article } });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        article: {
          slug: "how-to-train-your-dragon",
          title: "How to train your dragon",
          description: "Ever wonder how?",
          body: "Very carefully.",
          tagList: ["dragons", "training"],
          createdAt: expect.stringMatching(ISO),
          updatedAt: expect.stringMatching(ISO),
          favorited: false,
          favoritesCount: 0,
          author: { username: "jake", bio: null, image: null, following: false },
        },
      });
      slug = response.body["article"].slug;
      const again = await call("POST", "/articles", { token: jake, body: { article } });
      expect(again.status).toBe(201);
      expect(again.body["article"].slug).toBe("how-to-train-your-dragon-2");
    });

    test("CreateArticle errors: 401 without a token, 422 for a blank field or a null tagList", async () => {
      const article = { title: "t", description: "d", body: "b" };
      const anonymous = await call("POST", "/articles", { body: { article } });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body["errors"]["token"]).toEqual(["is missing"]);
      for (const field of ["title", "description", "body"]) {
        const response = await call("POST", "/articles", { token: jake, body: { article: { ...article, [field]: "" } } });
        expect(response.status).toBe(422);
        expect(response.body["errors"][field]).toEqual(["can't be blank"]);
      }
      expect((await call("POST", "/articles", { token: jake, body: { article: { ...article, tagList: null } } })).status).toBe(422);
    });

    test("GetArticle: 200 with the body; 404 for an unknown slug, signed in or not", async () => {
      const response = await call("GET", `/articles/${slug}`);
      expect(response.status).toBe(200);
      expect(response.body["article"]).toMatchObject({ slug, body: "Very carefully.", tagList: ["dragons", "training"] });
      const missing = await call("GET", "/articles/no-such-article");
      expect(missing.status).toBe(404);
      expect(missing.body["errors"]["article"]).toEqual(["not found"]);
    });

    test("UpdateArticle: 200; createdAt kept, updatedAt moved, tags kept unless given; 403 for others; 404; 401", async () => {
      const before = (await call("GET", `/articles/${slug}`)).body["article"];
      const response = await call("PUT", `/articles/${slug}`, { token: jake, body: { article: { body: "With two hands" } } });
      expect(response.status).toBe(200);
      expect(response.body["article"]).toMatchObject({ slug, title: "How to train your dragon", body: "With two hands", tagList: ["dragons", "training"] });
      expect(response.body["article"].createdAt).toBe(before.createdAt);
      expect(response.body["article"].updatedAt).not.toBe(before.updatedAt);
      const retagged = await call("PUT", `/articles/${slug}`, { token: jake, body: { article: { tagList: ["dragons"] } } });
      expect(retagged.body["article"].tagList).toEqual(["dragons"]);
      const untagged = await call("PUT", `/articles/${slug}`, { token: jake, body: { article: { tagList: [] } } });
      expect(untagged.body["article"].tagList).toEqual([]);
      await call("PUT", `/articles/${slug}`, { token: jake, body: { article: { tagList: ["training", "dragons"] } } });
      const hijack = await call("PUT", `/articles/${slug}`, { token: jane, body: { article: { body: "hijacked" } } });
      expect(hijack.status).toBe(403);
      expect(hijack.body["errors"]["article"]).toEqual(["forbidden"]);
      expect((await call("PUT", `/articles/${slug}`, { token: jane, body: { article: { tagList: [] } } })).status).toBe(403);
      expect((await call("GET", `/articles/${slug}`)).body["article"].tagList).toEqual(["dragons", "training"]);
      expect((await call("PUT", "/articles/no-such-article", { token: jake, body: { article: { body: "x" } } })).status).toBe(404);
      expect((await call("PUT", `/articles/${slug}`, { body: { article: { body: "x" } } })).status).toBe(401);
    });

    test("CreateArticleFavorite and DeleteArticleFavorite: favorited and favoritesCount follow the caller", async () => {
      const favorited = await call("POST", `/articles/${slug}/favorite`, { token: jane });
      expect(favorited.status).toBe(200);
      expect(favorited.body["article"]).toMatchObject({ slug, favorited: true, favoritesCount: 1 });
      expect((await call("POST", `/articles/${slug}/favorite`, { token: jane })).body["article"].favoritesCount).toBe(1);
      expect((await call("GET", `/articles/${slug}`, { token: jake })).body["article"]).toMatchObject({ favorited: false, favoritesCount: 1 });
      const list = await call("GET", "/articles?favorited=jane");
      expect(list.body["articlesCount"]).toBe(1);
      expect(list.body["articles"][0]).toMatchObject({ slug, favoritesCount: 1 });
      const unfavorited = await call("DELETE", `/articles/${slug}/favorite`, { token: jane });
      expect(unfavorited.status).toBe(200);
      expect(unfavorited.body["article"]).toMatchObject({ favorited: false, favoritesCount: 0 });
      expect((await call("POST", `/articles/${slug}/favorite`)).status).toBe(401);
      expect((await call("POST", "/articles/no-such-article/favorite", { token: jane })).status).toBe(404);
      await call("POST", `/articles/${slug}/favorite`, { token: jane });
    });

    test("GetArticles: newest first, without bodies, filtered by tag, author and favorited, with limit and offset", async () => {
      const all = await call("GET", "/articles");
      expect(all.status).toBe(200);
      expect(all.body["articlesCount"]).toBe(2);
      expect(all.body["articles"].map((a: Json) => a["slug"])).toEqual(["how-to-train-your-dragon-2", slug]);
      expect(all.body["articles"][0]).not.toHaveProperty("body");
      expect(Object.keys(all.body["articles"][1]).sort()).toEqual(
        ["author", "createdAt", "description", "favorited", "favoritesCount", "slug", "tagList", "title", "updatedAt"],
      );
      expect((await call("GET", "/articles", { token: jane })).body["articles"][1]).toMatchObject({ slug, favorited: true, favoritesCount: 1 });
      const tagged = await call("GET", "/articles?tag=training");
      expect(tagged.body["articlesCount"]).toBe(2);
      expect(tagged.body["articles"][0].tagList).toEqual(["dragons", "training"]);
      expect((await call("GET", "/articles?tag=nothing")).body).toEqual({ articles: [], articlesCount: 0 });
      expect((await call("GET", "/articles?author=jake")).body["articlesCount"]).toBe(2);
      expect((await call("GET", "/articles?author=jane")).body["articlesCount"]).toBe(0);
      expect((await call("GET", "/articles?favorited=jane")).body["articles"].map((a: Json) => a["slug"])).toEqual([slug]);
      const first = await call("GET", "/articles?limit=1");
      expect(first.body["articles"].map((a: Json) => a["slug"])).toEqual(["how-to-train-your-dragon-2"]);
      expect(first.body["articlesCount"]).toBe(2);
      const second = await call("GET", "/articles?limit=1&offset=1");
      expect(second.body["articles"].map((a: Json) => a["slug"])).toEqual([slug]);
      expect((await call("GET", "/articles?limit=0")).status).toBe(422);
    });

    test("GetArticlesFeed: articles of followed authors, with author.following; 401 without a token", async () => {
      expect((await call("GET", "/articles/feed", { token: jane })).body).toEqual({ articles: [], articlesCount: 0 });
      await call("POST", "/profiles/jake/follow", { token: jane });
      const feed = await call("GET", "/articles/feed?limit=1", { token: jane });
      expect(feed.status).toBe(200);
      expect(feed.body["articlesCount"]).toBe(2);
      expect(feed.body["articles"]).toHaveLength(1);
      expect(feed.body["articles"][0].author).toEqual({ username: "jake", bio: null, image: null, following: true });
      expect((await call("GET", "/articles/feed?limit=1&offset=1", { token: jane })).body["articles"][0].slug).toBe(slug);
      const anonymous = await call("GET", "/articles/feed");
      expect(anonymous.status).toBe(401);
      expect(anonymous.body["errors"]["token"]).toEqual(["is missing"]);
    });

    let commentId = 0;
    test("CreateArticleComment, GetArticleComments: integer ids, author profiles, signed in or not", async () => {
      const created = await call("POST", `/articles/${slug}/comments`, { token: jane, body: { comment: { body: "Thank you so much!" } } });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        comment: {
          id: expect.any(Number),
          createdAt: expect.stringMatching(ISO),
          updatedAt: expect.stringMatching(ISO),
          body: "Thank you so much!",
          author: { username: "jane", bio: null, image: null, following: false },
        },
      });
      commentId = created.body["comment"].id;
      expect(Number.isInteger(commentId)).toBe(true);
      const second = await call("POST", `/articles/${slug}/comments`, { token: jake, body: { comment: { body: "Second" } } });
      expect(second.body["comment"].id).toBe(commentId + 1);
      const listed = await call("GET", `/articles/${slug}/comments`, { token: jake });
      expect(listed.status).toBe(200);
      expect(listed.body["comments"].map((c: Json) => [c["id"], c["body"], c["author"].following])).toEqual([
        [commentId, "Thank you so much!", false],
        [commentId + 1, "Second", false],
      ]);
      expect((await call("GET", `/articles/${slug}/comments`, { token: jane })).body["comments"][1].author.following).toBe(true);
      expect((await call("GET", `/articles/${slug}/comments`)).body["comments"]).toHaveLength(2);
    });

    test("comment errors: 401, 422 for a blank body, 404 for an unknown article or comment, 403 for another's comment", async () => {
      expect((await call("POST", `/articles/${slug}/comments`, { body: { comment: { body: "x" } } })).status).toBe(401);
      const blank = await call("POST", `/articles/${slug}/comments`, { token: jane, body: { comment: { body: "" } } });
      expect(blank.status).toBe(422);
      expect(blank.body["errors"]["body"]).toEqual(["can't be blank"]);
      const noArticle = await call("POST", "/articles/no-such-article/comments", { token: jane, body: { comment: { body: "x" } } });
      expect(noArticle.status).toBe(404);
      expect(noArticle.body["errors"]["article"]).toEqual(["not found"]);
      expect((await call("GET", "/articles/no-such-article/comments")).status).toBe(404);
      const noComment = await call("DELETE", `/articles/${slug}/comments/99999`, { token: jane });
      expect(noComment.status).toBe(404);
      expect(noComment.body["errors"]["comment"]).toEqual(["not found"]);
      const others = await call("DELETE", `/articles/${slug}/comments/${commentId}`, { token: jake });
      expect(others.status).toBe(403);
      expect(others.body["errors"]["comment"]).toEqual(["forbidden"]);
      expect((await call("DELETE", `/articles/${slug}/comments/${commentId}`)).status).toBe(401);
    });

    test("DeleteArticleComment: 204, and the comment is gone; its id is not reused", async () => {
      const deleted = await call("DELETE", `/articles/${slug}/comments/${commentId}`, { token: jane });
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeNull();
      const listed = await call("GET", `/articles/${slug}/comments`);
      expect(listed.body["comments"].map((c: Json) => c["body"])).toEqual(["Second"]);
      const next = await call("POST", `/articles/${slug}/comments`, { token: jane, body: { comment: { body: "Third" } } });
      expect(next.body["comment"].id).toBe(commentId + 2);
    });

    test("GetTags: every tag in use", async () => {
      await call("POST", "/articles", { token: jane, body: { article: { title: "Other", description: "d", body: "b", tagList: ["zebras"] } } });
      const response = await call("GET", "/tags");
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ tags: ["dragons", "training", "zebras"] });
    });

    test("DeleteArticle: 403 for others, 204 for the author, then 404; its tags and comments go with it", async () => {
      const others = await call("DELETE", `/articles/${slug}`, { token: jane });
      expect(others.status).toBe(403);
      expect(others.body["errors"]["article"]).toEqual(["forbidden"]);
      expect((await call("DELETE", `/articles/${slug}`)).status).toBe(401);
      const deleted = await call("DELETE", `/articles/${slug}`, { token: jake });
      expect(deleted.status).toBe(204);
      expect(deleted.body).toBeNull();
      expect((await call("GET", `/articles/${slug}`)).status).toBe(404);
      expect((await call("GET", `/articles/${slug}/comments`)).status).toBe(404);
      expect((await call("DELETE", `/articles/${slug}`, { token: jake })).status).toBe(404);
      expect((await call("GET", "/articles?favorited=jane")).body["articlesCount"]).toBe(0);
    });

    test("front-ends on other origins may call it (CORS), with the Authorization header", async () => {
      const preflight = await fetch(server!.api + "/user", {
        method: "OPTIONS",
        headers: { origin: "https://conduit.example", "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
      expect(preflight.headers.get("access-control-allow-headers")?.replace(/\s/g, "")).toBe("authorization,content-type");
    });

    test("the generic collection routes do not show e-mail addresses", async () => {
      const response = await call("GET", "/collections/users/records");
      expect(response.status).toBe(200);
      expect(JSON.stringify(response.body)).not.toContain("@");
    });
  });
}

conduitSuite("sqlite", async () => {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-realworld-"));
  return { env: { REALWORLD_DB: join(folder, "conduit.db") }, cleanup: async () => rmSync(folder, { recursive: true, force: true }) };
});

const postgresUrl = inject("postgresUrl");
if (postgresUrl === null) {
  describe.skip("RealWorld example [postgres] (skipped: CIMIENTO_TEST_POSTGRES_URL is not set)", () => {
    test("runs on PostgreSQL", () => {});
  });
} else {
  conduitSuite("postgres", async () => {
    const name = `realworld_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return {
      env: { DATABASE_URL: url.toString() },
      async cleanup() {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`drop database if exists "${name}" with (force)`);
        await client.end();
      },
    };
  });
}
