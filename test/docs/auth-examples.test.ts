/**
 * docs/auth.md runs: its examples, verbatim, with checks of what the page says they do (see
 * page-examples.ts).
 */
import { check, describePage, example, type Part } from "./page-examples.js";

const program: readonly Part[] = [
  example(`import { z } from "zod";
import { collection, createBackend, field, scryptHasher, usersCollection, type Mailer, type MailMessage } from "cimiento";

const sent: MailMessage[] = []; // stands in for an e-mail service
const mailer: Mailer = { send: async (message) => void sent.push(message) };

// email (unique, normalised), role and emailVerified are built in; add your own fields.
const users = usersCollection({ fields: { name: field.text(z.string().min(1).max(100)) } });

const notes = collection("notes", {
  fields: { body: field.text(z.string().min(1)), owner: field.belongsTo("users").readOnly() },
  access: {
    list: ({ user }) => (user ? { owner: user.id } : false),
    create: ({ user }) => user !== null,
  },
  hooks: { beforeCreate: ({ data, user }) => (user ? { ...data, owner: user.id } : data) },
});

const backend = createBackend({
  database,
  collections: { users, notes },
  auth: {
    // A cheap hash keeps this page's test fast; in production keep the default (scrypt, N = 2^17).
    password: { hasher: scryptHasher({ logN: 12 }) },
    sessions: { ttl: "30d", schemes: ["Bearer", "Token"] },
    mailer,
    links: {
      // signUp: the link finishes a sign-up, and its page asks for the password.
      verifyEmail: (token, { signUp }) => \`https://app.example.com/\${signUp ? "finish-sign-up" : "verify"}?token=\${token}\`,
      resetPassword: (token) => \`https://app.example.com/reset-password?token=\${token}\`,
    },
  },
});
await backend.migrate(); // creates users, and the tables of sessions, tokens, API keys and limits
`),
  check(`track(backend);
expect(sent).toEqual([]);
`),
  example(`const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  backend.fetch(
    new Request(\`http://localhost\${path}\`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
  );

const signUp = await post("/auth/sign-up", { email: " Ada@Example.com", name: "Ada" });
// 202 { status: "email-sent", message: "Check your e-mail to finish signing up." }
`),
  check(`expect(signUp.status).toBe(202);
expect(await signUp.json()).toEqual({ status: "email-sent", message: "Check your e-mail to finish signing up." });
expect(await backend.system.data.users.count()).toBe(0);
while (sent.length === 0) await new Promise((r) => setTimeout(r, 5));
expect(sent[0]).toMatchObject({ to: "ada@example.com", subject: "Confirm your e-mail address" });
// The link finishes a sign-up; followed without a password it asks for one, and stays usable.
const pending = new URL(sent[0]!.text.match(/https:\\S+/)![0]);
expect(pending.pathname).toBe("/finish-sign-up");
const bare = await post("/auth/verify-email", { token: pending.searchParams.get("token") });
expect(bare.status).toBe(422);
expect(((await bare.json()) as { issues: unknown }).issues).toEqual([{ path: ["password"], code: "invalid_type", message: "Choose a password to finish signing up" }]);
expect(await backend.system.data.users.count()).toBe(0);
// A password at sign-up is refused while verification is required.
const withPassword = await post("/auth/sign-up", { email: "mallory@example.com", password: "correct horse battery", name: "Mallory" });
expect(withPassword.status).toBe(422);
expect(((await withPassword.json()) as { issues: { path: string[] }[] }).issues.map((issue) => issue.path)).toEqual([["password"]]);
`),
  example(`const link = new URL(sent[0]!.text.match(/https:\\S+/)![0]); // https://app.example.com/finish-sign-up?token=...
const verified = await post("/auth/verify-email", {
  token: link.searchParams.get("token"),
  password: "correct horse battery",
});
const { user, token } = (await verified.json()) as { user: { id: string; email: string }; token: string };
// user: { id, email: "ada@example.com", role: "user", emailVerified: true, name: "Ada", ... }
`),
  check(`expect(verified.status).toBe(200);
expect(user).toMatchObject({ email: "ada@example.com", role: "user", emailVerified: true, name: "Ada" });
expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
expect(verified.headers.get("set-cookie")).toContain(\`cimiento_session=\${token}\`);
const roleSignUp = await post("/auth/sign-up", { email: "eve@example.com", name: "Eve", role: "admin" });
expect(roleSignUp.status).toBe(422);
expect(((await roleSignUp.json()) as { issues: unknown }).issues).toEqual([{ path: ["role"], code: "read_only", message: "This field is read-only" }]);
`),
  example(`const created = await post("/collections/notes/records", { body: "Buy milk" }, { authorization: \`Bearer \${token}\` });
const session = await backend.fetch(
  new Request("http://localhost/auth/session", { headers: { authorization: \`Token \${token}\` } }),
);
// 200 { user: { id, email, ... }, session: { id, userId, createdAt, expiresAt } }
`),
  check(`expect(created.status).toBe(201);
expect(await created.json()).toMatchObject({ body: "Buy milk", owner: user.id });
expect(session.status).toBe(200);
expect(await session.json()).toMatchObject({ user: { id: user.id, email: "ada@example.com" }, session: { userId: user.id } });
`),
  example(`const signIn = await post("/auth/sign-in", { email: "ada@example.com", password: "correct horse battery" });
const wrong = await post("/auth/sign-in", { email: "ada@example.com", password: "not it" });
const nobody = await post("/auth/sign-in", { email: "nobody@example.com", password: "not it" });
// wrong and nobody: the same 401 INVALID_CREDENTIALS, in about the same time
`),
  check(`expect(signIn.status).toBe(200);
const signedIn = (await signIn.json()) as { token: string };
expect(signedIn.token).not.toBe(token);
expect(wrong.status).toBe(401);
const wrongBody = (await wrong.json()) as Record<string, unknown>;
const nobodyBody = (await nobody.json()) as Record<string, unknown>;
expect(nobody.status).toBe(401);
expect({ ...wrongBody, requestId: 0 }).toEqual({ ...nobodyBody, requestId: 0 });
expect(wrongBody["code"]).toBe("INVALID_CREDENTIALS");
`),
  example(`await post("/auth/request-password-reset", { email: "ada@example.com" }); // 202, known or not
while (!sent.some((message) => message.subject === "Reset your password")) await new Promise((r) => setTimeout(r, 5));
const resetLink = new URL(sent.find((message) => message.subject === "Reset your password")!.text.match(/https:\\S+/)![0]);
const reset = await post("/auth/reset-password", {
  token: resetLink.searchParams.get("token"),
  password: "a new long password",
}); // 204: the password is set, every session ended, the address counts as verified
`),
  check(`expect(reset.status).toBe(204);
expect((await post("/auth/sign-in", { email: "ada@example.com", password: "a new long password" })).status).toBe(200);
expect((await post("/auth/sign-in", { email: "ada@example.com", password: "correct horse battery" })).status).toBe(401);
const again = await backend.fetch(new Request("http://localhost/auth/session", { headers: { authorization: \`Bearer \${token}\` } }));
expect(again.status).toBe(401);
`),
  example(`import { smtpMailer } from "cimiento";

const smtp = smtpMailer({
  host: "smtp.example.com",
  port: 587, // STARTTLS
  auth: { user: "apikey", pass: "secret" },
  from: "Example <no-reply@example.com>",
});
smtp.close(); // closes its pooled connections; a server keeps it open
`),
  check(`expect(typeof smtp.send).toBe("function");
`),
  example(`const grace = await backend.auth.createUser({ email: "grace@example.com", password: "another long password", name: "Grace", role: "admin" });
const { token: graceToken } = await backend.auth.createSession(grace.id); // e.g. for tests
const identity = await backend.auth.verifyToken(graceToken);
// { user: { id, email: "grace@example.com", role: "admin", ... }, session: { ... } }
const ended = await backend.auth.revokeSessions(grace.id); // 1
`),
  check(`expect(grace).toMatchObject({ email: "grace@example.com", role: "admin", name: "Grace" });
expect(identity?.user).toMatchObject({ id: grace.id, email: "grace@example.com", role: "admin" });
expect(ended).toBe(1);
expect(await backend.auth.verifyToken(graceToken)).toBeNull();
`),
  example(`// From the old system's table: a bcrypt hash of "correct horse battery staple".
const linus = await backend.auth.createUser({
  email: "linus@example.com",
  name: "Linus",
  passwordHash: "\$2b\$10\$99XOJK04Ks7338JH.brNgOke584fIlobuKCfSt78NS14izVSrbnV2",
  emailVerified: true, // the old system had confirmed the address
});
const moved = await backend.auth.signIn("linus@example.com", "correct horse battery staple");
// 200 as any sign-in; the bcrypt hash is now replaced by the backend's own (scrypt)
`),
  check(`expect(moved.user.id).toBe(linus.id);
const credentials = backend.db.withTables<{ cimiento_credentials: { user: string; passwordHash: string } }>();
const stored = await credentials.selectFrom("cimiento_credentials").select("passwordHash").where("user", "=", linus.id).executeTakeFirstOrThrow();
expect(stored.passwordHash).toMatch(/^\\$scrypt\\$ln=12,r=8,p=1\\$/);
await expect(backend.auth.signIn("linus@example.com", "not the password")).rejects.toMatchObject({ status: 401, code: "INVALID_CREDENTIALS" });
expect((await backend.auth.signIn("linus@example.com", "correct horse battery staple")).user.id).toBe(linus.id);
`),
  example(`const { key, apiKey } = await backend.auth.apiKeys.create({ name: "billing sync", userId: grace.id, collections: ["notes"] });
// key: "ck_..." (shown this once); apiKey: { id, name, start: "ck_xxxxx", userId, collections: ["notes"], ... }
const viaKey = await backend.fetch(
  new Request("http://localhost/collections/notes/records", { headers: { authorization: \`Bearer \${key}\` } }),
);
await backend.auth.apiKeys.revoke(apiKey.id);
`),
  check(`expect(key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
expect(apiKey).toMatchObject({ name: "billing sync", userId: grace.id, collections: ["notes"], start: key.slice(0, 8) });
expect(viaKey.status).toBe(200);
const usersViaKey = await backend.fetch(new Request("http://localhost/collections/users/records", { headers: { authorization: \`Bearer \${key}\` } }));
expect(usersViaKey.status).toBe(401);
`),
  example(`import express from "express";
import { Hono } from "hono";
import { toNodeHandler } from "cimiento/node";
import { toHono } from "cimiento/hono";

const expressApp = express();
expressApp.use("/api", toNodeHandler(backend)); // POST /api/auth/sign-in, ...

const honoApp = new Hono();
honoApp.route("/api", toHono(backend));
// expressApp.listen(3000), or serve({ fetch: honoApp.fetch, port: 3000 }) from @hono/node-server
`),
  check(`expect(typeof expressApp).toBe("function");
// honoApp is not asked yet: Hono takes no route once it has answered (the next example adds some).
`),
  example(`import { toApiError } from "cimiento";

expressApp.get("/my-notes", async (req, res) => {
  const caller = await backend.auth.session(req); // the session cookie, or Authorization
  if (caller === null) {
    res.status(401).json({ error: "Sign in first" });
    return;
  }
  if (caller.setCookie !== undefined) res.append("Set-Cookie", caller.setCookie); // the session slid
  const { items } = await backend.as(caller).data.notes.list(); // the caller's rules apply
  res.json(items);
});

honoApp.post("/my-notes", async (c) => {
  const caller = await backend.auth.session(c.req.raw); // 403 for a cookie write from another site
  if (caller === null) return c.json({ error: "Sign in first" }, 401);
  if (caller.setCookie !== undefined) c.header("Set-Cookie", caller.setCookie, { append: true });
  const { body } = await c.req.json<{ body: string }>();
  const note = await backend.as(caller).data.notes.create({ body });
  return c.json(note, 201);
});
// Hono answers a thrown error with 500, unless the app says otherwise:
honoApp.onError((error) => {
  const safe = toApiError(error); // an ApiError as it is; anything else a 500 that shows nothing
  return Response.json({ code: safe.code, detail: safe.message }, { status: safe.status });
});
`),
  check(`const { token: adaToken } = await backend.auth.createSession(user.id);
const adaCookie = \`cimiento_session=\${adaToken}\`;
// Express, on a real server: the caller by the cookie or the header, 401 without one.
const server = expressApp.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const myNotes = \`http://127.0.0.1:\${(server.address() as { port: number }).port}/my-notes\`;
try {
  const byCookie = await fetch(myNotes, { headers: { cookie: adaCookie } });
  expect(byCookie.status).toBe(200);
  expect(((await byCookie.json()) as { body: string; owner: string }[]).map((note) => [note.body, note.owner])).toEqual([["Buy milk", user.id]]);
  expect((await fetch(myNotes, { headers: { authorization: \`Bearer \${adaToken}\` } })).status).toBe(200);
  expect((await fetch(myNotes)).status).toBe(401);
  expect((await fetch(myNotes, { headers: { cookie: "cimiento_session=revoked-or-made-up-token" } })).status).toBe(401);
} finally {
  server.closeAllConnections();
  server.close();
}
// Hono: the API beside the host's route; a write with the cookie from this site, refused from
// another, 401 without a caller.
expect((await honoApp.request("/api/health")).status).toBe(200);
const write = (headers: Record<string, string>) =>
  honoApp.request("/my-notes", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ body: "Call Bob" }) });
const written = await write({ cookie: adaCookie, origin: "http://localhost" });
expect(written.status).toBe(201);
expect(await written.json()).toMatchObject({ body: "Call Bob", owner: user.id });
const forged = await write({ cookie: adaCookie, origin: "https://evil.example" });
expect(forged.status).toBe(403);
expect(await forged.json()).toEqual({ code: "CROSS_ORIGIN_REQUEST", detail: expect.any(String) });
expect((await write({})).status).toBe(401);
expect(await backend.system.data.notes.count({ where: { body: "Call Bob" } })).toBe(1);
`),
  example(`import { ApiError } from "cimiento";

const people = collection("people", { fields: { name: field.text() }, access: { list: ({ user }) => user !== null } });
const tokens = new Map([["secret-token-of-lin", { id: "lin", role: "member" }]]); // your token check

const hosted = createBackend({
  database,
  collections: { people },
  auth: {
    resolve: async (request) => {
      const header = request.headers.get("authorization");
      if (header === null) return null;
      const principal = tokens.get(header.replace(/^Bearer /, ""));
      if (principal === undefined) throw new ApiError(401, "INVALID_TOKEN", "Unknown token");
      return principal;
    },
  },
});
await hosted.migrate();
const anonymous = await hosted.fetch(new Request("http://localhost/collections/people/records")); // 401
const lin = await hosted.fetch(
  new Request("http://localhost/collections/people/records", { headers: { authorization: "Bearer secret-token-of-lin" } }),
); // 200
`),
  check(`track(hosted);
expect(anonymous.status).toBe(401);
expect(lin.status).toBe(200);
`),
];

describePage("docs/auth.md", program);
