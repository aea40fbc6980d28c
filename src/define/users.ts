/**
 * The built-in `users` collection: the accounts that sign in.
 * @module
 */
import { z } from "zod";
import { SchemaError } from "../errors/schema-error.js";
import { collection, type CollectionDefinition } from "./collection.js";
import { type Collection, type Fields } from "./types.js";
import type { CollectionAccess } from "./rules.js";
import type { CollectionHooks } from "./hooks.js";
import { Field, field } from "./field.js";

/** An e-mail address as stored: trimmed, lower-cased, at most 254 characters. */
export const emailSchema = z.string().trim().toLowerCase().pipe(z.email().max(254));

/**
 * Normalises an e-mail address the way the `users` collection stores it (trimmed,
 * lower-cased), or returns `null` when it is not an address.
 *
 * @example
 * ```ts
 * normalizeEmail(" Ada@Example.com "); // "ada@example.com"
 * normalizeEmail("not an address");    // null
 * const ada = await backend.system.data.users.list({ where: { email: normalizeEmail(input)! } });
 * ```
 */
export function normalizeEmail(email: unknown): string | null {
  const parsed = emailSchema.safeParse(email);
  return parsed.success ? parsed.data : null;
}

/**
 * The fields every `users` collection has. Refine one in `usersCollection({ fields })` by
 * deriving it from these (a field rule, `hidden()`), never by replacing it.
 *
 * @example
 * ```ts
 * // Other users may see names, not addresses: only admins read email.
 * const users = usersCollection({
 *   fields: {
 *     name: field.text(),
 *     email: userFields.email.access({ read: ({ user }) => user?.role === "admin" }),
 *   },
 *   access: { list: () => true, get: () => true },
 * });
 * ```
 */
export const userFields = {
  /** Unique, normalised (trimmed, lower-cased). Changed only by the system scope. */
  email: field.text(emailSchema).unique().readOnly(),
  /** The role rules see as `user.role`; only the system scope sets it. */
  role: field.text(z.string().min(1).max(64)).default("user").readOnly(),
  /** Whether the owner proved the address (verify-email or a password reset). */
  emailVerified: field.boolean().default(false).readOnly(),
};

/** The fields every `users` collection has: `email`, `role`, `emailVerified`. */
export type BaseUserFields = typeof userFields;

/** The fields of a `users` collection: the base fields, with the host's added or replacing `role`. */
export type UserFields<F extends Fields> = Omit<BaseUserFields, keyof F> & F;

/** The default `users` collection: the base fields; callers read and update their own record. */
export type DefaultUsers = Collection<"users", BaseUserFields, boolean, false>;

/**
 * Declares the `users` collection that authentication signs in: `email` (unique, normalised),
 * `role` (read-only, default `"user"`) and `emailVerified`, plus the host's own fields. Password
 * hashes and sessions live in tables of their own, never in this collection.
 *
 * Without `access`, a signed-in caller may get, list and update its own record (its own fields;
 * the three base fields are read-only) and nobody else's; accounts are created by sign-up.
 * A backend with built-in auth and no `users` collection gets `usersCollection()`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { field, usersCollection } from "cimiento";
 *
 * export const users = usersCollection({
 *   fields: {
 *     name: field.text(z.string().min(1).max(100)),
 *     role: field.enum(["admin", "member"]).default("member").readOnly(),
 *   },
 * });
 * createBackend({ collections: { users, posts }, auth: { password: {} } });
 * ```
 */
export function usersCollection<const F extends Fields = {}, const R extends boolean = false>(
  definition: Partial<CollectionDefinition<F, boolean, CollectionAccess<F>, CollectionHooks<F>, R>> = {},
): Collection<"users", UserFields<F>, boolean, R> {
  const extra = (definition.fields ?? {}) as Fields;
  for (const name of ["email", "emailVerified"] as const) {
    const value = extra[name];
    if (value === undefined) continue;
    const base = userFields[name].config;
    const derived =
      value instanceof Field && value.config.kind === base.kind && value.config.schema === base.schema && value.config.readOnly &&
      value.config.unique === base.unique && value.config.optional === base.optional;
    if (!derived) {
      throw new SchemaError(`usersCollection(): "${name}" is built in; refine it from userFields.${name} (e.g. with .access() or .hidden()), do not replace it.`);
    }
  }
  const role = extra["role"];
  if (role !== undefined && (!(role instanceof Field) || !role.config.readOnly || !["text", "enum"].includes(role.config.kind))) {
    throw new SchemaError('usersCollection(): "role" may be redefined only as a readOnly() text or enum field.');
  }
  const own = ({ user }: { user: { id: string } | null }) => (user === null ? false : { id: user.id });
  return collection("users", {
    ...definition,
    fields: { ...userFields, ...extra },
    access: definition.access ?? { get: own, list: own, update: own },
  } as CollectionDefinition<Fields>) as unknown as Collection<"users", UserFields<F>, boolean, R>;
}

/** Whether a collection was declared by {@link usersCollection}. */
export function isUsersCollection(value: Collection): boolean {
  const email = value.fields["email"];
  return value.name === "users" && email instanceof Field && email.config.unique === true && value.fields["emailVerified"] instanceof Field;
}
