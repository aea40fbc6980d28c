/**
 * Answers write `Date`s with a formatter of their own, faster than `JSON.stringify`'s: the text
 * must be the same, and the data the answer was made from must not change.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { isoString, withIsoDates } from "../../src/support/iso-json.js";
import { sqlite } from "../../src/dialects/sqlite/index.js";

test("a Date is written as JSON.stringify writes it, for every time, invalid ones included", () => {
  fc.assert(
    fc.property(fc.date({ noInvalidDate: false }), (date) => {
      expect(JSON.stringify(isoString(date))).toBe(JSON.stringify(date));
    }),
    { numRuns: 2000 },
  );
  for (const date of [new Date(0), new Date("0999-12-31T23:59:59.999Z"), new Date("+010000-01-01T00:00:00.000Z"), new Date(-1), new Date(Number.NaN)]) {
    expect(JSON.stringify(isoString(date))).toBe(JSON.stringify(date));
  }
});

/** JSON-like values with Dates among them, and class instances and toJSON objects left alone. */
const withDates = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 1 }),
    fc.date({ noInvalidDate: false }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 4 }),
    fc.constant({ toJSON: () => "own toJSON", at: new Date(5) }),
    fc.constant(new URL("https://example.com/a")),
  ),
})).value;

test("the text of any value is the same, and the value is not changed", () => {
  fc.assert(
    fc.property(withDates, (value) => {
      const before = JSON.stringify(value);
      expect(JSON.stringify(withIsoDates(value))).toBe(before);
      expect(JSON.stringify(value)).toBe(before);
    }),
    { numRuns: 1000 },
  );
});

test("values without a Date are returned as they are; a key named __proto__ stays data", () => {
  const page = { items: [{ id: "a", tags: ["x"], n: 1 }], nextCursor: null };
  expect(withIsoDates(page)).toBe(page);
  const tricky = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
  (tricky["__proto__"] as Record<string, unknown>)["at"] = new Date(0);
  const plain = withIsoDates(tricky) as Record<string, unknown>;
  expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
  expect(JSON.stringify(plain)).toBe('{"__proto__":{"x":1,"at":"1970-01-01T00:00:00.000Z"}}');
});

test("SQLite stores a datetime as toISOString() writes it, and refuses an invalid Date as toISOString() does", async () => {
  const runtime = sqlite({ file: ":memory:" }).open();
  try {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        expect(runtime.encode("datetime", date)).toBe(date.toISOString());
      }),
      { numRuns: 2000 },
    );
    expect(() => runtime.encode("datetime", new Date(Number.NaN))).toThrow(RangeError);
  } finally {
    await runtime.kysely.destroy();
  }
});
