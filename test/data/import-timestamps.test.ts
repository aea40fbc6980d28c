/**
 * Importing records: the system scope may give `createdAt` and `updatedAt` on create (create,
 * createMany, upsert's create, with or without a `beforeCreate` hook); callers may not, and no
 * one may on update.
 */
import { afterEach, beforeEach, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";
import { failure } from "../setup/failure.js";

const notes = collection("notes", {
  fields: { title: field.text().unique() },
  access: { list: () => true, get: () => true, create: () => true, update: () => true },
  clientIds: true,
});
const stamped = collection("stamped", {
  fields: { title: field.text(), origin: field.text().optional() },
  access: { list: () => true, get: () => true, create: () => true },
  hooks: { beforeCreate: ({ data }) => ({ ...data, origin: "hook" }) },
});

const CREATED = new Date("2019-05-01T08:00:00.000Z");
const UPDATED = new Date("2021-11-30T17:45:00.000Z");

describeEachDatabase("importing records with their timestamps", (db) => {
  let drop: () => Promise<void>;
  let backend: ReturnType<typeof open>;
  const open = (database: Parameters<typeof createBackend>[0]["database"]) => createBackend({ database, collections: { notes, stamped } });

  beforeEach(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = open(fresh.database);
    await backend.migrate();
  });
  afterEach(async () => {
    await backend.close();
    await drop();
  });

  test("the system scope's create keeps the createdAt and updatedAt it gives, as Dates or ISO strings", async () => {
    const note = await backend.system.data.notes.create({ title: "old", createdAt: CREATED, updatedAt: UPDATED.toISOString() });
    expect(note).toMatchObject({ createdAt: CREATED, updatedAt: UPDATED });
    expect(await backend.system.data.notes.get(note.id)).toEqual(note);
  });

  test("a createdAt alone is the updatedAt too; without either, both are the time of the create", async () => {
    const imported = await backend.system.data.notes.create({ title: "imported", createdAt: "2019-05-01T10:00:00+02:00" });
    expect(imported).toMatchObject({ createdAt: CREATED, updatedAt: CREATED });
    const before = Date.now();
    const fresh = await backend.system.data.notes.create({ title: "fresh" });
    expect(fresh.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(fresh.updatedAt).toEqual(fresh.createdAt);
  });

  test("createMany and upsert's create keep them too, and the records sort by them", async () => {
    const many = await backend.system.data.notes.createMany([
      { title: "second", createdAt: UPDATED },
      { title: "first", createdAt: CREATED, updatedAt: UPDATED },
    ]);
    expect(many.map((note) => [note.title, note.createdAt, note.updatedAt])).toEqual([
      ["second", UPDATED, UPDATED],
      ["first", CREATED, UPDATED],
    ]);
    const upserted = await backend.system.data.notes.upsert({ where: { title: "third" }, create: { title: "third", createdAt: CREATED }, update: {} });
    expect(upserted).toMatchObject({ createdAt: CREATED, updatedAt: CREATED });
    const page = await backend.system.data.notes.list({ orderBy: [{ createdAt: "asc" }, { title: "asc" }] });
    expect(page.items.map((note) => note.title)).toEqual(["first", "third", "second"]);
  });

  test("with a beforeCreate hook, the given timestamps are kept", async () => {
    const record = await backend.system.data.stamped.create({ title: "hooked", createdAt: CREATED });
    expect(record).toMatchObject({ origin: "hook", createdAt: CREATED, updatedAt: CREATED });
  });

  test("a timestamp that is not a date-time is a field issue, and nothing is written", async () => {
    const error = await failure(backend.system.data.notes.create({ title: "bad", createdAt: "yesterday" }));
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.issues.map((issue) => issue.path)).toEqual([["createdAt"]]);
    expect(await backend.system.data.notes.count()).toBe(0);
  });

  test("callers are refused createdAt and updatedAt as unknown fields (also where they choose ids), and nothing is written", async () => {
    const caller = backend.as({ id: "u1", role: "member" });
    const data = { title: "forged", createdAt: CREATED, updatedAt: UPDATED } as never;
    for (const attempt of [
      () => caller.data.notes.create(data),
      () => caller.data.notes.createMany([data]),
      () => caller.data.notes.upsert({ where: { title: "forged" }, create: data, update: {} }),
      () => caller.data.stamped.create(data),
    ]) {
      const error = await failure(attempt());
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.issues.map((issue) => [issue.path.at(-1), issue.code, issue.message])).toEqual([
        ["createdAt", "unrecognized_keys", 'Unknown field "createdAt"'],
        ["updatedAt", "unrecognized_keys", 'Unknown field "updatedAt"'],
      ]);
    }
    expect(await backend.system.data.notes.count()).toBe(0);
    expect(await backend.system.data.stamped.count()).toBe(0);
  });

  test("no one sets timestamps on update: they are unknown fields there, for the system scope too", async () => {
    const note = await backend.system.data.notes.create({ title: "kept", createdAt: CREATED });
    const error = await failure(backend.system.data.notes.update(note.id, { createdAt: UPDATED } as never));
    expect(error.issues).toEqual([{ path: ["createdAt"], code: "unrecognized_keys", message: 'Unknown field "createdAt"' }]);
    expect(await backend.system.data.notes.get(note.id)).toEqual(note);
  });
});
