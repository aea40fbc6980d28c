/**
 * The application the reliability suites run in child processes: notes written by an action
 * that writes a batch of them and enqueues a job in one transaction, on a SQLite file or a
 * PostgreSQL schema.
 */
import { z } from "zod";
import { action, collection, createBackend, field, job, type Logger } from "cimiento";
import { open, type Connection } from "../../jobs/programs/connection.js";

export const notes = collection("notes", {
  fields: { batch: field.text(), text: field.text() },
  indexes: [["batch"], ["createdAt"]],
  access: { list: () => true, get: () => true, create: () => true },
});

/** What the job of a batch records: that it ran, once per batch. */
export const receipts = collection("receipts", {
  fields: { batch: field.text().unique() },
  access: { list: () => true },
});

/**
 * Enqueued with every batch, in its transaction. Idempotent, as a handler must be: after a
 * crash it may run again.
 */
export const receipt = job({
  input: z.object({ batch: z.string() }),
  // An attempt cut by a killed worker counts as one (outcome "lost"); the crash suite kills the
  // same jobs' workers many times over.
  retries: 100,
  async handler({ input, system }) {
    const done = await system.data.receipts.list({ where: { batch: input.batch }, limit: 1 });
    if (done.items.length === 0) await system.data.receipts.create({ batch: input.batch });
  },
});

/** Writes `size` notes of one batch and enqueues its receipt, in one transaction; waits `pause` ms inside it first. */
export const writeBatch = action({
  input: z.object({ batch: z.string(), size: z.number().int().min(1).max(20), pause: z.number().int().min(0).max(1000).default(0) }),
  access: () => true,
  async handler({ input, data, enqueue }) {
    if (input.pause > 0) await new Promise((resolve) => setTimeout(resolve, input.pause));
    for (let i = 0; i < input.size; i++) await data.notes.create({ batch: input.batch, text: `${input.batch}/${i}` });
    await enqueue("receipt", { batch: input.batch });
    return { batch: input.batch, written: input.size };
  },
});

/** The app on `connection`; what it cannot throw to a caller goes to `logger` (stderr by default). */
export function appBackend(connection: Connection, logger?: Logger) {
  return createBackend({
    database: open(connection),
    collections: { notes, receipts },
    actions: { writeBatch },
    jobs: { receipt },
    logger: logger ?? { error: (message, details) => console.error(message, details ?? ""), warn: (message, details) => console.error(message, details ?? "") },
  });
}
