/**
 * @internal The `/auth/*` routes of the document (only those the options turn on) and the
 * security schemes of built-in auth: the session cookie, each `Authorization` scheme, API keys.
 * @module
 */
import type { Auth } from "../auth/auth.js";
import type {
  JsonSchema,
  OpenApiOperation,
  OpenApiPathItem,
  OpenApiRequestBody,
  OpenApiResponse,
  OpenApiSecurityRequirement,
  OpenApiSecurityScheme,
} from "./document.js";
import type { SchemaRegistry } from "./json-schema.js";
import { errorResponses, json, schemaRef } from "./shared.js";

/** The security schemes of built-in auth, and which of them carry a session. */
export interface AuthSecurity {
  readonly schemes: Record<string, OpenApiSecurityScheme>;
  /** The requirements of a route that needs a session (an API key will not do). */
  readonly session: OpenApiSecurityRequirement[];
  /** The requirements of every other route: anonymous, or any credential. */
  readonly any: OpenApiSecurityRequirement[];
}

/** The security schemes of the options. */
export function authSecurity(auth: Auth): AuthSecurity {
  const schemes: Record<string, OpenApiSecurityScheme> = {};
  const session: OpenApiSecurityRequirement[] = [];
  const cookie = auth.settings.cookie;
  if (cookie !== null) {
    schemes["sessionCookie"] = {
      type: "apiKey",
      in: "cookie",
      name: cookie.name,
      description: "The session cookie that sign-in sets (HttpOnly). Writes from another origin with it are refused unless the origin is trusted.",
    };
    session.push({ sessionCookie: [] });
  }
  const headerSchemes = [...auth.settings.schemes].sort();
  for (const scheme of headerSchemes) {
    const key = scheme === "bearer" ? "bearer" : `authorization.${scheme}`;
    schemes[key] =
      scheme === "bearer"
        ? { type: "http", scheme: "bearer", description: "A session token (`token` of sign-in): `Authorization: Bearer <token>`." }
        : { type: "apiKey", in: "header", name: "Authorization", description: `A session token or API key as \`Authorization: ${scheme} <token>\` (the scheme is case-insensitive).` };
    session.push({ [key]: [] });
  }
  const first = headerSchemes[0];
  if (first !== undefined) {
    schemes["apiKey"] =
      first === "bearer"
        ? { type: "http", scheme: "bearer", bearerFormat: "ck_…", description: "An API key (`ck_…`), sent like a session token: `Authorization: Bearer ck_…`. It cannot use the session routes of /auth." }
        : { type: "apiKey", in: "header", name: "Authorization", description: `An API key (\`ck_…\`) as \`Authorization: ${first} ck_…\`.` };
  }
  const any = [{}, ...session, ...(first === undefined ? [] : [{ apiKey: [] }])];
  return { schemes, session, any };
}

const SESSION: JsonSchema = {
  type: "object",
  required: ["id", "userId", "createdAt", "expiresAt"],
  properties: {
    id: { type: "string" },
    userId: { type: "string" },
    createdAt: { type: "string", format: "date-time" },
    expiresAt: { type: "string", format: "date-time" },
  },
};

const NAMES: JsonSchema = { type: ["array", "null"], items: { type: "string" } };

const API_KEY: JsonSchema = {
  type: "object",
  required: ["id", "name", "start", "userId", "role", "collections", "actions", "createdAt", "expiresAt", "lastUsedAt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    start: { type: "string", description: "The key's first characters, to tell keys apart." },
    userId: { type: ["string", "null"] },
    role: { type: ["string", "null"] },
    collections: { ...NAMES, description: "The collections it may use; `null`: every one." },
    actions: { ...NAMES, description: "The actions it may call; `null`: every one." },
    createdAt: { type: "string", format: "date-time" },
    expiresAt: { type: ["string", "null"], format: "date-time" },
    lastUsedAt: { type: ["string", "null"], format: "date-time" },
  },
};

const EMAIL_SENT: JsonSchema = {
  type: "object",
  required: ["status", "message"],
  properties: { status: { const: "email-sent" }, message: { type: "string" } },
};

const EMAIL: JsonSchema = { type: "string", format: "email" };
const TOKEN: JsonSchema = { type: "string", description: "The one-use token of the mailed link." };

function body(schema: JsonSchema): OpenApiRequestBody {
  return { required: true, content: { "application/json": { schema } } };
}

function object(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: "object", properties, required };
}

