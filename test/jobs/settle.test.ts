/**
 * Successes are written together, each only by the attempt that holds its job: an attempt whose
 * lease expired, and whose job the same worker claimed again, cannot settle the newer attempt.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { z } from "zod";
import { createBackend, job } from "cimiento";
import { testClock, type TestClock } from "cimiento/testing";
import { partsOf } from "../../src/backend/backend-parts.js";
import { describeEachDatabase } from "../setup/dialects.js";
import { quietLogger } from "./support.js";

describeEachDatabase("jobs settle", (db) => {
  let drop: () => Promise<void>;
  let clock: TestClock;
  const makeBackend = async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    const noop = job({ input: z.object({ n: z.number() }), handler: () => {} });
    return createBackend({ database: fresh.database, jobs: { noop }, clock, logger: quietLogger() });
  };
  let backend: Awaited<ReturnType<typeof makeBackend>>;

  beforeEach(async () => {
    clock = testClock("2030-01-01T00:00:00Z");
    backend = await makeBackend();
    await backend.migrate();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  test("a lost attempt's success does not settle the job's next attempt; successes that end together are each recorded", async () => {
    const store = partsOf(backend).jobs.store;
    const capacity = new Map([["noop", 10]]);
    const { id } = await backend.system.enqueue("noop", { n: 0 });
    const [first] = await store.claim("w", 10, capacity, 1_000);
    clock.advance(2_000);
    expect((await store.reap()).map((lost) => lost.id)).toEqual([id]);
    const [second] = await store.claim("w", 10, capacity, 1_000);
    expect([first!.attempt, second!.attempt]).toEqual([1, 2]);
    expect(await store.succeed("w", first!)).toBe(false);
    expect((await backend.jobs.get(id))?.state).toBe("running");
    const others = await backend.system.enqueueMany("noop", [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const claimed = await store.claim("w", 10, capacity, 60_000);
    const held = await Promise.all([second!, ...claimed].map((one) => store.succeed("w", one)));
    expect(held).toEqual([true, true, true, true]);
    const states = await Promise.all([id, ...others.map((one) => one.id)].map(async (one) => (await backend.jobs.get(one))?.state));
    expect(states).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect((await backend.jobs.get(id))?.history.map((attempt) => attempt.outcome)).toEqual(["lost", "succeeded"]);
    expect(await store.succeed("w", second!)).toBe(false);
  });
});
