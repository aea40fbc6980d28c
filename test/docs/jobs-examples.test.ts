/**
 * docs/jobs.md runs: its examples, verbatim, with checks of what the page says they do (see
 * page-examples.ts).
 */
import { check, describePage, example, type Part } from "./page-examples.js";

const program: readonly Part[] = [
  example(`import { z } from "zod";
import nodemailer from "nodemailer";
import { action, collection, createBackend, field, job, schedule, type JobEvent } from "cimiento";

// Any mail library works; this transport renders the message instead of sending it.
const mailer = nodemailer.createTransport({ jsonTransport: true });
const sent: { to: string; subject: string }[] = [];

const users = collection("users", {
  fields: { email: field.text(z.string().email()).unique(), welcomed: field.boolean().default(false) },
});

const sendWelcome = job({
  input: z.object({ userId: z.string() }),
  retries: 5,                                // 6 attempts in all
  backoff: { initial: 2_000, max: 600_000 }, // 1-2 s, then 2-4 s, 4-8 s, ... (jittered)
  timeout: 15_000,                           // then \`signal\` is aborted and the attempt fails
  async handler({ input, system, signal }) {
    const user = await system.data.users.get(input.userId);
    if (!user || user.welcomed) return;      // a job may run twice: make it idempotent
    signal.throwIfAborted();
    await mailer.sendMail({ from: "hello@example.com", to: user.email, subject: "Welcome!", text: "Glad you are here." });
    sent.push({ to: user.email, subject: "Welcome!" });
    await system.data.users.update(user.id, { welcomed: true });
  },
});

const sendDigest = job({
  input: z.object({ period: z.enum(["day", "week"]) }),
  async handler({ input }) {
    sent.push({ to: "team@example.com", subject: \`Digest of the \${input.period}\` });
  },
});

const jobs = { sendWelcome, sendDigest };

const signUp = action({
  input: z.object({ email: z.string().email() }),
  access: () => true,
  async handler({ input, system, enqueue }) {
    const user = await system.data.users.create({ email: input.email });
    await enqueue("sendWelcome", { userId: user.id }); // in the action's transaction
    return { id: user.id };
  },
});

declare module "cimiento" {
  interface Register {
    collections: { users: typeof users };
    jobs: typeof jobs; // types \`enqueue\` in actions, hooks and handlers
  }
}

const backend = createBackend({
  database,
  collections: { users },
  actions: { signUp },
  jobs,
  schedules: [schedule("daily-digest", "0 8 * * *", sendDigest, { period: "day" }, { timezone: "Europe/Madrid" })],
});
await backend.migrate(); // also creates cimiento_jobs and cimiento_job_attempts

const ada = await backend.as(null).actions.signUp({ email: "ada@example.com" });
const queued = await backend.jobs.list({ state: "queued" }); // one sendWelcome job, for ada
`),
  check(`track(backend);
// Register types enqueue where the backend's type is unknown: actions, hooks, handlers.
action({
  input: z.object({}),
  handler: async ({ enqueue, system }) => {
    // @ts-expect-error: sendWelcome takes { userId: string }
    await enqueue("sendWelcome", { user: 1 });
    // @ts-expect-error: no such job
    await system.enqueue("sendGoodbye", {});
  },
});
expect(queued).toHaveLength(1);
expect(queued[0]).toMatchObject({ name: "sendWelcome", input: { userId: ada.id }, state: "queued", attempts: 0, maxAttempts: 6 });
`),
  example(`const before = await backend.jobs.list();
await backend.system.transaction(async (tx) => {
  const grace = await tx.data.users.create({ email: "grace@example.com" });
  await tx.enqueue("sendWelcome", { userId: grace.id });
  throw new Error("payment declined"); // rolls back the user and the job
}).catch(() => {});
const after = await backend.jobs.list(); // the same jobs as before

const once = await backend.system.enqueue("sendDigest", { period: "week" }, { idempotencyKey: "digest:2030-W01" });
const twice = await backend.system.enqueue("sendDigest", { period: "week" }, { idempotencyKey: "digest:2030-W01" });
// twice: { id: once.id, created: false }
`),
  check(`expect(after).toEqual(before);
expect(await backend.system.data.users.count()).toBe(1);
expect(once.created).toBe(true);
expect(twice).toEqual({ id: once.id, created: false });
`),
  example(`const events: JobEvent[] = [];
backend.jobs.on((event) => events.push(event)); // e.g. log failures, measure durations

const welcomed = new Promise<void>((resolve) => {
  backend.jobs.on((event) => {
    if (event.type === "succeeded" && event.name === "sendWelcome") resolve();
  });
});
backend.jobs.start({ concurrency: 5 });
await welcomed; // ada's welcome mail is sent
await backend.jobs.stop({ timeout: 20_000 }); // on SIGTERM, say
`),
  check(`expect(sent).toContainEqual({ to: "ada@example.com", subject: "Welcome!" });
expect((await backend.system.data.users.get(ada.id))!.welcomed).toBe(true);
expect(events.filter((event) => event.type === "succeeded").map((event) => (event as { name: string }).name).sort()).toEqual(["sendDigest", "sendWelcome"]);
expect(backend.jobs.started).toBe(false);
`),
  example(`const welcome = await backend.jobs.get(queued[0]!.id);
// welcome.state: "succeeded"; welcome.history: [{ attempt: 1, outcome: "succeeded", worker, startedAt, ... }]

const stray = await backend.system.enqueue("sendWelcome", { userId: "no-such-user" }, { delay: 60_000 });
await backend.jobs.cancel(stray.id); // queued, running or failed jobs can be cancelled
const cancelled = await backend.jobs.list({ state: "cancelled" }); // [stray]
const again = await backend.jobs.retry(stray.id); // failed or cancelled: queued again, with all its attempts
`),
  check(`expect(welcome).toMatchObject({ state: "succeeded", attempts: 1 });
expect(welcome!.history).toMatchObject([{ attempt: 1, outcome: "succeeded", error: null }]);
expect(cancelled.map((job) => job.id)).toEqual([stray.id]);
expect(again).toMatchObject({ id: stray.id, state: "queued", finishedAt: null });
`),
  example(`import { createTestBackend, drainJobs, testClock } from "cimiento/testing";

const clock = testClock("2030-01-01T06:30:00Z");
const testBackend = await createTestBackend({
  collections: { users },
  actions: { signUp },
  jobs,
  schedules: [schedule("daily-digest", "0 8 * * *", sendDigest, { period: "day" }, { timezone: "Europe/Madrid" })],
  clock,
});
await testBackend.as(null).actions.signUp({ email: "alan@example.com" });
const first = await drainJobs(testBackend); // { attempts: 1, succeeded: 1, failed: 0 }: the welcome mail

clock.advance(3_600_000); // 07:30Z: past 08:00 in Madrid (07:00Z in winter)
const second = await drainJobs(testBackend); // the digest of the day, enqueued and run
await testBackend.close();
`),
  check(`expect(first).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
expect(second).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
expect(sent).toContainEqual({ to: "alan@example.com", subject: "Welcome!" });
expect(sent.at(-1)).toEqual({ to: "team@example.com", subject: "Digest of the day" });
`),
  example(`const reports: string[] = [];
const dailyReport = job({
  input: z.undefined(),
  async handler({ tick, now }) {
    // The tick's day, even when the job runs late or again; the clock's day without a schedule.
    reports.push((tick ?? now).toISOString().slice(0, 10));
  },
});

const reportClock = testClock("2030-01-01T23:00:00Z");
const reportBackend = await createTestBackend({
  collections: { users },
  jobs: { dailyReport },
  schedules: [schedule("daily-report", "59 23 * * *", dailyReport)],
  clock: reportClock,
});
reportClock.advance(2 * 3_600_000); // 01:00 on January 2nd: the 23:59 tick is overdue
await drainJobs(reportBackend); // reports on "2030-01-01", the tick's day
await reportBackend.system.enqueue("dailyReport", undefined);
await drainJobs(reportBackend); // no tick: reports on "2030-01-02", the clock's day
await reportBackend.close();
`),
  check(`expect(reports).toEqual(["2030-01-01", "2030-01-02"]);
`),
  // The PostgreSQL of the test run, where there is one, as CI would give it.
  check(`const { postgresUrl } = (globalThis as unknown as { __cimientoDocs: { postgresUrl: string | null } }).__cimientoDocs;
if (postgresUrl !== null) process.env["TEST_DATABASE_URL"] = postgresUrl;
`),
  example(`import { sqlite } from "cimiento/sqlite";
import { testPostgres } from "cimiento/testing";

// Tests run on SQLite, and on PostgreSQL too where CI sets TEST_DATABASE_URL.
const url = process.env["TEST_DATABASE_URL"];
const testDatabase = url === undefined ? sqlite({ file: ":memory:" }) : await testPostgres({ connectionString: url });
const eitherBackend = await createTestBackend({ collections: { users }, actions: { signUp }, jobs, database: testDatabase });
await eitherBackend.as(null).actions.signUp({ email: "edsger@example.com" });
const third = await drainJobs(eitherBackend); // { attempts: 1, succeeded: 1, failed: 0 }
await eitherBackend.close(); // on PostgreSQL, drops the schema
`),
  check(`delete process.env["TEST_DATABASE_URL"];
expect(eitherBackend.dialect).toBe(postgresUrl === null ? "sqlite" : "postgres");
expect(third).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
expect(sent).toContainEqual({ to: "edsger@example.com", subject: "Welcome!" });
`),
];

describePage("docs/jobs.md", program);
