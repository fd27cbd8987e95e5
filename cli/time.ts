// Reads the --from/--to times users type and splits a range into the UTC days the calls indexes are keyed by.

import { DAY_SECONDS, utcDay } from '../lib/definitions/days.js';
import { UsageError } from './errors.js';

/** What `calls` covers when neither --from nor --to is given. */
export const DEFAULT_RANGE_DAYS = 7;
/** A day-keyed listing costs one Query per day; past ten years the user surely meant a narrower range. */
export const MAX_RANGE_DAYS = 3_660;
// Epoch seconds stay below this until the year 5138; a larger number is milliseconds typed by mistake.
const MAX_EPOCH_SECONDS = 1e11;

/** An inclusive range of UNIX seconds, as `started_at` is stored. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** Which end of a range a time is for: a bare date means the start of that day, or its last second. */
export type RangeEdge = 'start' | 'end';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const utcMidnight = (date: string): number | undefined => {
  const match = DATE.exec(date);
  if (match === null) return undefined;
  const seconds = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / 1000;
  // Date.UTC rolls 2022-02-30 over into March; a date that does not come back unchanged does not exist.
  return utcDay(seconds) === date ? seconds : undefined;
};

/** Epoch seconds from UNIX seconds, an ISO date (UTC) or an ISO datetime (UTC unless it carries an offset). */
export const parseTime = (text: string, edge: RangeEdge): number => {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    if (seconds >= MAX_EPOCH_SECONDS)
      throw new UsageError(`"${text}" looks like milliseconds: give UNIX seconds`);
    return seconds;
  }
  const midnight = utcMidnight(value);
  if (midnight !== undefined) return edge === 'start' ? midnight : midnight + DAY_SECONDS - 1;
  const datetime = DATETIME.exec(value);
  if (datetime !== null && datetime[1] !== undefined && utcMidnight(datetime[1]) !== undefined) {
    const zoned = datetime[4] === undefined ? `${value}Z` : value;
    const millis = Date.parse(zoned);
    if (!Number.isNaN(millis)) return Math.floor(millis / 1000);
  }
  throw new UsageError(
    `"${text}" is not a time: give UNIX seconds, a date (2022-03-04) or a datetime (2022-03-04T10:30:00Z)`,
  );
};

/** The range --from/--to describe; either may be left out, and by default it is the last seven days. */
export const parseRange = (from: string | undefined, to: string | undefined, now: Date): TimeRange => {
  const end = to === undefined ? Math.floor(now.getTime() / 1000) : parseTime(to, 'end');
  const start = from === undefined ? end - DEFAULT_RANGE_DAYS * DAY_SECONDS : parseTime(from, 'start');
  if (start > end) throw new UsageError('--from is after --to');
  return { from: start, to: end };
};

/** Every UTC day the range touches, oldest first, in the `started_day` format of the calls table. */
export const utcDays = (range: TimeRange): string[] => {
  const first = Math.floor(range.from / DAY_SECONDS);
  const last = Math.floor(range.to / DAY_SECONDS);
  if (last - first + 1 > MAX_RANGE_DAYS) {
    throw new UsageError(`the range spans more than ${MAX_RANGE_DAYS} days: narrow --from/--to`);
  }
  const days: string[] = [];
  for (let day = first; day <= last; day += 1) days.push(utcDay(day * DAY_SECONDS));
  return days;
};

/** `2022-03-04T10:28:55Z`: ISO 8601 at the precision Aircall's timestamps have. */
export const isoSeconds = (epochSeconds: number): string =>
  new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
