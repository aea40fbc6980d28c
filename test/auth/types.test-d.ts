import type { IncomingMessage } from "node:http";
import type { Request as ExpressRequest } from "express";
import type { Context as HonoContext } from "hono";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";
import {
  collection,
  createBackend,
  field,
  usersCollection,
  type ApiKeyInfo,
  type BuiltInAuthOptions,
  type CreateUserInput,
  type Identity,
  type ActionAuth,
  type PasswordOptions,
  type Principal,
  type RateLimitOptions,
  type RequestCaller,
  type SessionInfo,
  type SessionRequest,
} from "cimiento";

const posts = collection("posts", {
  fields: { title: field.text(), author: field.belongsTo("users") },
});

describe("built-in auth adds a typed users collection", () => {
  const backend = createBackend({ collections: { posts }, auth: { password: {} } });

  test("system.data.users is there, with email, role and emailVerified", async () => {
    expectTypeOf(backend.system.data).toHaveProperty("users");
    expectTypeOf(backend.system.data).toHaveProperty("posts");
    const user = await backend.system.data.users.get("id");
    expectTypeOf(user).toEqualTypeOf<{ id: string; email: string; role: string; emailVerified: boolean; createdAt: Date; updatedAt: Date } | null>();
    const page = await backend.system.data.users.list({ where: { role: "admin", emailVerified: true } });
    expectTypeOf(page.items[0]!.email).toEqualTypeOf<string>();
  });

  test("the users fields are checked in where clauses and writes", () => {
    // @ts-expect-error: no such field
    void backend.system.data.users.list({ where: { nickname: "x" } });
    // @ts-expect-error: role is text
    void backend.system.data.users.update("id", { role: 1 });
  });

  test("backend.db knows the users table", () => {
    expectTypeOf(backend.db.selectFrom("users").select(["email", "role"]).executeTakeFirst()).resolves.toEqualTypeOf<{ email: string; role: string } | undefined>();
  });

  test("a host-provided resolve adds no users collection", () => {
    const host = createBackend({ collections: { posts }, auth: { resolve: () => null } });
    expectTypeOf(host.system.data).not.toHaveProperty("users");
    expectTypeOf(host.system.data).toHaveProperty("posts");
  });

  test("without auth there is no users collection either", () => {
    const none = createBackend({ collections: { posts } });
    expectTypeOf(none.system.data).not.toHaveProperty("users");
  });
});

describe("a users collection of the host's", () => {
  const users = usersCollection({
    fields: {
      name: field.text(z.string().min(1)),
      role: field.enum(["admin", "member"]).default("member").readOnly(),
    },
  });
  const backend = createBackend({ collections: { users, posts }, auth: { password: {} } });

  test("keeps the base fields, adds the host's and narrows role", async () => {
    const user = await backend.system.data.users.get("id");
    expectTypeOf(user!.name).toEqualTypeOf<string>();
    expectTypeOf(user!.email).toEqualTypeOf<string>();
    expectTypeOf(user!.emailVerified).toEqualTypeOf<boolean>();
    expectTypeOf(user!.role).toEqualTypeOf<"admin" | "member">();
  });

  test("callers cannot write the read-only base fields", () => {
    const caller = backend.as({ id: "u1", role: "member" });
    void caller.data.users.update("u1", { name: "ok" });
    // @ts-expect-error: role is read-only for callers
    void caller.data.users.update("u1", { role: "admin" });
    // @ts-expect-error: emailVerified is read-only for callers
    void caller.data.users.update("u1", { emailVerified: true });
    // @ts-expect-error: email is read-only for callers
    void caller.data.users.update("u1", { email: "x@example.com" });
  });

  test("backend.auth.createUser takes and returns the users collection's fields", async () => {
    const created = await backend.auth.createUser({ email: "ada@example.com", password: "correct horse battery", name: "Ada" });
    expectTypeOf(created.id).toEqualTypeOf<string>();
    expectTypeOf(created.email).toEqualTypeOf<string>();
    expectTypeOf(created.name).toEqualTypeOf<string>();
    expectTypeOf(created.emailVerified).toEqualTypeOf<boolean>();
    expectTypeOf(created.role).toEqualTypeOf<"admin" | "member">();
    // The system sets role and emailVerified; a missing required field or a wrong type is an error.
    void backend.auth.createUser({ email: "grace@example.com", name: "Grace", role: "admin", emailVerified: true });
    // @ts-expect-error: name is required by the collection
    void backend.auth.createUser({ email: "lin@example.com" });
    // @ts-expect-error: role is the collection's enum
    void backend.auth.createUser({ email: "lin@example.com", name: "Lin", role: "root" });
  });

  test("backend.auth.createUser takes a password or an imported passwordHash, never both", async () => {
    const imported = await backend.auth.createUser({ email: "ada@example.com", name: "Ada", passwordHash: "$2b$10$..." });
    expectTypeOf(imported.email).toEqualTypeOf<string>();
    expectTypeOf<CreateUserInput>().toMatchTypeOf<{ passwordHash?: string }>();
    // @ts-expect-error: a password or its hash, not both
    void backend.auth.createUser({ email: "ada@example.com", name: "Ada", password: "correct horse battery", passwordHash: "$2b$10$..." });
    // @ts-expect-error: a hash is a string
    void backend.auth.createUser({ email: "ada@example.com", name: "Ada", passwordHash: 42 });
  });
});

