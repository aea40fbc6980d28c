/**
 * @internal The `/auth/*` routes, each declared with what it needs before its handler runs: the
 * same origin, a session, a count toward the per-address limit, its zod body.
 * @module
 */
import type { z } from "zod";
import type { Principal } from "../define/principal.js";
import { apiError } from "../errors/api-error.js";
import { withIsoDates } from "../support/iso-json.js";
import { apiKeyBody } from "../auth/api-keys.js";
import type { Auth } from "../auth/auth.js";
import { checkBody } from "../auth/body.js";
import type { AuthHttp, Caller } from "../auth/caller.js";
import { isCrossOrigin } from "../auth/client.js";
import { verifyEmail } from "../auth/email-verification.js";
import type { SignedIn } from "../auth/parts.js";
import { changePassword, changePasswordBody } from "../auth/password-change.js";
import { requestPasswordReset, resetPassword, resetPasswordBody, resetRequestBody } from "../auth/password-reset.js";
import type { SessionInfo } from "../auth/sessions.js";
import { signIn } from "../auth/sign-in.js";
import { signUp } from "../auth/sign-up.js";
import type { HttpCore } from "./core.js";
import { emptyAnswer, jsonAnswer, type Answer, type Exchange } from "./exchange.js";

/** What the routes need from the HTTP app. */
export interface AuthRouteHelpers {
  /** Who calls (decided once per request). */
  caller(x: Exchange): Promise<Caller>;
  /** The request's body as a JSON object (413/415/400 otherwise). */
  objectBody(x: Exchange): Promise<Record<string, unknown>>;
  /** The user record as the user itself may read it. */
  ownRecord(user: Principal): Promise<Record<string, unknown>>;
}

/** The session a route runs in: its user, the session, and the token that carried it. */
interface CallerSession {
  readonly user: Principal;
  readonly session: SessionInfo;
  readonly token: string;
}

/** One route: how it is reached, what is checked before its handler runs, and the handler. */
interface AuthRoute<B, S extends boolean> {
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
  readonly handler: (x: Exchange, input: { body: B; session: S extends true ? CallerSession : undefined }) => Promise<Answer>;
}

/**
 * Installs the `/auth/*` routes of built-in auth in the HTTP core. Each throws its errors, for the
 * core's one answer to errors.
 */
