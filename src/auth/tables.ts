/**
 * @internal The tables of authentication. Secrets are stored only as hashes; times are epoch
 * milliseconds, so that they compare alike on every database.
 * @module
 */
import { systemCollection } from "../define/collection.js";
import { field } from "../define/field.js";

const cascade = { onDelete: "cascade" } as const;

/** The password hash of each user. */
export const credentials = systemCollection("cimiento_credentials", {
  fields: {
    user: field.belongsTo("users", cascade).unique(),
    passwordHash: field.text(),
  },
});

/** Sessions: the hash of the token, its owner, and when it expires (sliding). */
export const sessions = systemCollection("cimiento_sessions", {
  fields: {
    tokenHash: field.text().unique(),
    user: field.belongsTo("users", cascade),
    expiresAt: field.integer(),
    refreshedAt: field.integer(),
    userAgent: field.text().optional(),
    address: field.text().optional(),
  },
});

/** One-use tokens sent by e-mail (password reset, e-mail verification). */
export const oneTimeTokens = systemCollection("cimiento_tokens", {
  fields: {
    tokenHash: field.text().unique(),
    /** The account it is for; null for a pending sign-up (the account does not exist yet). */
    user: field.belongsTo("users", cascade).optional(),
    /** A pending sign-up's address, and what to create when it is verified (JSON). */
    email: field.text().optional().index(),
    payload: field.text().optional(),
    purpose: field.enum(["reset-password", "verify-email"]),
    expiresAt: field.integer(),
  },
});

/** API keys: for a user, or for the system when `user` is null. */
export const apiKeys = systemCollection("cimiento_api_keys", {
  fields: {
    keyHash: field.text().unique(),
    name: field.text(),
    start: field.text(),
    user: field.belongsTo("users", cascade).optional(),
    /** A system key's role. */
    role: field.text().optional(),
    /** JSON arrays of names, as text; null: every collection / action. */
    collections: field.text().optional(),
    actions: field.text().optional(),
    expiresAt: field.integer().optional(),
    lastUsedAt: field.integer().optional(),
  },
});

/** Fixed-window counters of the database rate-limit store. */
export const rateLimits = systemCollection("cimiento_rate_limits", {
  fields: {
    key: field.text().unique(),
    count: field.integer(),
    resetAt: field.integer().index(),
  },
});

/** Every table of authentication, by name. */
export const authTables = {
  cimiento_credentials: credentials,
  cimiento_sessions: sessions,
  cimiento_tokens: oneTimeTokens,
  cimiento_api_keys: apiKeys,
  cimiento_rate_limits: rateLimits,
};
