/**
 * The caller's user record is built one way whatever the credential: the session cookie, a
 * session token in `Authorization`, or an API key all give the record the data layer reads,
 * computed fields included, so a rule on one decides alike for all three.
 */
import { expect, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field, usersCollection } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { bearer, fastHasher, PASSWORD, recordingLogger, uniqueEmail } from "./support.js";

const users = usersCollection({
  fields: {
    posts: field.hasMany("posts", { on: "owner" }),
    postCount: field.count("posts"),
  },
});
const posts = collection("posts", {
  fields: { title: field.text(), owner: field.belongsTo("users") },
  access: { list: () => true, get: () => true },
});
const countOf = (user: unknown) => (user as Record<string, unknown> | null)?.["postCount"];
const authors = action({
  input: z.object({}),
  access: ({ user }) => countOf(user) === 1,
  handler: ({ user }) => ({ postCount: countOf(user) }),
});

describeEachDatabase("auth: the caller's record", (database) => {
  test("a rule on a computed users field decides alike for the cookie, a bearer session token and an API key", async () => {
    const fresh = await database.fresh();
    const backend = createBackend({
      database: fresh.database,
      collections: { users, posts },
      actions: { authors },
      logger: recordingLogger(),
      auth: { password: { hasher: fastHasher, requireEmailVerification: false }, rateLimit: false },
    });
    try {
      await backend.migrate();
      const email = uniqueEmail();
      const ada = await backend.auth.createUser({ email, password: PASSWORD });
      await backend.system.data.posts.create({ title: "first", owner: ada.id });
      const signIn = await backend.fetch(
        new Request("http://localhost/auth/sign-in", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) }),
      );
      expect(signIn.status).toBe(200);
      const { token } = (await signIn.json()) as { token: string };
      const { key } = await backend.auth.apiKeys.create({ name: "ci", userId: ada.id });
      const call = async (headers: Record<string, string>) => {
        const response = await backend.fetch(new Request("http://localhost/actions/authors", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" }));
        return { status: response.status, body: (await response.json()) as unknown };
      };
      const answers = {
        cookie: await call({ cookie: `cimiento_session=${token}` }),
        session: await call(bearer(token)),
        apiKey: await call(bearer(key)),
      };
      expect(answers).toEqual({
        cookie: { status: 200, body: { postCount: 1 } },
        session: { status: 200, body: { postCount: 1 } },
        apiKey: { status: 200, body: { postCount: 1 } },
      });
      // The same function answers backend.auth.verifyToken.
      expect(countOf((await backend.auth.verifyToken(token))!.user)).toBe(1);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