export function installAuthRoutes(core: HttpCore, http: AuthHttp, helpers: AuthRouteHelpers): void {
  const { auth, cookie } = http;
  const { parts, bodies } = auth;

  const sessionOf = async (x: Exchange): Promise<CallerSession> => {
    const current = await helpers.caller(x);
    if (current.identity?.session === undefined) {
      throw current.identity?.apiKey !== undefined
        ? apiError("FORBIDDEN", "This route needs a session; an API key cannot use it.")
        : apiError("UNAUTHORIZED", "Sign in first.");
    }
    return { user: current.identity.user, session: current.identity.session, token: current.token! };
  };

  /** Installs a route: its checks in their order, then its handler. */
  const route = <B = undefined, S extends boolean = false>(declared: AuthRoute<B, S>): void => {
    core.on(declared.method, declared.path, async (x) => {
      // Tokens, keys and the caller's account: never stored by a browser or shared cache.
      x.setCacheControl("no-store");
      if (declared.sameOrigin && isCrossOrigin(x.arrival, auth.settings.trustedOrigins) && x.header("cookie") !== undefined) {
        throw apiError("CROSS_ORIGIN_REQUEST", "This request must come from this site (or a trusted origin).");
      }
      const session = declared.session ? await sessionOf(x) : undefined;
      const json = declared.body === undefined ? undefined : await helpers.objectBody(x);
      if (declared.counted) await parts.limits.countAddress(http.client(x).address);
      const body = declared.body === undefined ? (undefined as B) : checkBody(declared.body.schema, declared.body.heading, json);
      return declared.handler(x, { body, session: session as S extends true ? CallerSession : undefined });
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

  const signedIn = async (x: Exchange, result: SignedIn, status: 200 | 201) => {
    cookie.set(x, result.token, result.session.expiresAt);
    return jsonAnswer(withIsoDates({ user: await helpers.ownRecord(result.user), token: result.token, session: result.session }), status);
  };

  if (auth.settings.signUp) {
    route({
      method: "POST",
      path: "/auth/sign-up",
      sameOrigin: true,
      counted: true,
      body: { schema: bodies.signUp, heading: "Invalid sign-up" },
      handler: async (x, { body }) => {
        const result = await signUp(parts, body, http.client(x));
        if (result === null) return jsonAnswer({ status: "email-sent", message: "Check your e-mail to finish signing up." }, 202);
        return signedIn(x, result, 201);
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
    handler: async (x, { body }) => signedIn(x, await signIn(parts, body, http.client(x)), 200),
  });
  route({
    method: "POST",
    path: "/auth/verify-email",
    sameOrigin: true,
    counted: true,
    body: { schema: bodies.verifyEmail, heading: "Invalid verification" },
    handler: async (x, { body }) => signedIn(x, await verifyEmail(parts, body, http.client(x)), 200),
  });
  if (auth.settings.passwordReset) {
    route({
      method: "POST",
      path: "/auth/request-password-reset",
      sameOrigin: true,
      counted: true,
      body: { schema: resetRequestBody, heading: "Invalid password reset" },
      handler: async (x, { body }) => {
        await requestPasswordReset(parts, body);
        return jsonAnswer({ status: "email-sent", message: "If this address has an account, a message is on its way to it." }, 202);
      },
    });
    route({
      method: "POST",
      path: "/auth/reset-password",
      sameOrigin: true,
      counted: true,
      body: { schema: resetPasswordBody(parts), heading: "Invalid password reset" },
      handler: async (x, { body }) => {
        await resetPassword(parts, body);
        return emptyAnswer();
      },
    });
  } else {
    for (const path of ["/auth/request-password-reset", "/auth/reset-password"]) closed(path, "Password reset is turned off.");
  }
  route({
    method: "POST",
    path: "/auth/sign-out",
    handler: async (x) => {
      const current = await helpers.caller(x);
      if (current.identity?.session !== undefined) await parts.sessions.revoke(current.token!);
      cookie.clear(x);
      return emptyAnswer();
    },
  });
  route({
    method: "GET",
    path: "/auth/session",
    session: true,
    handler: async (x, { session: { user, session } }) => jsonAnswer(withIsoDates({ user: await helpers.ownRecord(user), session })),
  });
  route({
    method: "POST",
    path: "/auth/revoke-all",
    session: true,
    handler: async (x, { session: { user } }) => {
      const revoked = await parts.sessions.revokeAll(user.id);
      cookie.clear(x);
      return jsonAnswer({ revoked });
    },
  });
  route({
    method: "POST",
    path: "/auth/change-password",
    session: true,
    counted: true,
    body: { schema: changePasswordBody(parts), heading: "Invalid password change" },
    handler: async (x, { body, session: { user, session } }) => {
      await changePassword(parts, user, session.id, body);
      return emptyAnswer();
    },
  });
  route({
    method: "GET",
    path: "/auth/api-keys",
    session: true,
    handler: async (x, { session: { user } }) => jsonAnswer({ items: await parts.apiKeys.list(user.id, parts.apiKeys.maxPerUser) }),
  });
  route({
    method: "POST",
    path: "/auth/api-keys",
    session: true,
    body: { schema: apiKeyBody, heading: "Invalid API key" },
    handler: async (x, { body, session: { user } }) => jsonAnswer(await parts.apiKeys.make(body, { userId: user.id }), 201),
  });
  route({
    method: "DELETE",
    path: "/auth/api-keys/:id",
    session: true,
    handler: async (x, { session: { user } }) => {
      const id = x.param("id");
      // Another user's key answers as a missing one does.
      if (!(await parts.apiKeys.revokeOwn(id, user.id))) throw apiError("NOT_FOUND", `No API key with id "${id}".`);
      return emptyAnswer();
    },
  });
}
