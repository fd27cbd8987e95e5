// `replay` with fakes: rows rebuilt into the envelopes persist reads (compressed payloads too), read through each
// account's receipts of each day, nothing sent on a dry run, and the arguments it refuses.

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type ReplayedEvent,
  type ReplaySink,
  replay,
  replayedEvent,
  replayMessage,
  type StoredEvents,
} from '../../cli/commands/replay.js';
import type { Item } from '../../cli/queries.js';
import { run } from '../../cli/run.js';
import { ExactInteger } from '../../lib/definitions/json.js';
import { encodePayload } from '../../lib/definitions/payload.js';
import { recordingIo } from './io.js';

const DAY_MS = 86_400_000;
// 2022-03-04T00:00:00Z
const MARCH_4 = Date.UTC(2022, 2, 4);

const row = (n: number, account: string, receivedAt: number, payload: Item = { data: { id: n } }): Item => ({
  pk: `call#${n}`,
  sk: `1646352000#1#call.created#digest${n}`,
  account,
  resource: 'call',
  event: 'call.created',
  timestamp: 1646352000 + n,
  received_at: receivedAt,
  ...payload,
});

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** An events table in memory: receipts list by account, day and range, pages of two; rows come back by key, reversed. */
const fakeEvents = (rows: readonly Item[]) => {
  const queried: string[] = [];
  const events: StoredEvents = {
    async *receivedOn({ account, day, fromMs, toMs }) {
      queried.push(`${account} ${day}`);
      const listed = rows
        .filter(
          (r) =>
            r.account === account &&
            dayOf(Number(r.received_at)) === day &&
            Number(r.received_at) >= fromMs &&
            Number(r.received_at) <= toMs,
        )
        .map((r) => ({ pk: String(r.pk), sk: String(r.sk), account, received_at: Number(r.received_at) }));
      for (let i = 0; i < listed.length; i += 2) yield listed.slice(i, i + 2);
    },
    rows: async (keys) => rows.filter((r) => keys.some((k) => k.pk === r.pk && k.sk === r.sk)).reverse(),
  };
  return { events, queried };
};

const recordingSink = () => {
  const sent: ReplayedEvent[] = [];
  const sink: ReplaySink = { send: async (events) => void sent.push(...events) };
  return { sink, sent };
};

const march = { from: MARCH_4 / 1000, to: (MARCH_4 + 2 * DAY_MS) / 1000 - 1 };

describe('replayedEvent', () => {
  it('rebuilds the envelope with the row own account and receive time', () => {
    expect(replayedEvent(row(1, 'acme', MARCH_4 + 5))).toEqual({
      envelope: { resource: 'call', event: 'call.created', timestamp: 1646352001, data: { id: 1 } },
      account: 'acme',
      receivedAt: MARCH_4 + 5,
    });
  });

  it.each([
    [
      'compressed',
      { data_z: encodePayload({ id: 2, big: new ExactInteger('123456789012345678901') }).data_z },
    ],
    ['gzipped, as an older layout stored it', { data_gz: gzipSync('{"id":2,"big":123456789012345678901}') }],
  ])('reads a %s payload, integers beyond 2^53 with their digits', (_form, payload) => {
    const event = replayedEvent(row(2, 'acme', MARCH_4, payload));
    expect(event === undefined ? undefined : replayMessage(event, '0').body).toBe(
      '{"resource":"call","event":"call.created","timestamp":1646352002,"data":{"id":2,"big":123456789012345678901}}',
    );
  });

  it('leaves out a timestamp the event did not have, and refuses a row without a payload', () => {
    const { timestamp: _timestamp, ...untimed } = row(3, 'acme', MARCH_4);
    expect(replayedEvent(untimed)?.envelope).not.toHaveProperty('timestamp');
    const { data: _data, ...empty } = row(4, 'acme', MARCH_4);
    expect(replayedEvent(empty)).toBeUndefined();
  });
});

