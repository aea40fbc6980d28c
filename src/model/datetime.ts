/**
 * The date-times every database stores alike: from year 1 to year 9999 (PostgreSQL's
 * `timestamptz` and JavaScript's `Date` both reach further, but not to the same places).
 * @module
 */

/** The earliest date-time a field, a filter or a cursor may hold: 0001-01-01T00:00:00.000Z. */
export const EARLIEST_DATETIME = Date.parse("0001-01-01T00:00:00.000Z");
/** The latest: 9999-12-31T23:59:59.999Z. */
export const LATEST_DATETIME = Date.parse("9999-12-31T23:59:59.999Z");

/** Why a date-time was refused (a field issue's message). */
export const DATETIME_OUT_OF_RANGE = "A date-time from year 1 to year 9999 is expected";

/** Whether a date is valid and within the range every database stores. */
export function storableDate(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_DATETIME && time <= LATEST_DATETIME;
}
