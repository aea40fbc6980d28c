/**
 * @internal The notifier: tells the listeners of a topic, in this process and in the others on
 * the same database, that something changed there, so that they look at once instead of at their
 * next poll. Best effort: the database stays the truth, and listeners keep polling as the
 * fallback for what a notifier misses.
 *
 * - Published after the commit of what it announces, never inside a transaction: PostgreSQL
 *   serialises the commits of transactions that `NOTIFY` on one queue.
 * - In this process, listeners hear a publication at once.
 * - Other processes hear it through the database: PostgreSQL's `NOTIFY`, sent once per topic
 *   per burst (publications made while one is being sent are coalesced into the next, with the
 *   last payload: so a payload should be a value that grows, such as a sequence number) and
 *   heard by `LISTEN` on one connection per backend, which reconnects. SQLite has no messages:
 *   a listener hears `undefined` when `PRAGMA data_version` shows that another process wrote,
 *   checked every {@link DATA_VERSION_INTERVAL} ms while anyone listens.
 * - A listener that hears `undefined` has perhaps missed something (another process wrote on
 *   SQLite, or the listening connection was made again after a break): it should look.
 *
 * Jobs use the topic `jobs`; the realtime layer is meant to reuse the notifier with a topic of its
 * own, carrying the sequence number of its event log.
 * @module
 */
import { randomBytes } from "node:crypto";
import type { DialectRuntime } from "./dialect.js";
import type { Bus } from "./bus.js";
import type { Logger } from "../define/logger.js";

/** What a listener hears: the payload published, or `undefined` when it should look anyway. */
export type NotificationListener = (payload: string | undefined) => void;

/**
 * @internal Publishes and hears announcements on topics, in this process and across the
 * processes on one database. See the module's documentation for the guarantees (few: it is
 * a wake-up, not a message queue).
 */
export interface Notifier {
  /**
   * Announces `topic`, after the commit of what changed. Listeners in this process hear it at
   * once; those of other processes soon after, coalesced with other announcements of the topic.
   */
  publish(topic: string, payload?: string): void;
  /** Listens to `topic`; returns what stops listening. */
  subscribe(topic: string, listener: NotificationListener): () => void;
  /** Stops listening to the database. */
  close(): Promise<void>;
}

/** The topic of jobs: published when jobs are enqueued (or retried), heard by workers. */
export const JOBS_TOPIC = "jobs";

/** How often a SQLite notifier reads `PRAGMA data_version` while anyone listens, in ms. */
export const DATA_VERSION_INTERVAL = 25;

/** How long `close()` waits for the publications made before it to go out, in ms. */
const CLOSE_FLUSH_WAIT = 1000;

/** The first characters of a message: the sender, then the topic, then the payload. */
const SEPARATOR = "\u0001";

/**
 * @internal The notifier of a database; with a `bus`, announcements go through it too (a faster
 * wake-up than the database's own, where it has one).
 */