describe('replayMessage', () => {
  it('carries the account and the row own received_at as persist reads them', () => {
    const event = replayedEvent(row(1, 'acme', MARCH_4 + 7));
    expect(event === undefined ? undefined : replayMessage(event, 'x').attributes).toEqual({
      account: { DataType: 'String', StringValue: 'acme' },
      received_at: { DataType: 'Number', StringValue: String(MARCH_4 + 7) },
    });
  });
});

describe('replay', () => {
  const rows = [
    row(1, 'acme', MARCH_4 + 1000),
    row(2, 'globex', MARCH_4 + 2000),
    row(3, 'acme', MARCH_4 + DAY_MS + 3000, { data_gz: gzipSync('{"id":3}') }),
    row(4, 'acme', MARCH_4 + 2 * DAY_MS + 1),
  ];

  it("reads one day at a time, each account's receipts in turn, and sends every event of the range", async () => {
    const { events, queried } = fakeEvents(rows);
    const { sink, sent } = recordingSink();
    const report = await replay({ range: march, accounts: ['acme', 'globex'] }, { events, sink });
    expect(queried).toEqual(['acme 2022-03-04', 'globex 2022-03-04', 'acme 2022-03-05', 'globex 2022-03-05']);
    expect(sent.map((e) => e.envelope.data)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(report.totals).toEqual({ read: 3, sent: 3, missing: 0, unreadable: 0 });
    expect(Object.fromEntries(report.accounts)).toEqual({
      acme: { read: 2, sent: 2, missing: 0, unreadable: 0 },
      globex: { read: 1, sent: 1, missing: 0, unreadable: 0 },
    });
  });

  it('reads only the receipts of the account asked for', async () => {
    const { sink, sent } = recordingSink();
    const { events, queried } = fakeEvents(rows);
    const report = await replay({ range: march, accounts: ['globex'] }, { events, sink });
    expect(sent.map((e) => e.account)).toEqual(['globex']);
    expect(report.totals.read).toBe(1);
    expect(queried.every((query) => query.startsWith('globex '))).toBe(true);
  });

  it('sends nothing on a dry run, and counts what it would', async () => {
    const report = await replay(
      { range: march, accounts: ['acme', 'globex'] },
      { events: fakeEvents(rows).events, sink: undefined },
    );
    expect(report.totals).toEqual({ read: 3, sent: 3, missing: 0, unreadable: 0 });
  });

  it('counts a row gone between the listing and the read', async () => {
    const { events } = fakeEvents(rows);
    const { sink, sent } = recordingSink();
    const report = await replay(
      { range: march, accounts: ['acme'] },
      { events: { ...events, rows: async () => [] }, sink },
    );
    expect(sent).toEqual([]);
    expect(report.totals).toEqual({ read: 2, sent: 0, missing: 2, unreadable: 0 });
  });
});

describe('replay command line', () => {
  it.each([
    [['replay', '--to', '2022-03-04'], '--from is required'],
    [['replay', '--from', '2022-03-04'], '--to is required'],
    [['replay', '--from', '2022-03-05', '--to', '2022-03-04'], '--from is after --to'],
    [['replay', '--from', 'yesterday', '--to', '2022-03-04'], 'is not a time'],
    [['replay', '--from', '2000-01-01', '--to', '2022-03-04'], 'the range spans more than'],
    [['replay', '--from', '2022-03-04', '--to', '2022-03-04', '--account', ''], '--account needs a name'],
    [['replay', 'x', '--from', '2022-03-04', '--to', '2022-03-04'], 'replay takes no arguments'],
  ])('refuses %j before opening a target', async (argv, message) => {
    const io = recordingIo();
    expect(await run(argv, io)).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.resolutions()).toBe(0);
  });

  it('says what it does and that it is safe to repeat', async () => {
    const io = recordingIo();
    expect(await run(['help', 'replay'], io)).toBe(0);
    expect(io.out()).toMatch(
      /^Usage: aircall-webhook-stack replay --from <time> --to <time> \[--account <name>\] \[--dry-run\] \[--json\]/,
    );
    expect(io.out()).toContain('Safe to repeat');
  });
});
