// Time-range parsing and the split of a range into the UTC days the calls indexes are keyed by.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { isoSeconds, parseRange, parseTime, utcDays } from '../../cli/time.js';

describe('parseTime', () => {
  it.each([
    ['UNIX seconds', '1646389735', 'start', 1646389735],
    ['a date, as a start, at midnight UTC', '2022-03-04', 'start', 1646352000],
    ['a date, as an end, at its last second', '2022-03-04', 'end', 1646438399],
    ['a datetime without a zone, as UTC', '2022-03-04T10:28:55', 'start', 1646389735],
    ['a datetime in UTC', '2022-03-04T10:28:55Z', 'end', 1646389735],
    ['a datetime with an offset', '2022-03-04T11:28:55+01:00', 'start', 1646389735],
    ['a datetime to the minute', '2022-03-04T10:28Z', 'start', 1646389680],
    ['a datetime with milliseconds, floored', '2022-03-04T10:28:55.900Z', 'start', 1646389735],
  ] as const)('reads %s', (_case, text, edge, expected) => {
    expect(parseTime(text, edge)).toBe(expected);
  });

  it.each([
    ['a word', 'yesterday'],
    ['a date that does not exist', '2022-02-30'],
    ['a datetime on a date that does not exist', '2022-02-30T10:00:00Z'],
    ['a month that does not exist', '2022-13-01'],
    ['milliseconds', '1646389735000'],
    ['a negative number', '-5'],
    ['an empty string', ''],
  ])('refuses %s with a usage error', (_case, text) => {
    expect(() => parseTime(text, 'start')).toThrow(UsageError);
  });
});

describe('parseRange', () => {
  const now = new Date('2022-03-05T12:00:00Z');

  it('covers the seven days up to now when neither end is given', () => {
    expect(parseRange(undefined, undefined, now)).toEqual({ from: 1646481600 - 7 * 86_400, to: 1646481600 });
  });

  it('runs from seven days before --to when only --to is given', () => {
    expect(parseRange(undefined, '2022-03-04', now)).toEqual({
      from: 1646438399 - 7 * 86_400,
      to: 1646438399,
    });
  });

  it('runs to now when only --from is given', () => {
    expect(parseRange('2022-03-04', undefined, now)).toEqual({ from: 1646352000, to: 1646481600 });
  });

  it('takes one whole day when --from and --to name the same date', () => {
    expect(parseRange('2022-03-04', '2022-03-04', now)).toEqual({ from: 1646352000, to: 1646438399 });
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => parseRange('2022-03-05', '2022-03-04', now)).toThrow('--from is after --to');
  });
});

describe('utcDays', () => {
  it('gives the one day of a range within a day', () => {
    expect(utcDays({ from: 1646389735, to: 1646389786 })).toEqual(['2022-03-04']);
  });

  it('gives every day a range touches, the partial first and last ones included', () => {
    expect(utcDays({ from: 1646438399, to: 1646611200 })).toEqual([
      '2022-03-04',
      '2022-03-05',
      '2022-03-06',
      '2022-03-07',
    ]);
  });

  it('crosses month and leap-year ends', () => {
    expect(utcDays({ from: parseTime('2024-02-28', 'start'), to: parseTime('2024-03-01', 'end') })).toEqual([
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
  });

  it('refuses a range of more than ten years of days', () => {
    expect(() => utcDays({ from: 0, to: 3_661 * 86_400 })).toThrow(UsageError);
  });
});

describe('isoSeconds', () => {
  it('writes UNIX seconds as ISO 8601 without milliseconds', () => {
    expect(isoSeconds(1646389735)).toBe('2022-03-04T10:28:55Z');
  });
});
