/**
 * @internal Realtime: subscriptions to the changes of realtime collections, fed by the event log.
 *
 * Writes append their changes to the log in their transaction (`logChanges`) and, once committed,
 * announce the last number on the notifier's topic `realtime`. Each process reads the log once per
 * announcement (and every `pollInterval` while it has subscribers, in case one was missed), in
 * order, and gives each of its subscribers the events it may hear: each version of a record,
 * before and after a write, read through the subscriber's rule, `where`, `select` and `include`
 * in one statement per subscriber and batch. A subscriber that resumes (`after`) is first given
 * the events since, from the log. Everything a subscriber hears passes through one queue, so
 * that it hears events in the log's order.
 * @module
 */
import type { Clock } from "../define/clock.js";
import type { Logger } from "../define/logger.js";
import type { DialectRuntime } from "../dialects/dialect.js";
import type { Notifier } from "../dialects/notifier.js";
import { apiError, ApiError } from "../errors/api-error.js";
import { afterCommit, type Change, type DataContext, type SubscriptionSink } from "../data/context.js";
import type { CollectionModel } from "../model/model.js";
import type { Row } from "../data/rows.js";
import { checkVersionQuery, readVersions, type VersionQuery } from "../data/versions.js";
import { EventLog, type LoggedEvent } from "./event-log.js";
import { SequenceTokens } from "./tokens.js";

/** The notifier's topic of the event log; its payload is the last number written. */
export const REALTIME_TOPIC = "realtime";

/** What `createBackend({ realtime })` takes. */
export interface RealtimeOptions {
  /**
   * How long the event log keeps events, in ms: how far back a subscriber can resume. Older
   * events are deleted in the background.
   * @default 3_600_000 (one hour)
   */
  retention?: number;
  /**
   * The most subscriptions one caller (a user; over HTTP, an anonymous client address) may hold
   * in this process; one more is refused with 429 `TOO_MANY_SUBSCRIPTIONS`.
   * @default 16
   */
  maxPerCaller?: number;
  /**
   * The most subscriptions this process holds; one more is refused with 429
   * `TOO_MANY_SUBSCRIPTIONS`.
   * @default 1000
   */
  maxPerProcess?: number;
  /**
   * The most events that may wait for a subscriber that does not take them (a slow client, an
   * iterator not iterated); past it the subscription ends with the reason `"slow"`.
   * @default 1000
   */
  maxBuffered?: number;
  /**
   * How often, in ms, the sessions and API keys of subscriptions over HTTP are checked again: a
   * revoked or expired one ends its subscriptions within this time.
   * @default 5000
   */
  sessionCheckInterval?: number;
  /**
   * How often, in ms, a process with subscribers reads the log even when no announcement came
   * (announcements are a wake-up, not the truth).
   * @default 1000
   */
  pollInterval?: number;
  /**
   * How often, in ms, an SSE stream sends a comment to keep idle connections open through
   * proxies.
   * @default 15000
   */
  heartbeat?: number;
}

/** The settings of realtime, defaults applied. */
export type RealtimeSettings = Required<RealtimeOptions>;

/** Checks `createBackend({ realtime })` and applies the defaults. */
export function realtimeSettings(options: RealtimeOptions | undefined): RealtimeSettings {
  const settings: RealtimeSettings = {
    retention: 3_600_000,
    maxPerCaller: 16,
    maxPerProcess: 1000,
    maxBuffered: 1000,
    sessionCheckInterval: 5000,
    pollInterval: 1000,
    heartbeat: 15_000,
  };
  for (const [name, value] of Object.entries(options ?? {})) {
    if (!(name in settings)) throw new TypeError(`createBackend({ realtime }): unknown option "${name}".`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`createBackend({ realtime: { ${name} } }) takes a positive integer, not ${String(value)}.`);
    }
    settings[name as keyof RealtimeSettings] = value;
  }
  return settings;
}

/** What an HTTP subscription adds: who it counts against, and how to check its credential again. */
export interface SubscribeExtras {
  /** The key it counts against for `maxPerCaller`; by default the user's id (none for an anonymous caller in-process). */
  readonly callerKey?: string;
  /** Whether the caller's credential still holds (and names the same caller). */
  readonly recheck?: () => Promise<boolean>;
}

/** Events read from the log per statement. */
const PAGE = 256;
/** Subscribers whose events are read at once. */
const CONCURRENCY = 8;
/** Events deleted per statement of the retention sweep. */
const PRUNE_BATCH = 1000;

