/**
 * `cimiento/client`: the HTTP API of a backend, for front ends and other servers, typed from the
 * backend's type alone (`import type`, no code generation). It imports nothing from Node and
 * nothing from the server, and has no dependency.
 *
 * @example
 * ```ts
 * import { createClient, isApiError } from "cimiento/client";
 * import type { backend } from "../server/backend.js";
 *
 * const client = createClient<typeof backend>({ baseUrl: "/api" });
 * try {
 *   await client.auth.signIn({ email, password });
 * } catch (error) {
 *   if (isApiError(error, "INVALID_CREDENTIALS")) showWrongPassword();
 * }
 * for await (const post of client.collections.posts.all({ where: { published: true } })) console.log(post.title);
 * ```
 * @module
 */
export { createClient } from "./client/create-client.js";
export { ApiError, isApiError } from "./client/api-error.js";
export type { ClientErrorCode } from "./client/api-error.js";
export type {
  ActionRoute,
  ActionsClient,
  AllOptions,
  AuthClient,
  Client,
  ClientHeaders,
  ClientOptions,
  ClientRecord,
  ClientUser,
  CollectionClient,
  CollectionsClient,
  EmailSent,
  Jsonified,
  RealtimeCollectionClient,
  SignedIn,
} from "./client/types.js";
export type { FieldIssue } from "./errors/api-error.js";
export type { SubscribeOptions, SubscriptionEndReason, SubscriptionEvent } from "./define/types.js";
export type { Subscription } from "./define/scope.js";
