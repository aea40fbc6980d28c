/**
 * @internal Reading the datetimes SQLite holds: ISO 8601 text in UTC with milliseconds, as
 * `Date.prototype.toISOString()` writes it (`2026-03-01T12:00:00.000Z`), read by hand; V8's date
 * parser takes several times as long for the same text.
 * @module
 */

/** The number of `count` decimal digits of `text` at `start`; -1 when one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The `Date` of `text`, exactly as `new Date(text)` makes it: text in the form `toISOString()`
 * writes for the years 1000 to 9999 is read by hand, any other (another form, an invalid date)
 * is left to `new Date`.
 */
export function dateOf(text: string): Date {
  if (
    text.length === 24 &&
    text.charCodeAt(4) === 45 && // -
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 && // T
    text.charCodeAt(13) === 58 && // :
    text.charCodeAt(16) === 58 &&
    text.charCodeAt(19) === 46 && // .
    text.charCodeAt(23) === 90 // Z
  ) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    const millisecond = digits(text, 20, 3);
    if (
      year >= 1000 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysIn(year, month) &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      millisecond >= 0
    ) {
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
    }
  }
  return new Date(text);
}