type Operation = LoggedEvent["operation"];

class Subscriber {
  /** The last event number this subscriber has been given (or skipped). */
  position = 0;
  live = false;
  ended = false;
  /** What subscribers that hear the same events share: the caller, its trust, how dates are written, the query. */
  readonly key: string;
  constructor(
    readonly ctx: DataContext,
    readonly query: VersionQuery,
    readonly sink: SubscriptionSink,
    readonly callerKey: string | undefined,
    readonly recheck: (() => Promise<boolean>) | undefined,
  ) {
    this.key = JSON.stringify([ctx.trusted, ctx.textDates, ctx.user, query.collection.name, query.options]);
  }
}

/** The realtime of one backend. */
export class RealtimeService {
  readonly settings: RealtimeSettings;
  readonly #log: EventLog;
  readonly #tokens: SequenceTokens;
  readonly #runtime: DialectRuntime;
  readonly #notifier: Notifier;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #subscribers = new Set<Subscriber>();
  readonly #perCaller = new Map<string, number>();
  /** The last event number read and given to the live subscribers; unknown while there are none. */
  #cursor: number | undefined;
  /** The work of reading the log, one task at a time, in order. */
  #queue: Promise<void> = Promise.resolve();
  #draining = false;
  #again = false;
  #stopListening: (() => void) | undefined;
  #poll: NodeJS.Timeout | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #prune: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: { runtime: DialectRuntime; notifier: Notifier; logger: Logger; clock: Clock; settings: RealtimeSettings }) {
    this.settings = options.settings;
    this.#runtime = options.runtime;
    this.#log = new EventLog(options.runtime);
    this.#tokens = new SequenceTokens(options.runtime);
    this.#notifier = options.notifier;
    this.#logger = options.logger;
    this.#clock = options.clock;
  }

  /** How many subscriptions this process holds. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Appends a transaction's changes to the log, in it; announces them once it has committed. */
  async logChanges(ctx: DataContext, changes: readonly Change[]): Promise<void> {
    const last = await this.#log.append(ctx.db, changes, this.#clock.now());
    this.#startPruning();
    afterCommit(ctx, () => this.#notifier.publish(REALTIME_TOPIC, String(last)));
  }

  /**
   * Subscribes `ctx`'s caller to `collection`: checks the options as `list` would, counts the
   * subscription against the limits, gives it `ready` (after the events it resumes from, or
   * `gap`), then every event it may hear until it ends. Resolves, once live, to what ends it.
   */
  async subscribe(
    ctx: DataContext,
    collection: CollectionModel,
    rawOptions: unknown,
    sink: SubscriptionSink,
    extras: SubscribeExtras = {},
  ): Promise<() => void> {
    if (this.#closed) throw apiError("UNAVAILABLE", "The backend is shutting down; try again shortly.", { reason: "closing", retryAfter: 1 });
    if (ctx.transaction !== undefined) throw new TypeError("subscribe() cannot run inside a transaction: call it on backend.as(user) or backend.system.");
    if (!collection.realtime) {
      throw new TypeError(`The collection "${collection.name}" is not realtime: declare it with collection("${collection.name}", { ..., realtime: true }).`);
    }
    const { after: token, options } = splitAfter(rawOptions);
    await this.#tokens.ready();
    const decoded = token === undefined ? undefined : this.#tokens.decode(token);
    if (decoded === null) throw apiError("INVALID_QUERY", "after: expected the sequence of an event this backend sent", { path: "after" });
    // A token of another database (or key) is well formed but tells nothing: the subscriber hears a gap.
    const after = token === undefined ? undefined : (decoded ?? "unknown");
    const query = await checkVersionQuery(ctx, collection, options);
    // In-process, an anonymous caller (or the system scope) is the host's own code: counted
    // only against the process's limit.
    const callerKey = extras.callerKey ?? (ctx.user === null ? undefined : `user:${ctx.user.id}`);
    const held = callerKey === undefined ? 0 : (this.#perCaller.get(callerKey) ?? 0);
    if (held >= this.settings.maxPerCaller) throw tooMany("maxPerCaller", this.settings.maxPerCaller, "This caller holds as many subscriptions as it may");
    if (this.#subscribers.size >= this.settings.maxPerProcess) {
      throw tooMany("maxPerProcess", this.settings.maxPerProcess, "This server holds as many subscriptions as it may");
    }
    const subscriber = new Subscriber(ctx, query, sink, callerKey, extras.recheck);
    if (callerKey !== undefined) this.#perCaller.set(callerKey, held + 1);
    this.#subscribers.add(subscriber);
    this.#listen();
    try {
      await this.#run(() => this.#start(subscriber, after));
    } catch (error) {
      this.#remove(subscriber);
      throw error;
    }
    return () => this.#remove(subscriber);
  }

  /** The same, heard by iterating: a bounded queue between the subscription and its reader. */
  iterate(ctx: DataContext, collection: CollectionModel, options: unknown): AsyncIterableIterator<unknown> & { close(): void } {
    const buffered: unknown[] = [];
    const waiting: { resolve: (result: IteratorResult<unknown>) => void; reject: (error: unknown) => void }[] = [];
    let failure: { error: unknown } | undefined;
    let done = false;
    let stop: (() => void) | undefined;
    const max = this.settings.maxBuffered;
    const give = (event: unknown) => {
      const reader = waiting.shift();
      if (reader !== undefined) reader.resolve({ value: event, done: false });
      else buffered.push(event);
    };
    const finish = () => {
      done = true;
      buffered.length = 0;
      stop?.();
      stop = undefined;
      for (const reader of waiting.splice(0)) reader.resolve({ value: undefined, done: true });
    };
    const sink: SubscriptionSink = {
      push: (event, shared) => {
        if (done) return true;
        if (buffered.length >= max) return false;
        give(shared ? structuredClone(event) : event);
        return true;
      },
      end: (reason) => {
        if (done) return;
        give({ type: "end", reason });
        done = true;
        stop = undefined;
        for (const reader of waiting.splice(0)) reader.resolve({ value: undefined, done: true });
      },
    };
    this.subscribe(ctx, collection, options, sink).then(
      (unsubscribe) => {
        if (done) unsubscribe();
        else stop = unsubscribe;
      },
      (error: unknown) => {
        done = true;
        const readers = waiting.splice(0);
        if (readers.length === 0) failure = { error };
        for (const reader of readers) reader.reject(error);
      },
    );
    const iterator = {
      next(): Promise<IteratorResult<unknown>> {
        if (buffered.length > 0) return Promise.resolve({ value: buffered.shift(), done: false });
        if (failure !== undefined) {
          const { error } = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<unknown>>((resolve, reject) => waiting.push({ resolve, reject }));
      },
      async return(): Promise<IteratorResult<unknown>> {
        finish();
        return { value: undefined, done: true };
      },
      close: finish,
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Ends every subscription (`end` with `"closing"`) and stops reading the log. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const subscriber of [...this.#subscribers]) this.#end(subscriber, "closing");
    clearInterval(this.#prune);
    this.#prune = undefined;
    await this.#queue;
  }

  /** Runs `task` after the tasks before it: one reader of the log at a time. */
  #run(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** A new subscriber's start: replays the events it resumes from, then makes it live. */
  async #start(subscriber: Subscriber, after: number | undefined | "unknown"): Promise<void> {
    // With nobody live, nobody needs what the cursor had reached: it starts at the log's end.
    if (this.#cursor === undefined || ![...this.#subscribers].some((other) => other.live)) this.#cursor = (await this.#log.bounds()).last;
    const now = this.#cursor;
    if (after === undefined) {
      subscriber.position = now;
    } else {
      const { last, oldest } = await this.#log.bounds();
      // The events after `after` are all in the log when it holds the one right after it (or,
      // when it holds none, when nothing was written since).
      const whole = after !== "unknown" && after <= last && (oldest === undefined ? after === last : oldest <= after + 1);
      if (after === "unknown" || !whole) {
        subscriber.position = now;
        this.#give(subscriber, { type: "ready", sequence: this.#tokens.encode(now) });
        this.#give(subscriber, { type: "gap", sequence: this.#tokens.encode(now) });
        subscriber.live = true;
        return;
      }
      subscriber.position = after;
      while (subscriber.position < now && !subscriber.ended) {
        const events = (await this.#log.read(subscriber.position, PAGE, subscriber.query.collection.name)).filter((event) => event.sequence <= now);
        if (events.length === 0) break;
        await this.#deliver([subscriber], events);
      }
      subscriber.position = now;
    }
    this.#give(subscriber, { type: "ready", sequence: this.#tokens.encode(now) });
    subscriber.live = true;
  }

  /** Starts hearing announcements and polling, with the first subscriber. */
  #listen(): void {
    if (this.#stopListening !== undefined) return;
    this.#stopListening = this.#notifier.subscribe(REALTIME_TOPIC, () => this.#wake());
    this.#poll = setInterval(() => this.#wake(), this.settings.pollInterval);
    this.#poll.unref();
    this.#recheck = setInterval(() => void this.#recheckAll(), this.settings.sessionCheckInterval);
    this.#recheck.unref();
  }

  /** Stops, with the last subscriber. */
  #unlisten(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    clearInterval(this.#poll);
    clearInterval(this.#recheck);
    this.#poll = this.#recheck = undefined;
    this.#cursor = undefined;
  }

  /** Reads the log to its end, now or right after the read under way. */
  #wake(): void {
    if (this.#subscribers.size === 0 || this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = true;
    void this.#run(async () => {
      try {
        do {
          this.#again = false;
          await this.#drain();
        } while (this.#again && this.#subscribers.size > 0);
      } catch (error) {
        // The database is away, say: the next announcement or poll tries again from the cursor.
        this.#logger.warn?.("Realtime could not read the event log; it tries again shortly.", { error });
      } finally {
        this.#draining = false;
      }
    });
  }

  /** Gives the live subscribers the events after the cursor, page by page. */
  async #drain(): Promise<void> {
    for (;;) {
      if (this.#subscribers.size === 0) return;
      this.#cursor ??= (await this.#log.bounds()).last;
      const events = await this.#log.read(this.#cursor, PAGE);
      if (events.length === 0) return;
      // Subscribers alike (one caller, one query) hear the same events: read once for them all.
      const groups = new Map<string, Subscriber[]>();
      for (const subscriber of this.#subscribers) {
        if (!subscriber.live || subscriber.ended) continue;
        const group = groups.get(subscriber.key);
        if (group === undefined) groups.set(subscriber.key, [subscriber]);
        else group.push(subscriber);
      }
      await inBatches([...groups.values()], CONCURRENCY, (group) => this.#deliver(group, events));
      this.#cursor = events.at(-1)!.sequence;
    }
  }

  /**
   * Gives subscribers alike the events (in order) each has not been given, as they may hear them.
   * An event of another collection, or that they may not read before nor after the change, is
   * skipped.
   */
  async #deliver(group: readonly Subscriber[], events: readonly LoggedEvent[]): Promise<void> {
    const first = group[0]!;
    const from = Math.min(...group.map((subscriber) => subscriber.position));
    const name = first.query.collection.name;
    const mine = events.filter((event) => event.collection === name && event.sequence > from);
    if (mine.length > 0) {
      const versions: Row[] = [];
      const at = mine.map((event) => ({
        before: event.before === null ? -1 : versions.push(event.before) - 1,
        after: event.after === null ? -1 : versions.push(event.after) - 1,
      }));
      let read: (Row | undefined)[];
      try {
        read = await readVersions(first.ctx, first.query, versions);
      } catch (error) {
        if (isUnavailable(this.#runtime, error)) throw error;
        this.#logger.error(`A subscription to "${name}" failed to read its events; it ends.`, { error });
        for (const subscriber of group) this.#end(subscriber, "error");
        return;
      }
      const shared = group.length > 1;
      for (let i = 0; i < mine.length; i++) {
        const event = mine[i]!;
        const before = at[i]!.before < 0 ? undefined : read[at[i]!.before];
        const after = at[i]!.after < 0 ? undefined : read[at[i]!.after];
        const type = kindOf(event.operation, before !== undefined, after !== undefined);
        const heard = type === undefined ? undefined : { type, sequence: this.#tokens.encode(event.sequence), record: type === "deleted" || type === "left" ? before : after };
        for (const subscriber of group) {
          if (subscriber.ended || event.sequence <= subscriber.position) continue;
          if (heard !== undefined) this.#give(subscriber, heard, shared);
          subscriber.position = event.sequence;
        }
      }
    }
    const last = events.at(-1)!.sequence;
    for (const subscriber of group) if (!subscriber.ended) subscriber.position = Math.max(subscriber.position, last);
  }

  /**
   * Gives one event (`shared` when other subscribers get the same object); ends the subscription
   * of a subscriber too slow to take it.
   */
  #give(subscriber: Subscriber, event: Record<string, unknown>, shared = false): void {
    if (subscriber.ended) return;
    let taken: boolean;
    try {
      taken = subscriber.sink.push(event, shared);
    } catch (error) {
      this.#logger.error(`A subscriber to "${subscriber.query.collection.name}" failed on an event.`, { error });
      return;
    }
    if (!taken) this.#end(subscriber, "slow");
  }

  /** Checks again the credentials of the subscriptions that have one; ends the revoked. */
  async #recheckAll(): Promise<void> {
    const checked = [...this.#subscribers].filter((subscriber) => subscriber.recheck !== undefined && !subscriber.ended);
    await inBatches(checked, CONCURRENCY, async (subscriber) => {
      try {
        if (!(await subscriber.recheck!())) this.#end(subscriber, "revoked");
      } catch (error) {
        // Unknown (the database is away): the next check decides.
        this.#logger.warn?.("A subscription's credential could not be checked again; the next check decides.", { error });
      }
    });
  }

  /** Ends a subscription from the backend's side: its last event is `end`. */
  #end(subscriber: Subscriber, reason: string): void {
    if (subscriber.ended) return;
    this.#remove(subscriber);
    try {
      subscriber.sink.end(reason);
    } catch (error) {
      this.#logger.error(`A subscriber to "${subscriber.query.collection.name}" failed on its end.`, { error });
    }
  }

  #remove(subscriber: Subscriber): void {
    if (subscriber.ended) return;
    subscriber.ended = true;
    if (!this.#subscribers.delete(subscriber)) return;
    const key = subscriber.callerKey;
    if (key !== undefined) {
      const held = (this.#perCaller.get(key) ?? 1) - 1;
      if (held === 0) this.#perCaller.delete(key);
      else this.#perCaller.set(key, held);
    }
    if (this.#subscribers.size === 0) this.#unlisten();
  }

  /** Deletes the events past retention, every tenth of it (at most every minute), in the background. */
  #startPruning(): void {
    if (this.#prune !== undefined || this.#closed) return;
    const every = Math.min(60_000, Math.max(1000, Math.floor(this.settings.retention / 10)));
    this.#prune = setInterval(() => void this.#pruneOnce(), every);
    this.#prune.unref();
  }

  async #pruneOnce(): Promise<void> {
    const cutoff = this.#clock.now() - this.settings.retention;
    try {
      while ((await this.#log.prune(cutoff, PRUNE_BATCH)) === PRUNE_BATCH && !this.#closed);
    } catch (error) {
      this.#logger.warn?.("Realtime could not delete old events; it tries again later.", { error });
    }
  }

  /** Resolves once every event committed so far has been given to the live subscribers (for tests). */
  sync(): Promise<void> {
    return this.#run(() => this.#drain());
  }

  /** Deletes the events past retention now (for tests and operators). */
  prune(): Promise<void> {
    return this.#pruneOnce();
  }
}

/** What a subscriber hears of a change, given whether it may read the record before and after. */
function kindOf(operation: Operation, before: boolean, after: boolean): "created" | "updated" | "entered" | "deleted" | "left" | undefined {
  if (operation === "create") return after ? "created" : undefined;
  if (operation === "delete") return before ? "deleted" : undefined;
  if (before && after) return "updated";
  if (after) return "entered";
  return before ? "left" : undefined;
}

/** The options of a subscription, and the sequence it resumes after. */
function splitAfter(options: unknown): { after: string | undefined; options: unknown } {
  if (typeof options !== "object" || options === null || Array.isArray(options) || !Object.hasOwn(options, "after")) {
    return { after: undefined, options };
  }
  const { after, ...rest } = options as Record<string, unknown>;
  if (after === undefined || after === null) return { after: undefined, options: rest };
  if (typeof after !== "string") throw apiError("INVALID_QUERY", "after: expected the sequence of an event (a string)", { path: "after" });
  return { after, options: rest };
}

function tooMany(limit: string, max: number, message: string): ApiError {
  return apiError("TOO_MANY_SUBSCRIPTIONS", `${message} (${max}).`, { limit, max });
}

function isUnavailable(runtime: DialectRuntime, error: unknown): boolean {
  return runtime.classify(error)?.kind === "unavailable";
}

/** Runs `fn` for every item, at most `concurrency` at a time. */
async function inBatches<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
