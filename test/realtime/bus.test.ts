/**
 * A bus between instances (`redisBus` over the local Redis): a write on one instance wakes the
 * subscribers and the job worker of another through it, and a bus that fails loses nothing: the
 * database still tells. Skipped, with the reason, when no Redis answers at CIMIENTO_TEST_REDIS_URL
 * (default redis://127.0.0.1:6379).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Redis } from "ioredis";
import { z } from "zod";
import { collection, createBackend, field, job, redisBus, type Bus, type DatabaseAdapter } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger, sharedDatabase, type SharedDatabase } from "../jobs/support.js";

const REDIS_URL = process.env["CIMIENTO_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379";

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
const redisUp = await redisAnswers();

const posts = collection("posts", { fields: { title: field.text() }, realtime: true, access: { list: () => true } });

/** A bus that counts the messages its instance heard, around another bus. */
function counted(inner: Bus): Bus & { heard: number } {
  const bus = {
    heard: 0,
    publish: (message: string) => inner.publish(message),
    subscribe: (onMessage: (message: string) => void) =>
      inner.subscribe((message) => {
        bus.heard++;
        onMessage(message);
      }),
  };
  return bus;
}

const suite = redisUp ? describeEachDatabase : (name: string) => describe.skip(`${name} (skipped: no Redis answers at ${REDIS_URL})`, () => test("", () => {}));

suite("a Redis bus between instances", (db) => {
  let shared: SharedDatabase;
  let clients: Redis[];
  let closing: { close(): Promise<void> }[];
  let channel: string;
  const ran: number[] = [];
  const noted = job({ input: z.object({ n: z.number() }), handler: ({ input }) => void ran.push(input.n) });

  const bus = () => {
    const publisher = new Redis(REDIS_URL);
    const subscriber = new Redis(REDIS_URL);
    clients.push(publisher, subscriber);
    return counted(redisBus({ publisher, subscriber }, { channel }));
  };
  /** Resolves once some instance's bus has subscribed to the channel in Redis. */
  const subscribed = () =>
    expect.poll(async () => Number(((await clients[0]!.pubsub("NUMSUB", channel)) as [string, number])[1]), { timeout: 5000 }).toBeGreaterThan(0);
  const instance = (withBus: Bus | undefined) => {
    const backend = createBackend({
      database: shared.adapter() as DatabaseAdapter<"sqlite">,
      collections: { posts },
      jobs: { noted },
      logger: quietLogger(),
      // Polls far apart: what arrives soon came through a notifier.
      realtime: { pollInterval: 60_000 },
      ...(withBus === undefined ? {} : { bus: withBus }),
    });
    closing.push(backend);
    return backend;
  };

  beforeEach(async () => {
    clients = [];
    closing = [];
    ran.length = 0;
    channel = `cimiento-test-${process.pid}-${Date.now()}`;
    shared = await sharedDatabase(db);
    await instance(undefined).migrate();
  });
  afterEach(async () => {
    for (const backend of closing) await backend.close();
    for (const client of clients) client.disconnect();
    await shared.drop();
  });

  test("a write on one instance reaches the subscribers of another, and the bus carries its announcement", async () => {
    const writerBus = bus();
    const readerBus = bus();
    const writer = instance(writerBus);
    const reader = instance(readerBus);
    const heard: string[] = [];
    await reader.as(null).data.posts.subscribe({}, (event) => void heard.push(event.type));
    await subscribed();
    await writer.system.data.posts.create({ title: "over the bus" });
    await expect.poll(() => heard, { timeout: 3000 }).toEqual(["ready", "created"]);
    await expect.poll(() => readerBus.heard).toBeGreaterThan(0);
  });

  test("an enqueue on one instance wakes the idle worker of another through the bus", async () => {
    const workerBus = bus();
    const worker = instance(workerBus);
    const producer = instance(bus());
    worker.jobs.start({ pollInterval: 60_000 });
    await subscribed();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await producer.system.enqueue("noted", { n: 7 });
    await expect.poll(() => ran, { timeout: 3000 }).toEqual([7]);
    expect(workerBus.heard).toBeGreaterThan(0);
  });

  test("a bus that fails loses nothing: the database still tells, and the failure is a warning", async () => {
    const broken: Bus = {
      publish: async () => {
        throw new Error("the bus is down");
      },
      subscribe: () => async () => {},
    };
    const logger = quietLogger();
    const writer = createBackend({ database: shared.adapter() as DatabaseAdapter<"sqlite">, collections: { posts }, logger, bus: broken });
    closing.push(writer);
    const reader = instance(undefined);
    const heard: string[] = [];
    await reader.as(null).data.posts.subscribe({}, (event) => void heard.push(event.type));
    await writer.system.data.posts.create({ title: "through the database" });
    await expect.poll(() => heard, { timeout: 3000 }).toEqual(["ready", "created"]);
    await expect.poll(() => logger.warnings).toContain("The notifier's bus could not tell other processes; they find the change through the database.");
  });
});

test("createBackend refuses a bus that is not one", () => {
  expect(() => createBackend({ collections: { posts }, bus: { publish: async () => {} } as never })).toThrow("publish(message) and subscribe(onMessage)");
});

test("redisBus refuses an empty channel", () => {
  const client = { publish: async () => 0, subscribe: async () => 0, unsubscribe: async () => 0, on: () => {}, off: () => {} };
  expect(() => redisBus({ publisher: client, subscriber: client }, { channel: "" })).toThrow("non-empty string");
});
