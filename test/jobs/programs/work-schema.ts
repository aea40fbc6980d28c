/**
 * The backend of the worker processes and of the tests that start them: a job that records each
 * execution (before its work, so a killed attempt shows) and then works for `ms`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { collection, createBackend, field, job, type Logger } from "cimiento";
import { open, type Connection } from "./connection.js";

export const executions = collection("executions", {
  fields: { jobId: field.text().index(), attempt: field.integer(), worker: field.text() },
});

export const work = job({
  input: z.object({ n: z.number(), ms: z.number() }),
  retries: 20,
  backoff: { initial: 10, max: 50 },
  async handler({ id, attempt, input, system }) {
    await system.data.executions.create({ jobId: id, attempt, worker: String(process.pid) });
    if (input.ms > 0) await sleep(input.ms);
  },
});

/** A backend of the shared database. */
export function workBackend(connection: Connection, logger: Logger) {
  return createBackend({ database: open(connection), collections: { executions }, jobs: { work }, logger });
}
