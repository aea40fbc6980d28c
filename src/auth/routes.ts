/**
 * @internal The `/auth/*` routes, each declared with what it needs before its handler runs: the
 * same origin, a session, a count toward the per-address limit, its zod body.
 * @module
 */
import type { Context, Env, Hono } from "hono";
import type { z } from "zod";
import type { Principal } from "../define/principal.js";
import { apiError } from "../errors/api-error.js";
import { withIsoDates } from "../support/iso-json.js";
import { apiKeyBody } from "./api-keys.js";
import type { Auth } from "./auth.js";
import { checkBody } from "./body.js";
import type { AuthHttp, Caller } from "./caller.js";
import { isCrossOrigin } from "./client.js";
import { verifyEmail } from "./email-verification.js";
import type { SignedIn } from "./parts.js";
import { changePassword, changePasswordBody } from "./password-change.js";
import { requestPasswordReset, resetPassword, resetPasswordBody, resetRequestBody } from "./password-reset.js";
import type { SessionInfo } from "./sessions.js";
import { signIn } from "./sign-in.js";
import { signUp } from "./sign-up.js";

/** What the routes need from the HTTP app. */
export interface AuthRouteHelpers<E extends Env> {
  /** Who calls (decided once per request). */
  caller(c: Context<E>): Promise<Caller>;
  /** The request's body as a JSON object (413/415/400 otherwise). */
  objectBody(c: Context<E>): Promise<Record<string, unknown>>;
  /** The user record as the user itself may read it. */
  ownRecord(user: Principal): Promise<Record<string, unknown>>;
  /** Sets the answer's `Cache-Control`, which no later step of the request changes. */
  cacheControl(c: Context<E>, value: string): void;
}

/** The session a route runs in: its user, the session, and the token that carried it. */
interface CallerSession {
  readonly user: Principal;
  readonly session: SessionInfo;
  readonly token: string;
}

/** One route: how it is reached, what is checked before its handler runs, and the handler. */
interface AuthRoute<E extends Env, B, S extends boolean> {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  /** Refuses a request from another origin that carries cookies (login CSRF included): 403. */
  readonly sameOrigin?: true;
  /** Needs a session: 401 without a credential, 403 for an API key. */
  readonly session?: S;
  /** Counts toward the per-address limit of credential requests (429), before the body is checked. */
  readonly counted?: true;
  /** The JSON body (415/400 when it is no object), checked by its schema (422 under `heading`). */
  readonly body?: { readonly schema: z.ZodType<B>; readonly heading: string };
  readonly handler: (c: Context<E>, input: { body: B; session: S extends true ? CallerSession : undefined }) => Promise<Response>;
}

/**
 * Installs the `/auth/*` routes of built-in auth on `app`. Each throws its errors, for the app's
 * one error handler.
 */
