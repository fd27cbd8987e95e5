// The item upgrades of `migrate`: a first-layout item in, what persist writes now for the same data out.

import { describe, expect, it } from 'vitest';
import {
  exactNumber,
  isExpired,
  receiptsOfRows,
  receivedEvent,
  UpgradeError,
  upgradeCall,
  upgradeEventRow,
} from '../../cli/upgrade.js';
import { toEventRecord } from '../../lambdas/persist/records.js';
import { parseEnvelope } from '../../lambdas/shared/envelope.js';
import { ExactInteger, parseJson } from '../../lib/definitions/json.js';
import { decodePayload } from '../../lib/definitions/payload.js';
import {
  firstLayoutCall,
  firstLayoutInsight,
  firstLayoutRow,
  queuedEvent,
  secondLayoutCall,
  secondLayoutRow,
  stateWrite,
  transcription,
} from '../support/first-layout.js';
import { sample, sampleBody } from '../support/fixtures.js';

const ACCOUNT = 'acme';
const RECEIVED = Date.UTC(2022, 2, 4, 10, 30, 0);
const SIGNED = 'https://media.example/calls/780836699/recording.mp3?X-Amz-Signature=s3cret&X-Amz-Expires=600';

/** The captured outbound call, ended, with a signed recording link. */
const recordedCall = () => {
  const body = JSON.parse(sampleBody('captured-outbound-call.ended'));
  return parseEnvelope(JSON.stringify({ ...body, data: { ...body.data, recording: SIGNED } }));
};

const binary = (value: unknown): Uint8Array => {
  if (!(value instanceof Uint8Array)) throw new Error(`expected binary, got ${typeof value}`);
  return value;
};

describe('exactNumber', () => {
  it('makes a JavaScript number of what one holds exactly', () => {
    expect(exactNumber('780836699')).toBe(780836699);
    expect(exactNumber('9007199254740991')).toBe(9007199254740991);
    expect(exactNumber('-17')).toBe(-17);
    expect(exactNumber('0.25')).toBe(0.25);
    expect(exactNumber('2.5')).toBe(2.5);
  });

  it('keeps every digit of an integer beyond 2^53, as parseJson does', () => {
    const big = exactNumber('18446744073709551615');
    expect(big).toBeInstanceOf(ExactInteger);
    expect(String(big)).toBe('18446744073709551615');
    expect(JSON.stringify({ id: big })).toBe('{"id":18446744073709551615}');
    expect(String(exactNumber('-9007199254740993'))).toBe('-9007199254740993');
  });
});

describe('upgradeCall', () => {
  it('turns a first-layout call with a data map into the item persist writes now', () => {
    const { event, digest } = queuedEvent(recordedCall(), ACCOUNT, RECEIVED);
    const write = stateWrite(event, digest);

    const upgraded = upgradeCall(firstLayoutCall(write, 'map'));

    expect(upgraded).toEqual(secondLayoutCall(write));
    expect(upgraded.account_day).toBe('acme#2022-03-04');
    expect(upgraded.recording).toBe('https://media.example/calls/780836699/recording.mp3');
    for (const name of ['data', 'data_gz', 'started_day', 'missed_day'])
      expect(upgraded).not.toHaveProperty(name);
    // The signed link stays in the data, where the archive found it.
    expect(decodePayload({ data_z: binary(upgraded.data_z) }).recording).toBe(SIGNED);
  });

  it('turns a gzipped missed call into one with account_missed_day and an unsigned voicemail', () => {
    const { event, digest } = queuedEvent(sample('captured-inbound-voicemail-call.ended'), ACCOUNT, RECEIVED);
    const write = stateWrite(event, digest);
    const old = firstLayoutCall(write, 'gzip');
    expect(old.missed_day).toBe('2022-03-04');

    const upgraded = upgradeCall(old);

    expect(upgraded).toEqual(secondLayoutCall(write));
    expect(upgraded.account_missed_day).toBe('acme#2022-03-04');
    expect(upgraded.voicemail).toMatch(/^https:\/\/[^?]+\.mp3$/);
    expect(upgraded).not.toHaveProperty('data_gz');
  });

  it('keeps an integer beyond 2^53 inside gzipped data to the digit', () => {
    const body = sampleBody('documented-call.created').replace(
      '"id": 123,',
      '"id": 123, "team_id": 18446744073709551615,',
    );
    expect(body).toContain('18446744073709551615');
    const { event, digest } = queuedEvent(parseEnvelope(body), ACCOUNT, RECEIVED);

    const upgraded = upgradeCall(firstLayoutCall(stateWrite(event, digest), 'gzip'));

    const data = decodePayload({ data_z: binary(upgraded.data_z) }, parseJson);
    expect(String(data.team_id)).toBe('18446744073709551615');
  });

  it('compresses an insight kept inline, and leaves one kept in the event log pointing there', () => {
    const call = queuedEvent(sample('captured-outbound-call.ended'), ACCOUNT, RECEIVED);
    const insight = queuedEvent(transcription(780836699, 1646389900), ACCOUNT, RECEIVED + 60_000);
    const callWrite = stateWrite(call.event, call.digest);
    const insightWrite = stateWrite(insight.event, insight.digest);
    const pointer = {
      event: 'summary.created',
      timestamp: 1646389950,
      order_key: 'k',
      event_pk: 'call#780836699',
      event_sk: 's',
    };

    const upgraded = upgradeCall({
      ...firstLayoutCall(callWrite, 'map'),
      transcription: firstLayoutInsight(insightWrite, 'transcription'),
      summary: pointer,
    });

    expect(upgraded).toEqual({
      ...secondLayoutCall(callWrite),
      transcription: insightWrite.set.transcription,
      summary: pointer,
    });
  });

  it('keeps what the layouts share as it is: archive records, leases, a call without an order key', () => {
    const archive = {
      key: 'acme/calls/5/recording.mp3',
      bytes: 10,
      content_type: 'audio/mpeg',
      sha256: 'ab',
      archived_at: 1,
    };
    const item = {
      id: 5,
      account: ACCOUNT,
      recording_archive: archive,
      recording_archive_lease: 7,
      tags: [{ id: 1 }],
    };

    expect(upgradeCall(item)).toEqual(item);
  });

  it('refuses a data attribute that is not a JSON object', () => {
    expect(() => upgradeCall({ id: 5, account: ACCOUNT, data: new Uint8Array([1]) })).toThrow(UpgradeError);
    expect(() => upgradeCall({ id: 5, account: ACCOUNT, data_gz: new Uint8Array([1, 2, 3]) })).toThrow(
      UpgradeError,
    );
  });
});