/** The auth routes the options turn on, with their schemas. */
export function authPaths(auth: Auth, security: AuthSecurity, registry: SchemaRegistry): Record<string, OpenApiPathItem> {
  const { settings, parts } = auth;
  const password: JsonSchema = { type: "string", minLength: parts.credentials.minLength, maxLength: parts.credentials.maxLength };
  registry.set("auth.Session", SESSION);
  registry.set("auth.SignedIn", {
    type: "object",
    required: ["user", "token", "session"],
    properties: {
      user: { $ref: schemaRef("users") },
      token: { type: "string", description: "The session token, for `Authorization: Bearer`; the cookie is set too." },
      session: { $ref: schemaRef("auth.Session") },
    },
  });
  registry.set("auth.ApiKey", API_KEY);
  registry.set("auth.EmailSent", EMAIL_SENT);
  const signedIn = (status: string): Record<string, OpenApiResponse> => ({
    [status]: { description: "Signed in: the user, the session token, and the session cookie.", content: json(schemaRef("auth.SignedIn")) },
  });
  const emailSent: Record<string, OpenApiResponse> = {
    "202": { description: "The same answer for every address: a message is on its way if it applies.", content: json(schemaRef("auth.EmailSent")) },
  };
  const noContent: Record<string, OpenApiResponse> = { "204": { description: "Done." } };
  const operation = (id: string, summary: string, caller: "session" | "none" | "any", rest: Omit<OpenApiOperation, "operationId" | "summary" | "tags" | "security">): OpenApiOperation => ({
    operationId: `auth.${id}`,
    summary,
    tags: ["auth"],
    security: caller === "session" ? security.session : caller === "any" ? security.any : [],
    ...rest,
    responses: { ...rest.responses, ...errorResponses() },
  });

  const paths: Record<string, OpenApiPathItem> = {};
  if (settings.signUp) {
    const profile = registry.get("users.create")?.properties ?? {};
    const properties: Record<string, JsonSchema> = { ...profile, email: EMAIL };
    if (!settings.requireEmailVerification) properties["password"] = password;
    paths["/auth/sign-up"] = {
      post: operation("signUp", "Sign up", "none", {
        description: settings.requireEmailVerification
          ? "Takes the address and the profile fields, and mails a link whose follower chooses the password (`/auth/verify-email`); answers alike for taken and free addresses."
          : "Creates the account and signs in; 409 `EMAIL_TAKEN` for a taken address.",
        requestBody: body({ type: "object", properties, required: Object.keys(properties).filter((name) => name === "email" || name === "password" || (registry.get("users.create")?.required ?? []).includes(name)) }),
        responses: settings.requireEmailVerification ? emailSent : signedIn("201"),
      }),
    };
  }
  paths["/auth/sign-in"] = {
    post: operation("signIn", "Sign in", "none", {
      requestBody: body(object({ email: EMAIL, password: { type: "string" } }, ["email", "password"])),
      responses: signedIn("200"),
    }),
  };
  paths["/auth/verify-email"] = {
    post: operation("verifyEmail", "Follow a verification link", "none", {
      description: "A pending sign-up's token creates the account with `password`; an existing account's token marks its address verified. Signs in.",
      requestBody: body(object({ token: TOKEN, password }, ["token"])),
      responses: signedIn("200"),
    }),
  };
  if (settings.passwordReset) {
    paths["/auth/request-password-reset"] = {
      post: operation("requestPasswordReset", "Ask for a password reset link", "none", {
        requestBody: body(object({ email: EMAIL }, ["email"])),
        responses: emailSent,
      }),
    };
    paths["/auth/reset-password"] = {
      post: operation("resetPassword", "Set a new password with a reset link's token", "none", {
        requestBody: body(object({ token: TOKEN, password }, ["token", "password"])),
        responses: noContent,
      }),
    };
  }
  paths["/auth/sign-out"] = {
    post: operation("signOut", "Sign out", "any", { responses: noContent }),
  };
  paths["/auth/session"] = {
    get: operation("session", "The caller's session", "session", {
      responses: {
        "200": {
          description: "The user and the session.",
          content: {
            "application/json": {
              schema: object({ user: { $ref: schemaRef("users") }, session: { $ref: schemaRef("auth.Session") } }, ["user", "session"]),
            },
          },
        },
      },
    }),
  };
  paths["/auth/revoke-all"] = {
    post: operation("revokeAll", "End every session of the caller", "session", {
      responses: { "200": { description: "How many sessions ended.", content: { "application/json": { schema: object({ revoked: { type: "integer", minimum: 0 } }, ["revoked"]) } } } },
    }),
  };
  paths["/auth/change-password"] = {
    post: operation("changePassword", "Change the caller's password", "session", {
      description: "Ends the caller's other sessions.",
      requestBody: body(object({ currentPassword: { type: "string" }, newPassword: password }, ["currentPassword", "newPassword"])),
      responses: noContent,
    }),
  };
  paths["/auth/api-keys"] = {
    get: operation("listApiKeys", "The caller's API keys", "session", {
      responses: {
        "200": { description: "The keys (never the keys themselves).", content: { "application/json": { schema: object({ items: { type: "array", items: { $ref: schemaRef("auth.ApiKey") } } }, ["items"]) } } },
      },
    }),
    post: operation("createApiKey", "Make an API key", "session", {
      requestBody: body({
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: {
          name: { type: "string", minLength: 1 },
          collections: { type: "array", items: { type: "string" }, description: "The collections it may use; absent: every one." },
          actions: { type: "array", items: { type: "string" }, description: "The actions it may call; absent: every one." },
          expiresIn: { type: ["string", "integer"], description: 'Its lifetime: milliseconds, or like "90d" (at most 100 years); absent: no expiry.' },
        },
      }),
      responses: {
        "201": {
          description: "The key, shown this once, and its record.",
          content: { "application/json": { schema: object({ key: { type: "string" }, apiKey: { $ref: schemaRef("auth.ApiKey") } }, ["key", "apiKey"]) } },
        },
      },
    }),
  };
  paths["/auth/api-keys/{id}"] = {
    delete: operation("revokeApiKey", "Revoke one of the caller's API keys", "session", {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: noContent,
    }),
  };
  return paths;
}
