/**
 * What a refused value's issue says, for every kind of field: the value the field expects, and
 * the value it was given (a short text quoted, a long one described); a missing value is
 * "Required". A field's own zod schema (a JSON field's, say) keeps its own messages.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { ApiError, collection, createBackend, field } from "cimiento";
import { describeEachDatabase } from "../setup/dialects.js";

const owners = collection("owners", { fields: { name: field.text() } });
const things = collection("things", {
  fields: {
    text: field.text().optional(),
    integer: field.integer().optional(),
    number: field.number().optional(),
    boolean: field.boolean().optional(),
    datetime: field.datetime().optional(),
    json: field.json(z.object({ a: z.number() })).optional(),
    status: field.enum(["open", "done"]).optional(),
    owner: field.belongsTo("owners").optional(),
    slug: field.slug("text"),
    number_: field.sequence(),
    email: field.text(z.string().email()).optional(),
  },
});
const required = collection("required", {
  fields: {
    title: field.text(),
    payload: field.json(z.unknown()),
    settings: field.json(z.object({ theme: z.string() })),
    tags: field.json(z.array(z.string()).default([])), // its schema fills a missing value in
    dueAt: field.datetime(),
  },
});

const DATETIME = "an ISO 8601 date-time with a time zone (such as 2030-01-31T09:00:00Z) or a Date";

describeEachDatabase("the messages of refused field values", (db) => {
  let backend: ReturnType<typeof open>;
  let drop: () => Promise<void>;
  const open = (database: Parameters<typeof createBackend>[0]["database"]) =>
    createBackend({ database, collections: { owners, things, required } });

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    backend = open(fresh.database);
    await backend.migrate();
  });
  afterAll(async () => {
    await backend.close();
    await drop();
  });

  async function issueOf(data: Record<string, unknown>): Promise<{ path: readonly unknown[]; code: string; message: string }[]> {
    const error = await backend.system.data.things.create(data as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("VALIDATION_FAILED");
    return (error as ApiError).issues.map(({ path, code, message }) => ({ path, code, message }));
  }

  test("each kind of field says what it expects and what it got", async () => {
    const cases: [field: string, value: unknown, message: string][] = [
      ["text", 42, "Expected text (a string), received 42"],
      ["text", ["a"], "Expected text (a string), received an array"],
      ["integer", 1.5, "Expected a whole number (integer), received 1.5"],
      ["integer", "7", 'Expected a whole number (integer), received "7"'],
      ["integer", 2 ** 60, `Expected a whole number (integer) from -9007199254740991 to 9007199254740991, received ${2 ** 60}`],
      ["number", "1.5", 'Expected a finite number, received "1.5"'],
      ["number", Number.POSITIVE_INFINITY, "Expected a finite number, received Infinity"],
      ["boolean", "yes", 'Expected true or false, received "yes"'],
      ["datetime", "tomorrow", `Expected ${DATETIME}, received "tomorrow"`],
      ["datetime", "2030-01-31", `Expected ${DATETIME}, received "2030-01-31"`],
      ["datetime", "2030-01-31T09:00:00", `Expected ${DATETIME}, received "2030-01-31T09:00:00"`],
      ["datetime", 1_900_000_000_000, `Expected ${DATETIME}, received 1900000000000`],
      ["datetime", new Date("not a date"), `Expected ${DATETIME}, received an invalid Date`],
      ["datetime", "0000-12-31T00:00:00Z", "A date-time from year 1 to year 9999 is expected"],
      ["status", "closed", 'Expected one of "open", "done", received "closed"'],
      ["owner", 7, "Expected the id of a record of owners (a non-empty text), received 7"],
      ["owner", "", 'Expected the id of a record of owners (a non-empty text), received ""'],
      ["slug", "", 'Expected non-empty text (a string), received ""'],
      ["number_", "one", 'Expected a whole number (integer), received "one"'],
      ["id", "x".repeat(300), "Expected an id: a text of 1 to 255 characters, received a text of 300 characters"],
      ["createdAt", "last year", `Expected ${DATETIME}, received "last year"`],
      ["email", "not-mail", "Invalid email address"],
      ["json", "x", "Invalid input: expected object, received string"],
    ];
    const said = [];
    for (const [name, value] of cases) said.push([name, value, (await issueOf({ text: "t", [name]: value }))[0]!.message]);
    expect(said).toEqual(cases);
  });

  test("a missing required value is Required, naming what is expected; null is a value received", async () => {
    const error = await backend.system.data.required.create({ title: null } as never).then(
      () => undefined,
      (e: unknown) => e as ApiError,
    );
    expect(error?.issues).toEqual([
      { path: ["title"], code: "invalid_type", message: "Expected text (a string), received null" },
      { path: ["payload"], code: "invalid_type", message: "Required: expected a JSON value" },
      { path: ["settings"], code: "invalid_type", message: "Required: expected a JSON value" },
      { path: ["dueAt"], code: "invalid_union", message: `Required: expected ${DATETIME}` },
    ]);
  });
});
