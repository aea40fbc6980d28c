import { describe, expect, it } from "vitest";
import { dateOf } from "../../src/support/iso-date.js";

/** The time `new Date(text)` gives, NaN for an invalid date (as `getTime()` says). */
const expected = (text: string) => new Date(text).getTime();

describe("reading stored datetimes", () => {
  it("reads toISOString()'s text to the same instant as new Date, over four thousand years of random times", () => {
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const from = Date.UTC(1000, 0, 1);
    const to = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 20000; i++) {
      const text = new Date(from + Math.floor(random() * (to - from))).toISOString();
      expect(dateOf(text).getTime(), text).toBe(expected(text));
    }
  });

  it("reads the edges of months, leap days and the last millisecond of a day alike", () => {
    for (const text of [
      "2024-02-29T00:00:00.000Z",
      "2000-02-29T23:59:59.999Z",
      "2026-12-31T23:59:59.999Z",
      "2026-01-01T00:00:00.000Z",
      "1000-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.999Z",
      "2026-04-30T12:00:00.000Z",
    ]) {
      expect(dateOf(text).getTime(), text).toBe(expected(text));
      expect(dateOf(text).toISOString()).toBe(text);
    }
  });

  it("leaves what is not a valid date of that form to new Date: invalid days and times, other forms", () => {
    for (const text of [
      "2023-02-29T00:00:00.000Z", // not a leap year
      "1900-02-29T00:00:00.000Z", // a century that is not
      "2026-04-31T00:00:00.000Z",
      "2026-13-01T00:00:00.000Z",
      "2026-00-10T00:00:00.000Z",
      "2026-01-00T00:00:00.000Z",
      "2026-01-01T24:00:00.000Z",
      "2026-01-01T23:60:00.000Z",
      "2026-01-01T23:59:60.000Z",
      "2026-01-01T12:00:00.000z",
      "2026-01-01T12:00:00.000+01:00",
      "2026-01-01 12:00:00.000Z",
      "2026-01-01T12:00:00Z",
      "2026-01-01",
      "0999-12-31T23:59:59.999Z",
      "0050-06-01T00:00:00.000Z",
      "２026-01-01T12:00:00.000Z",
      "2026-0a-01T12:00:00.000Z",
      "+012026-01-01T00:00:00.000Z",
      "not a date at all, but 24 ch",
      "",
    ]) {
      const time = dateOf(text).getTime();
      if (Number.isNaN(expected(text))) expect(time, text).toBeNaN();
      else expect(time, text).toBe(expected(text));
    }
  });
});