describe('upgradeEventRow', () => {
  it.each(['map', 'gzip'] as const)(
    'turns a first-layout row (payload as %s) into the row persist writes now',
    (form) => {
      const { event, digest } = queuedEvent(sample('captured-outbound-call.hungup'), ACCOUNT, RECEIVED);
      const record = toEventRecord(event, digest, 30);
      const old = firstLayoutRow(record, digest, form);
      expect(old).toMatchObject({ received_day: '2022-03-04', resource_id: '780836699', digest });

      expect(upgradeEventRow(old)).toEqual(secondLayoutRow(record));
    },
  );
});

describe('isExpired', () => {
  it('is true only for a row whose expires_at has passed', () => {
    expect(isExpired({ expires_at: 99 }, 100)).toBe(true);
    expect(isExpired({ expires_at: 100 }, 100)).toBe(false);
    expect(isExpired({}, 100)).toBe(false);
  });
});

describe('receivedEvent', () => {
  it("gives a row's account, keys and receive time, and nothing for a row lacking one", () => {
    const row = { pk: 'call#1', sk: 's', account: ACCOUNT, received_at: RECEIVED, event: 'call.created' };

    expect(receivedEvent(row)).toEqual({ account: ACCOUNT, pk: 'call#1', sk: 's', receivedAt: RECEIVED });
    expect(receivedEvent({ ...row, received_at: undefined })).toBeUndefined();
    expect(receivedEvent({ ...row, account: undefined })).toBeUndefined();
  });
});

describe('receiptsOfRows', () => {
  const row = (n: number, expiresAt: number | undefined, account = ACCOUNT) => ({
    received: { account, pk: `call#${n}`, sk: 's', receivedAt: RECEIVED + n * 1000 },
    expiresAt,
  });

  it('lists every row once, by account and minute, and expires with the latest row it lists', () => {
    const rows = [row(1, 500), row(2, 900), row(3, 700), row(4, 100, 'globex'), row(90, 800)];

    const receipts = receiptsOfRows(rows);

    const listed = receipts.flatMap((receipt) => receipt.events.map(([pk]) => pk));
    expect(listed.sort()).toEqual(['call#1', 'call#2', 'call#3', 'call#4', 'call#90']);
    expect(receipts.map((receipt) => [receipt.pk, receipt.events.length, receipt.expires_at])).toEqual([
      ['#received#acme#2022-03-04', 3, 900],
      ['#received#globex#2022-03-04', 1, 100],
      ['#received#acme#2022-03-04', 1, 800],
    ]);
  });

  it('keeps a receipt for ever when one of its rows is', () => {
    const [receipt] = receiptsOfRows([row(1, 500), row(2, undefined)]);

    expect(receipt?.events).toHaveLength(2);
    expect(receipt).not.toHaveProperty('expires_at');
  });

  it('gives the same receipts for the same rows, so that a second run rewrites none', () => {
    const rows = [row(1, 500), row(2, 900)];

    expect(receiptsOfRows(rows)).toEqual(receiptsOfRows([...rows].reverse()));
  });
});
