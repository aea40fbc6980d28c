/**
 * The guard of named prepared statements on PostgreSQL, without timing anything: a statement
 * that runs again is prepared once per connection and then reused; inside transactions too;
 * the names are bounded; and a table that changes under a prepared statement does not break it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { z } from "zod";
import { action, collection, createBackend, field } from "cimiento";
import { postgres } from "cimiento/postgres";
import { StatementNames } from "../../src/dialects/postgres/named-statements.js";

const notes = collection("notes", {
  fields: { title: field.text(z.string().min(1)), views: field.integer().default(0) },
  access: { list: () => true, get: () => true, create: () => true, update: () => true },
});

const view = action({
  input: z.object({ id: z.string() }),
  access: () => true,
  async handler({ input, data }) {
    const note = await data.notes.get(input.id);
    return data.notes.update(input.id, { views: (note!.views as number) + 1 });
  },
});

test("names are given to a text the second time it runs, within a bound, never to transaction control", () => {
  const names = new StatementNames(2);
  expect(names.nameOf("select 1")).toBeUndefined();
  const one = names.nameOf("select 1");
  expect(one).toMatch(/^cimiento_/);
  expect(names.nameOf("select 1")).toBe(one);
  for (const text of ["select 2", "select 2", "select 3", "select 3"]) names.nameOf(text);
  expect(names.size).toBe(2); // "select 3" runs unnamed: the bound is reached
  expect(names.nameOf("select 3")).toBeUndefined();
  for (let i = 0; i < 3; i++) expect(names.nameOf("begin")).toBeUndefined();
  names.nameOf('alter table "notes" add column "x" text');
  expect(names.size).toBe(0); // a schema change ends the names
  names.nameOf("select 1");
  expect(names.nameOf("select 1")).not.toBe(one);
  expect(new StatementNames(0).nameOf("select 1") ?? new StatementNames(0).nameOf("select 1")).toBeUndefined();
});

const url = inject("postgresUrl");

describe.skipIf(url === null)("named statements on PostgreSQL", () => {
  const schema = `named_${process.pid}_${Date.now().toString(36)}`;
  let backend: ReturnType<typeof open>;
  let admin: pg.Client;

  function open() {
    // One connection, so that its prepared statements can be read back.
    return createBackend({ database: postgres({ connectionString: url!, schema, max: 1 }), collections: { notes }, actions: { view } });
  }

  async function prepared(): Promise<string[]> {
    const rows = await backend.db.selectFrom("pg_prepared_statements" as never).select("statement" as never).execute();
    return (rows as unknown as { statement: string }[]).map((row) => row.statement);
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url! });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    backend = open();
    await backend.migrate();
  });

  afterAll(async () => {
    await backend.close();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  });

  test("a get that runs again is prepared once and reused", async () => {
    const { id } = await backend.system.data.notes.create({ title: "a" });
    await backend.system.data.notes.get(id);
    const before = (await prepared()).filter((text) => text.includes('from "notes"'));
    expect(before).toEqual([]); // seen once: not named yet
    for (let i = 0; i < 5; i++) expect(await backend.system.data.notes.get(id)).toMatchObject({ id, title: "a" });
    const after = await prepared();
    expect(after.filter((text) => text.includes('from "notes"') && text.includes('"id" = $1'))).toHaveLength(1);
    for (let i = 0; i < 5; i++) await backend.system.data.notes.get(id);
    expect(await prepared()).toEqual(after);
  });

  test("inside transactions, the read and the update of an action are named and reused", async () => {
    const { id } = await backend.system.data.notes.create({ title: "b" });
    for (let i = 0; i < 4; i++) await backend.system.actions.view({ id });
    expect(await backend.system.data.notes.get(id)).toMatchObject({ views: 4 });
    const statements = await prepared();
    expect(statements.filter((text) => text.startsWith('update "notes"'))).toHaveLength(1);
    expect(statements.some((text) => /^(begin|commit)/i.test(text))).toBe(false);
  });

  test("a table changed by another connection under a prepared insert: the insert still runs", async () => {
    for (let i = 0; i < 3; i++) await backend.system.data.notes.create({ title: `c${i}` });
    expect((await prepared()).some((text) => text.startsWith('insert into "notes"'))).toBe(true);
    await admin.query(`alter table "${schema}"."notes" add column "extra" text`);
    const created = await backend.system.data.notes.create({ title: "after the change" });
    expect(created).toMatchObject({ title: "after the change" });
    expect(await backend.system.data.notes.get(created.id)).toMatchObject({ title: "after the change" });
  });
});