export function createNotifier(runtime: DialectRuntime, logger: Logger, bus?: Bus): Notifier {
  const instance = randomBytes(6).toString("base64url");
  const listeners = new Map<string, Set<NotificationListener>>();
  const messages = runtime.messages;
  let stopListening: (() => Promise<void>) | undefined;
  let stopBus: (() => Promise<void>) | undefined;
  let versionTimer: NodeJS.Timeout | undefined;
  let closed = false;
  // Publications waiting to be sent: the topic and its last payload.
  const pending = new Map<string, string | undefined>();
  // The sending of pending publications under way, if any.
  let flushing: Promise<void> | undefined;

  const hear = (topic: string, payload: string | undefined) => {
    for (const listener of listeners.get(topic) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        logger.error(`A listener of the notifier's topic "${topic}" failed.`, { error });
      }
    }
  };
  const hearAll = () => {
    for (const topic of listeners.keys()) hear(topic, undefined);
  };

  const sendAll = async (message: string) => {
    await Promise.all([
      messages?.send(message).catch((error: unknown) => {
        logger.warn?.("The notifier could not tell other processes; they find the change at their next poll.", { error });
      }),
      bus?.publish(message).catch((error: unknown) => {
        logger.warn?.("The notifier's bus could not tell other processes; they find the change through the database.", { error });
      }),
    ]);
  };
  const drain = async () => {
    while (pending.size > 0) {
      const batch = [...pending];
      pending.clear();
      for (const [topic, payload] of batch) await sendAll(`${instance}${SEPARATOR}${topic}${SEPARATOR}${payload ?? ""}`);
    }
  };
  /** Sends what is pending, until nothing is: the sending under way, or a new one. */
  const flush = (): Promise<void> => {
    // `finally` runs in a later microtask, after `flushing` is set.
    if (flushing === undefined && pending.size > 0) flushing = drain().finally(() => (flushing = undefined));
    return flushing ?? Promise.resolve();
  };

  const onMessage = (message: string) => {
    const [sender, topic, ...rest] = message.split(SEPARATOR);
    if (sender === instance || topic === undefined) return;
    const payload = rest.join(SEPARATOR);
    hear(topic, payload === "" ? undefined : payload);
  };

  const listen = () => {
    if (closed) return;
    if (bus !== undefined && stopBus === undefined) {
      try {
        stopBus = bus.subscribe(onMessage);
      } catch (error) {
        logger.warn?.("The notifier could not listen to its bus; it hears other processes through the database.", { error });
      }
    }
    if (messages !== undefined && stopListening === undefined) {
      stopListening = messages.listen({
        onMessage,
        onGap: hearAll,
        onError: (error) => logger.warn?.("The notifier's listening connection failed; it connects again.", { error }),
      });
    }
    const dataVersion = runtime.dataVersion;
    if (messages === undefined && dataVersion !== undefined && versionTimer === undefined) {
      let last: number | undefined;
      let reading = false;
      const read = () => {
        if (reading) return;
        reading = true;
        dataVersion()
          .then((version) => {
            if (last !== undefined && version !== last) hearAll();
            last = version;
          })
          .catch(() => {})
          .finally(() => (reading = false));
      };
      // The first reading now, before the listener reads anything itself: a write another
      // process commits after the listener's own reads changes the version from this one.
      read();
      versionTimer = setInterval(read, DATA_VERSION_INTERVAL);
      versionTimer.unref();
    }
  };

  const stop = async () => {
    clearInterval(versionTimer);
    versionTimer = undefined;
    const stopping = stopListening;
    const stoppingBus = stopBus;
    stopListening = stopBus = undefined;
    await Promise.all([stopping?.(), stoppingBus?.().catch((error: unknown) => logger.warn?.("The notifier's bus did not stop cleanly.", { error }))]);
  };

  return {
    publish(topic, payload) {
      if (topic.includes(SEPARATOR)) throw new TypeError("A notifier topic cannot hold U+0001.");
      hear(topic, payload);
      if ((messages === undefined && bus === undefined) || closed) return;
      pending.set(topic, payload);
      // Sent once the current task ends: what the same task publishes goes in one message.
      if (flushing === undefined) setImmediate(() => void flush());
    },
    subscribe(topic, listener) {
      let set = listeners.get(topic);
      if (set === undefined) listeners.set(topic, (set = new Set()));
      set.add(listener);
      listen();
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(topic);
        if (listeners.size === 0) void stop();
      };
    },
    async close() {
      closed = true;
      listeners.clear();
      // What was published before the close is still told (the database closes after this), if
      // it goes out soon: a send waiting for a connection that a stuck request holds would
      // otherwise hold the close up until the request ends.
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([flush(), new Promise<void>((resolve) => (waited = setTimeout(resolve, CLOSE_FLUSH_WAIT)))]);
      clearTimeout(waited);
      await stop();
    },
  };
}
