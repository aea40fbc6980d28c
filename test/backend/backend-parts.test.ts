/**
 * What the entries reach of a backend past its public API: `toHono` and `toNodeHandler` its app,
 * `drainJobs` its jobs. Each backend has its own; anything `createBackend` did not make is
 * refused with a clear error.
 */
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, job, type DatabaseAdapter } from "cimiento";
import { toHono } from "cimiento/hono";
import { toNodeHandler } from "cimiento/node";
import { drainJobs } from "cimiento/testing";
import { describeEachDatabase } from "../setup/dialects.js";

const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true } });
const done: string[] = [];
const record = job({ input: z.object({ text: z.string() }), handler: ({ input }) => void done.push(input.text) });

describe("the parts of a backend", () => {
  test("toHono, toNodeHandler and drainJobs refuse an object that createBackend did not make", () => {
    const lookalike = { fetch: async () => new Response(null), jobs: {} };
    const refusal = new TypeError("Not a backend made by createBackend().");
    expect(() => toHono(lookalike)).toThrow(refusal);
    expect(() => toNodeHandler(lookalike)).toThrow(refusal);
    expect(() => drainJobs(lookalike)).toThrow(refusal);
  });
});

describeEachDatabase("the parts of a backend", (db) => {
  test("two backends reach each its own app and its own jobs", async () => {
    const [first, second] = await Promise.all([db.fresh(), db.fresh()]);
    const withNotes = createBackend({ database: first.database, collections: { notes }, jobs: { record } });
    const without = createBackend({ database: second.database as DatabaseAdapter, collections: {}, jobs: { record } });
    try {
      await withNotes.migrate();
      await without.migrate();
      expect((await toHono(withNotes).request("/collections/notes/records")).status).toBe(200);
      expect((await toHono(without).request("/collections/notes/records")).status).toBe(404);

      done.length = 0;
      await withNotes.system.enqueue("record", { text: "for the first" });
      expect(await drainJobs(without)).toEqual({ attempts: 0, succeeded: 0, failed: 0 });
      expect(await drainJobs(withNotes)).toEqual({ attempts: 1, succeeded: 1, failed: 0 });
      expect(done).toEqual(["for the first"]);
    } finally {
      await withNotes.close();
      await without.close();
      await first.drop();
      await second.drop();
    }
  });
});
