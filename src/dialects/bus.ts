/**
 * A message bus between the instances of a backend (Redis, say): a faster way to wake job
 * workers and realtime subscribers in other processes than the database's own. Best effort:
 * the database stays the truth, and instances still poll it for what a bus misses.
 * @module
 */

/**
 * What `createBackend({ bus })` takes: publish a message to every instance, and hear those of
 * the others. Messages are short strings (under 8 KB); an instance may hear its own, and
 * duplicates or losses only make a wake-up early or late.
 *
 * @example
 * ```ts
 * import type { Bus } from "cimiento";
 *
 * const heard = new Set<(message: string) => void>();
 * // One process's bus, for tests: what is published is heard at once.
 * const bus: Bus = {
 *   async publish(message) {
 *     for (const listener of heard) listener(message);
 *   },
 *   subscribe(onMessage) {
 *     heard.add(onMessage);
 *     return async () => void heard.delete(onMessage);
 *   },
 * };
 * ```
 */
export interface Bus {
  /** Sends `message` to every instance. */
  publish(message: string): Promise<void>;
  /** Hears the messages of every instance; returns what stops hearing them. */
  subscribe(onMessage: (message: string) => void): () => Promise<void>;
}

/** What `redisBus` needs of Redis clients: the methods of ioredis's `Redis` (and of clients like it). */
export interface RedisClients {
  /** A client that publishes. */
  readonly publisher: { publish(channel: string, message: string): Promise<unknown> };
  /** A client of its own, in subscriber mode once it subscribes. */
  readonly subscriber: {
    subscribe(channel: string): Promise<unknown>;
    unsubscribe(channel: string): Promise<unknown>;
    on(event: "message", listener: (channel: string, message: string) => void): unknown;
    off(event: "message", listener: (channel: string, message: string) => void): unknown;
  };
}

/**
 * A {@link Bus} over Redis publish/subscribe, from two clients (a subscribing connection cannot
 * publish). Backends that share a Redis but not a database need channels of their own.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * import { createBackend, redisBus } from "cimiento";
 * import { postgres } from "cimiento/postgres";
 *
 * const backend = createBackend({
 *   database: postgres({ connectionString: process.env.DATABASE_URL }),
 *   bus: redisBus({ publisher: new Redis(), subscriber: new Redis() }, { channel: "blog" }),
 * });
 * ```
 */
export function redisBus(clients: RedisClients, options: { channel?: string } = {}): Bus {
  const channel = options.channel ?? "cimiento";
  if (typeof channel !== "string" || channel === "") throw new TypeError("redisBus({ channel }) takes a non-empty string.");
  return {
    async publish(message) {
      await clients.publisher.publish(channel, message);
    },
    subscribe(onMessage) {
      const listener = (from: string, message: string) => {
        if (from === channel) onMessage(message);
      };
      clients.subscriber.on("message", listener);
      const subscribed = clients.subscriber.subscribe(channel);
      return async () => {
        clients.subscriber.off("message", listener);
        await subscribed.catch(() => {});
        await clients.subscriber.unsubscribe(channel);
      };
    },
  };
}
