/**
 * Rate limits on credentials, behind a store interface.
 * @module
 */
import { sql, type Kysely } from "kysely";
import type { AuthDB } from "./store.js";

/** What a store answers for one hit: the hits in the current window, and when it ends. */
export interface RateLimitHit {
  /** Hits in the window, this one included. */
  readonly count: number;
  /** When the window ends, in epoch milliseconds. */
  readonly resetAt: number;
}

/**
 * Where rate-limit counters live. The default store keeps them in the backend's database, so
 * limits hold across every app instance sharing it; implement this to keep them in Redis.
 *
 * `hit` must be atomic: it is how a try is taken before a password is checked, so that
 * concurrent requests (on any number of instances) each see their own count, and no more than
 * the limit get through.
 *
 * @example
 * ```ts
 * const redisStore: RateLimitStore = {
 *   async hit(key, windowMs) {
 *     const count = await redis.incr(key);
 *     if (count === 1) await redis.pexpire(key, windowMs);
 *     return { count, resetAt: Date.now() + (await redis.pttl(key)) };
 *   },
 *   async reset(key) { await redis.del(key); },
 * };
 * ```
 */
export interface RateLimitStore {
  /**
   * Counts one hit for `key` in a fixed window of `windowMs` that starts at its first hit, and
   * returns the count with this hit: atomically, whoever else hits the key at the same time.
   */
  hit(key: string, windowMs: number, now: number): Promise<RateLimitHit>;
  /**
   * The current window of `key` without counting a hit; `null` when none is open.
   * @deprecated Not called: the limits take a try with `hit` before checking a password (a look
   * first let concurrent guesses past the limit). Stores that have it keep working.
   */
  peek?(key: string, now: number): Promise<RateLimitHit | null>;
  /** Forgets `key` (a right password clears the account's window). */
  reset(key: string): Promise<void>;
}

/**
 * @internal The default store: one row per key in `cimiento_rate_limits`, counted by a single
 * atomic upsert, so concurrent hits on any number of instances are all counted.
 */
export function databaseRateLimitStore(
  table: Kysely<Pick<AuthDB, "cimiento_rate_limits">>,
  newId: () => string,
  stamp: () => string | Date,
): RateLimitStore {
  return {
    async hit(key, windowMs, now) {
      const at = stamp();
      const row = await table
        .insertInto("cimiento_rate_limits")
        .values({ id: newId(), key, count: 1, resetAt: now + windowMs, createdAt: at, updatedAt: at })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({
            count: sql<number>`case when cimiento_rate_limits."resetAt" <= ${now} then 1 else cimiento_rate_limits."count" + 1 end`,
            resetAt: sql<number>`case when cimiento_rate_limits."resetAt" <= ${now} then ${now + windowMs} else cimiento_rate_limits."resetAt" end`,
            updatedAt: at,
          }),
        )
        .returning(["count", "resetAt"])
        .executeTakeFirstOrThrow();
      if (Math.random() < 0.01) {
        // Now and then, drop the windows that ended long ago.
        await table.deleteFrom("cimiento_rate_limits").where("resetAt", "<", now - 86_400_000).execute();
      }
      return { count: Number(row.count), resetAt: Number(row.resetAt) };
    },
    async reset(key) {
      await table.deleteFrom("cimiento_rate_limits").where("key", "=", key).execute();
    },
  };
}

/**
 * A store in this process's memory: for a single instance, or tests. Limits do not hold across
 * instances with it.
 *
 * @example
 * ```ts
 * createBackend({ collections, auth: { password: {}, rateLimit: { store: memoryRateLimitStore() } } });
 * ```
 */
export function memoryRateLimitStore(): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return {
    async hit(key, windowMs, now) {
      const current = windows.get(key);
      const next = current === undefined || current.resetAt <= now ? { count: 1, resetAt: now + windowMs } : { count: current.count + 1, resetAt: current.resetAt };
      windows.set(key, next);
      if (windows.size > 100_000) for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
      return next;
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}