describe("the rest of backend.auth", () => {
  const backend = createBackend({ collections: { posts }, auth: { password: {} } });

  test("sessions, tokens and API keys", () => {
    expectTypeOf(backend.auth.createSession("id")).resolves.toEqualTypeOf<{ token: string; session: SessionInfo }>();
    expectTypeOf(backend.auth.verifyToken("t")).resolves.toEqualTypeOf<Identity | null>();
    expectTypeOf(backend.auth.revokeSessions("id")).resolves.toEqualTypeOf<number>();
    expectTypeOf(backend.auth.apiKeys.create({ name: "ci", collections: ["posts"] })).resolves.toEqualTypeOf<{ key: string; apiKey: ApiKeyInfo }>();
    expectTypeOf(backend.auth.signIn("a@example.com", "pw")).resolves.toHaveProperty("token").toEqualTypeOf<string>();
  });
});

describe("backend.auth.session(request): the caller of a host's route", () => {
  const backend = createBackend({ collections: { posts }, auth: { password: {} } });
  type B = typeof backend;
  type CallerScope = ReturnType<B["as"]>;

  // What hosts hold in their routes: Express's req, Hono's c, Koa's ctx.req (a Node request).
  const express = {} as ExpressRequest;
  const hono = {} as HonoContext;
  const node = {} as IncomingMessage;

  test("takes what hosts hold: a Fetch Request, Express's req, Koa's ctx.req, Headers, a headers record", () => {
    expectTypeOf(backend.auth.session(hono.req.raw)).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf(backend.auth.session(express)).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf(backend.auth.session(node)).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf(backend.auth.session(node.headers)).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf(backend.auth.session(new Headers(), { method: "POST" })).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf(backend.auth.session({ authorization: "Bearer t", cookie: ["a=1", "b=2"] })).resolves.toEqualTypeOf<RequestCaller | null>();
    expectTypeOf<IncomingMessage>().toMatchTypeOf<SessionRequest>();
    // @ts-expect-error: Hono's c.req is not the request; c.req.raw is
    void backend.auth.session(hono.req);
    // @ts-expect-error: a header is a string or strings
    void backend.auth.session({ cookie: 1 });
    // @ts-expect-error: a token is not a request
    void backend.auth.session("Bearer t");
  });

  test("the caller: a principal, the session or the API key, and the cookie to send", () => {
    expectTypeOf<RequestCaller["user"]>().toEqualTypeOf<Principal>();
    expectTypeOf<RequestCaller["session"]>().toEqualTypeOf<SessionInfo | undefined>();
    expectTypeOf<RequestCaller["apiKey"]>().toEqualTypeOf<ApiKeyInfo | undefined>();
    expectTypeOf<RequestCaller["setCookie"]>().toEqualTypeOf<string | undefined>();
  });

  test("backend.as(caller) is the caller's scope, in one line", async () => {
    const scope = backend.as(await backend.auth.session(new Headers()));
    expectTypeOf(scope).toEqualTypeOf<CallerScope>();
    expectTypeOf(scope.user).toEqualTypeOf<Principal | null>();
    expectTypeOf(backend.as(await backend.auth.verifyToken("t"))).toEqualTypeOf<CallerScope>();
    expectTypeOf(backend.as({ id: "u1", role: "member" })).toEqualTypeOf<CallerScope>();
    // @ts-expect-error: a caller holds a principal
    void backend.as({ user: { id: "u1" } });
  });

  test("an action's auth has no session(): its caller is the action's user", () => {
    expectTypeOf<ActionAuth>().not.toHaveProperty("session");
  });
});

describe("options that turn things off", () => {
  test("rateLimit takes its limits or false, nothing else", () => {
    expectTypeOf<BuiltInAuthOptions["rateLimit"]>().toEqualTypeOf<RateLimitOptions | false | undefined>();
    createBackend({ collections: { posts }, auth: { password: {}, rateLimit: false } });
    // @ts-expect-error: only false turns the limits off
    createBackend({ collections: { posts }, auth: { password: {}, rateLimit: true } });
  });

  test("password.reset is a boolean", () => {
    expectTypeOf<PasswordOptions["reset"]>().toEqualTypeOf<boolean | undefined>();
    createBackend({ collections: { posts }, auth: { password: { reset: false } } });
  });
});