export function installAuthRoutes<E extends Env>(app: Hono<E>, http: AuthHttp, helpers: AuthRouteHelpers<E>): void {
  const { auth, cookie } = http;
  const { parts, bodies } = auth;

  const sessionOf = async (c: Context<E>): Promise<CallerSession> => {
    const current = await helpers.caller(c);
    if (current.identity?.session === undefined) {
      throw current.identity?.apiKey !== undefined
        ? apiError("FORBIDDEN", "This route needs a session; an API key cannot use it.")
        : apiError("UNAUTHORIZED", "Sign in first.");
    }
    return { user: current.identity.user, session: current.identity.session, token: current.token! };
  };

  /** Installs a route: its checks in their order, then its handler. */
  const route = <B = undefined, S extends boolean = false>(declared: AuthRoute<E, B, S>): void => {
    app.on(declared.method, declared.path, async (c) => {
      if (declared.sameOrigin && isCrossOrigin(c.req.raw, auth.settings.trustedOrigins) && c.req.header("cookie") !== undefined) {
        throw apiError("CROSS_ORIGIN_REQUEST", "This request must come from this site (or a trusted origin).");
      }
      const session = declared.session ? await sessionOf(c) : undefined;
      const json = declared.body === undefined ? undefined : await helpers.objectBody(c);
      if (declared.counted) await parts.limits.countAddress(http.client(c).address);
      const body = declared.body === undefined ? (undefined as B) : checkBody(declared.body.schema, declared.body.heading, json);
      return declared.handler(c, { body, session: session as S extends true ? CallerSession : undefined });
    });
  };

  /** A flow turned off: its route answers 404, after the same cross-site check as when it is on. */
  const closed = (path: string, message: string): void =>
    route({
      method: "POST",
      path,
      sameOrigin: true,
      handler: async () => {
        throw apiError("ROUTE_NOT_FOUND", message);
      },
    });

  const signedIn = async (c: Context<E>, result: SignedIn, status: 200 | 201) => {
    cookie.set(c, result.token, result.session.expiresAt);
    return c.json(withIsoDates({ user: await helpers.ownRecord(result.user), token: result.token, session: result.session }) as object, status);
  };

  // Tokens, keys and the caller's account: never stored by a browser or shared cache. Set
  // before the route runs, so that the answer is made with it (a header set on an answer made
  // already would copy the answer).
  app.use("/auth/*", async (c, next) => {
    helpers.cacheControl(c, "no-store");
    await next();
  });

  if (auth.settings.signUp) {
    route({
      method: "POST",
      path: "/auth/sign-up",
      sameOrigin: true,
      counted: true,
      body: { schema: bodies.signUp, heading: "Invalid sign-up" },
      handler: async (c, { body }) => {
        const result = await signUp(parts, body, http.client(c));
        if (result === null) return c.json({ status: "email-sent", message: "Check your e-mail to finish signing up." }, 202);
        return signedIn(c, result, 201);
      },
    });
  } else {
    closed("/auth/sign-up", "Sign-up is closed.");
  }
  route({
    method: "POST",
    path: "/auth/sign-in",
    sameOrigin: true,
    counted: true,
    body: { schema: bodies.signIn, heading: "Invalid sign-in" },
    handler: async (c, { body }) => signedIn(c, await signIn(parts, body, http.client(c)), 200),
  });
  route({
    method: "POST",
    path: "/auth/verify-email",
    sameOrigin: true,
    counted: true,
    body: { schema: bodies.verifyEmail, heading: "Invalid verification" },
    handler: async (c, { body }) => signedIn(c, await verifyEmail(parts, body, http.client(c)), 200),
  });
  if (auth.settings.passwordReset) {
    route({
      method: "POST",
      path: "/auth/request-password-reset",
      sameOrigin: true,
      counted: true,
      body: { schema: resetRequestBody, heading: "Invalid password reset" },
      handler: async (c, { body }) => {
        await requestPasswordReset(parts, body);
        return c.json({ status: "email-sent", message: "If this address has an account, a message is on its way to it." }, 202);
      },
    });
    route({
      method: "POST",
      path: "/auth/reset-password",
      sameOrigin: true,
      counted: true,
      body: { schema: resetPasswordBody(parts), heading: "Invalid password reset" },
      handler: async (c, { body }) => {
        await resetPassword(parts, body);
        return c.body(null, 204);
      },
    });
  } else {
    for (const path of ["/auth/request-password-reset", "/auth/reset-password"]) closed(path, "Password reset is turned off.");
  }
  route({
    method: "POST",
    path: "/auth/sign-out",
    handler: async (c) => {
      const current = await helpers.caller(c);
      if (current.identity?.session !== undefined) await parts.sessions.revoke(current.token!);
      cookie.clear(c);
      return c.body(null, 204);
    },
  });
  route({
    method: "GET",
    path: "/auth/session",
    session: true,
    handler: async (c, { session: { user, session } }) => c.json(withIsoDates({ user: await helpers.ownRecord(user), session }) as object),
  });
  route({
    method: "POST",
    path: "/auth/revoke-all",
    session: true,
    handler: async (c, { session: { user } }) => {
      const revoked = await parts.sessions.revokeAll(user.id);
      cookie.clear(c);
      return c.json({ revoked });
    },
  });
  route({
    method: "POST",
    path: "/auth/change-password",
    session: true,
    counted: true,
    body: { schema: changePasswordBody(parts), heading: "Invalid password change" },
    handler: async (c, { body, session: { user, session } }) => {
      await changePassword(parts, user, session.id, body);
      return c.body(null, 204);
    },
  });
  route({
    method: "GET",
    path: "/auth/api-keys",
    session: true,
    handler: async (c, { session: { user } }) => c.json({ items: await parts.apiKeys.list(user.id, parts.apiKeys.maxPerUser) }),
  });
  route({
    method: "POST",
    path: "/auth/api-keys",
    session: true,
    body: { schema: apiKeyBody, heading: "Invalid API key" },
    handler: async (c, { body, session: { user } }) => c.json(await parts.apiKeys.make(body, { userId: user.id }), 201),
  });
  route({
    method: "DELETE",
    path: "/auth/api-keys/:id",
    session: true,
    handler: async (c, { session: { user } }) => {
      const id = c.req.param("id")!;
      // Another user's key answers as a missing one does.
      if (!(await parts.apiKeys.revokeOwn(id, user.id))) throw apiError("NOT_FOUND", `No API key with id "${id}".`);
      return c.body(null, 204);
    },
  });
}
