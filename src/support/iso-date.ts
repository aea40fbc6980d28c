/**
 * @internal Reading the datetimes SQLite holds: ISO 8601 text in UTC with milliseconds, as
 * `Date.prototype.toISOString()` writes it (`2026-03-01T12:00:00.000Z`), read by hand; V8's date
 * parser takes several times as long for the same text.
 * @module
 */

/** The two decimal digits of `text` at `at`; -1 when one is not a digit. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  // An unsigned shift makes a code below "0" a large number: one comparison per digit.
  return tens >>> 0 > 9 || ones >>> 0 > 9 ? -1 : tens * 10 + ones;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's
 * `days_from_civil`), for years from 1 on: what `Date.UTC` computes, in a few operations.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
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
    const century = twoDigits(text, 0);
    const ofCentury = twoDigits(text, 2);
    const month = twoDigits(text, 5);
    const day = twoDigits(text, 8);
    const hour = twoDigits(text, 11);
    const minute = twoDigits(text, 14);
    const second = twoDigits(text, 17);
    const hundreds = text.charCodeAt(20) - 48;
    const rest = twoDigits(text, 21);
    const year = century * 100 + ofCentury;
    if (
      century >= 10 &&
      ofCentury >= 0 &&
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
      hundreds >>> 0 <= 9 &&
      rest >= 0
    ) {
      const seconds = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second;
      return new Date(seconds * 1000 + hundreds * 100 + rest);
    }
  }
  return new Date(text);
}
