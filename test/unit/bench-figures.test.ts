// The bench's pure parts: its arguments, order statistics, DynamoDB's sizing rule and the cost arithmetic.
import { describe, expect, it } from 'vitest';
import { benchSizes, parseBenchArgs } from '../../bench/args.js';
import { costPerMillionEvents, PRICES } from '../../bench/cost.js';
import { type Figures, rows } from '../../bench/report.js';
import { median, percentile } from '../../bench/stats.js';
import { indexEntry, itemSize, numberSize, valueSize, writeUnits } from '../../bench/wru.js';
import { TABLES } from '../../lib/definitions/tables.js';

describe('parseBenchArgs', () => {
  it('reads --quick and --json with its file, in either form', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, jsonPath: undefined });
    expect(parseBenchArgs(['--quick', '--json', 'out.json'])).toEqual({ quick: true, jsonPath: 'out.json' });
    expect(parseBenchArgs(['--json=out.json'])).toEqual({ quick: false, jsonPath: 'out.json' });
  });

  it('refuses --json without a file and any unknown argument', () => {
    expect(() => parseBenchArgs(['--json'])).toThrow(/--json needs a file name/);
    expect(() => parseBenchArgs(['--json', '--quick'])).toThrow(/--json needs a file name/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
  });

  it('runs 7 cold starts in a quick run and 15 in a full one', () => {
    expect(benchSizes(true).coldRuns).toBe(7);
    expect(benchSizes(false).coldRuns).toBe(15);
    expect(benchSizes(true).concurrency).toBe(16);
  });
});

describe('percentile and median', () => {
  it('takes the nearest rank of unsorted samples', () => {
    const samples = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(samples, 0.5)).toBe(5);
    expect(percentile(samples, 0.99)).toBe(10);
    expect(percentile(samples, 0.1)).toBe(1);
  });

  it('takes the middle sample, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('answers NaN for no samples', () => {
    expect(percentile([], 0.5)).toBeNaN();
    expect(median([])).toBeNaN();
  });
});

describe('DynamoDB item sizing', () => {
  it('counts a number by its significant digits, zeros trimmed at both ends', () => {
    expect(numberSize('123')).toBe(3);
    expect(numberSize('1200000')).toBe(2);
    expect(numberSize('-0.00125')).toBe(3);
    expect(numberSize('1760000000')).toBe(3);
  });

  it('counts names and values, 3 bytes per map or list and 1 per element', () => {
    expect(valueSize({ S: 'héllo' })).toBe(6);
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
    expect(valueSize({ L: [{ S: 'ab' }, { N: '1' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueSize({ M: { k: { S: 'v' } } })).toBe(3 + 1 + 1 + 1);
    expect(itemSize({ id: { N: '42' }, name: { S: 'abc' } })).toBe(2 + 2 + 4 + 3);
  });

  it('bills a write unit per started kilobyte, at least one', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });

  it('keeps in an index entry the keys and what the index projects, and nothing for an item without its keys', () => {
    const call = {
      id: { N: '1' },
      account: { S: 'acme' },
      started_at: { N: '1760000000' },
      account_day: { S: 'acme#2025-10-09' },
      user_id: { N: '7' },
      data_z: { B: new Uint8Array(1500) },
    };
    const index = (name: string) => {
      const found = TABLES.calls.indexes.find((candidate) => candidate.indexName === name);
      if (found === undefined) throw new Error(`no ${name} index`);
      return found;
    };
    // Keys only: the table's key and the index's own.
    expect(indexEntry(call, TABLES.calls, index('by_account_day'))).toEqual({
      id: call.id,
      account_day: call.account_day,
      started_at: call.started_at,
    });
    // Sparse: a call that is not missed has no entry.
    expect(indexEntry(call, TABLES.calls, index('missed_by_account_day'))).toBeUndefined();
  });
});

describe('costPerMillionEvents', () => {
  const inputs = {
    writeUnitsPerEvent: 2,
    messageBytes: 2000,
    ingestMemoryMb: 512,
    ingestMs: 9.2,
    persistMemoryMb: 512,
    persistBatchSize: 25,
    persistBatchMs: 500,
  };

  it('adds DynamoDB, SQS, Lambda and the HTTP API at list prices', () => {
    const cost = costPerMillionEvents(inputs);
    expect(cost.dynamodb).toBeCloseTo(1.25, 10);
    // One send, and a receive and a delete per ten messages.
    expect(cost.sqs).toBeCloseTo(1.2 * 0.4, 10);
    // Ingest billed 10 ms at half a GB and its request; persist's 500 ms and request shared by 25 events.
    const ingest = 0.01 * 0.5 * PRICES.lambdaArmPerGbSecond * 1e6 + 0.2;
    const persist = (0.5 * 0.5 * PRICES.lambdaArmPerGbSecond * 1e6 + 0.2) / 25;
    expect(cost.lambda).toBeCloseTo(ingest + persist, 10);
    expect(cost.total).toBeCloseTo(cost.dynamodb + cost.sqs + cost.lambda + 1, 10);
    expect(cost.totalFunctionUrl).toBeCloseTo(cost.total - 1, 10);
  });

  it('bills SQS per 64 KB chunk of a message', () => {
    const large = costPerMillionEvents({ ...inputs, messageBytes: 70_000 });
    // A send of two chunks; a receive of ten such messages is 11 chunks.
    expect(large.sqs).toBeCloseTo((2 + (2 * 11) / 10) * 0.4, 10);
  });
});

describe('rows', () => {
  it('marks a ratio above its target missed and one within it met', () => {
    const figures: Figures = {
      ingest: {
        bundle_bytes: 1300,
        floor_bundle_bytes: 1000,
        cold_ms: 140,
        floor_cold_ms: 100,
        handler_us_p50: 15,
        handler_us_p99: 40,
        floor_handler_us_p50: 10,
      },
      pipeline: {
        sent: 10,
        accepted_per_s: 60,
        p50_ms: 5,
        p99_ms: 100,
        persisted: 10,
        lost: 0,
        queue_floor_per_s: 100,
      },
      persist: { events_per_s: 39, db_floor_per_s: 100, wru_per_event: 3 },
      cost: { usd_per_million_events: 3.5, usd_per_million_events_function_url: 2.51 },
    };
    const met = Object.fromEntries(rows(figures).map((row) => [row.measure.split(' (')[0], row.met]));
    expect(met).toMatchObject({
      'ingest bundle': true,
      'ingest cold start': false,
      'ingest warm handler p50': true,
      'pipeline accepted': true,
      'pipeline answer p99': false,
      'pipeline lost': true,
      persist: false,
      'DynamoDB WRU per event': true,
      'cost per million events, HTTP API': true,
      'cost per million events, function URL': false,
    });
  });
});
