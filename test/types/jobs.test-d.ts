import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";
import {
  action,
  collection,
  createBackend,
  field,
  job,
  schedule,
  type Enqueue,
  type EnqueuedJob,
  type JobContext,
  type JobInput,
  type JobRecord,
} from "cimiento";
import { createTestBackend } from "cimiento/testing";

const notes = collection("notes", { fields: { text: field.text() } });

const sendEmail = job({
  input: z.object({ to: z.string().email(), subject: z.string(), retries: z.number().default(0) }),
  handler: ({ input }) => {
    expectTypeOf(input).toEqualTypeOf<{ to: string; subject: string; retries: number }>();
  },
});
const cleanup = job({ input: z.object({}).optional(), handler: () => {} });
const jobs = { sendEmail, cleanup };

describe("enqueue", () => {
  const backend = createBackend({ collections: { notes }, jobs });

  test("its input is inferred from the job (the input side of its schema: defaults are optional)", () => {
    expectTypeOf<JobInput<typeof sendEmail>>().toEqualTypeOf<{ to: string; subject: string; retries?: number | undefined }>();
    expectTypeOf(backend.system.enqueue("sendEmail", { to: "a@example.com", subject: "Hi" })).toEqualTypeOf<Promise<EnqueuedJob>>();
    backend.system.enqueue("cleanup", undefined, { delay: 1000 });
    // @ts-expect-error: a missing field
    backend.system.enqueue("sendEmail", { to: "a@example.com" });
    // @ts-expect-error: a field of the wrong type
    backend.system.enqueue("sendEmail", { to: "a@example.com", subject: 1 });
    // @ts-expect-error: a job the backend does not have
    backend.system.enqueue("nope", {});
    // @ts-expect-error: an unknown option
    backend.system.enqueue("cleanup", undefined, { later: true });
  });

  test("on caller scopes and in transactions too", async () => {
    backend.as({ id: "u1", role: "member" }).enqueue("sendEmail", { to: "a@example.com", subject: "Hi" });
    await backend.system.transaction(async (tx) => {
      await tx.enqueue("sendEmail", { to: "a@example.com", subject: "Hi" });
      // @ts-expect-error: typed in transactions as well
      await tx.enqueue("sendEmail", {});
    });
  });

  test("a backend without jobs has no job to enqueue", () => {
    const bare = createBackend({ collections: { notes } });
    // @ts-expect-error: no job names
    bare.system.enqueue("sendEmail", { to: "a@example.com", subject: "Hi" });
  });

  test("Enqueue<J> of the registered jobs is the same typed function", () => {
    const enqueue = null as unknown as Enqueue<typeof jobs>;
    enqueue("sendEmail", { to: "a@example.com", subject: "Hi" });
    // @ts-expect-error: typed by the jobs
    enqueue("cleanup", { to: 1 });
  });

  test("without Register, actions, hooks and jobs enqueue any name and input (checked at run time)", () => {
    action({
      input: z.object({}),
      handler: async ({ enqueue, system }) => {
        expectTypeOf(enqueue).parameters.toEqualTypeOf<[name: string, input: unknown, options?: import("cimiento").EnqueueOptions]>();
        await system.enqueue("anything", { at: "all" });
      },
    });
    expectTypeOf<JobContext<{ a: 1 }>["enqueue"]>().parameter(0).toEqualTypeOf<string>();
  });
});

describe("a handler's context", () => {
  test("has now, a Date from the backend's clock, and tick, the Date of a schedule's tick or null", () => {
    expectTypeOf<JobContext<{ a: 1 }>["now"]>().toEqualTypeOf<Date>();
    expectTypeOf<JobContext<{ a: 1 }>["tick"]>().toEqualTypeOf<Date | null>();
    job({
      input: z.object({}),
      handler: ({ now, tick }) => {
        expectTypeOf(now).toEqualTypeOf<Date>();
        expectTypeOf(tick).toEqualTypeOf<Date | null>();
        // @ts-expect-error: a tick may be absent (a job enqueued by code)
        tick.getTime();
      },
    });
  });
});

describe("backend.jobs and schedules", () => {
  test("list takes the backend's job names; records are typed", async () => {
    const backend = await createTestBackend({ collections: { notes }, jobs });
    backend.jobs.list({ name: "sendEmail", state: ["failed", "cancelled"] });
    // @ts-expect-error: not a job of this backend
    backend.jobs.list({ name: "nope" });
    // @ts-expect-error: not a state
    backend.jobs.list({ state: "done" });
    expectTypeOf(backend.jobs.get("id")).resolves.toMatchTypeOf<JobRecord | null>();
  });

  test("a schedule of a job object takes that job's input", () => {
    schedule("digest", "0 3 * * *", sendEmail, { to: "ops@example.com", subject: "Digest" }, { timezone: "Europe/Madrid" });
    // @ts-expect-error: the job's input
    schedule("digest", "0 3 * * *", sendEmail, { to: "ops@example.com" });
    schedule("cleanup", "0 * * * *", "cleanup");
  });
});

describe("a worker's jobs", () => {
  test("start({ only }) takes the names of the backend's jobs, and a backend of jobs alone needs no collections", () => {
    const backend = createBackend({ jobs });
    backend.jobs.start({ only: ["sendEmail"] });
    // @ts-expect-error: a job the backend does not have
    backend.jobs.start({ only: ["sendSms"] });
    backend.system.enqueue("cleanup", undefined);
    // @ts-expect-error: no collections, so no data
    void backend.system.data.notes;
  });
});

describe("enqueueMany", () => {
  test("its inputs are typed as enqueue's input, and it resolves to the enqueued jobs", () => {
    const backend = createBackend({ collections: { notes }, jobs });
    expectTypeOf(backend.system.enqueueMany("sendEmail", [{ to: "a@example.com", subject: "Hi" }])).toEqualTypeOf<Promise<EnqueuedJob[]>>();
    backend.system.enqueueMany("cleanup", [undefined, {}], { delay: 1000, priority: 2 });
    // @ts-expect-error: an input without a required field
    backend.system.enqueueMany("sendEmail", [{ to: "a@example.com" }]);
    // @ts-expect-error: no idempotency key for many jobs
    backend.system.enqueueMany("cleanup", [{}], { idempotencyKey: "k" });
    void backend.system.transaction(async (tx) => {
      expectTypeOf(tx.enqueueMany("sendEmail", [])).toEqualTypeOf<Promise<EnqueuedJob[]>>();
    });
  });
});
