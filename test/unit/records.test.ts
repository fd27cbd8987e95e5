import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QueuedEvent } from '../../lambdas/persist/ports.js';
import {
  eventPartition,
  orderTimestamp,
  toEventRecord,
  toId,
  toStateWrites,
} from '../../lambdas/persist/records.js';
import { eventDigest } from '../../lambdas/shared/digest.js';
import { parseEnvelope } from '../../lambdas/shared/envelope.js';
import { ExactInteger, parseJson } from '../../lib/definitions/json.js';
import { decodePayload } from '../../lib/definitions/payload.js';
import { type SampleName, sample } from '../support/fixtures.js';

const RECEIVED = Date.UTC(2022, 2, 4, 10, 30, 0);
const MARGIN = 300;

/** A stored binary attribute, or a failure saying it is not one. */
const binary = (value: unknown): Uint8Array => {
  if (!(value instanceof Uint8Array)) throw new Error(`expected binary, got ${typeof value}`);
  return value;
};
const queued = (name: SampleName): QueuedEvent => ({
  envelope: sample(name),
  account: 'acme',
  receivedAt: RECEIVED,
});

describe('eventDigest', () => {
  it('ignores key order and the token', () => {
    const a = parseEnvelope(
      '{"resource":"call","event":"call.ended","timestamp":1,"token":"x","data":{"a":1,"b":[1,{"c":2,"d":3}]}}',
    );
    const b = parseEnvelope(
      '{"data":{"b":[1,{"d":3,"c":2}],"a":1},"token":"y","timestamp":1,"event":"call.ended","resource":"call"}',
    );
    expect(eventDigest(a, 'acme')).toBe(eventDigest(b, 'acme'));
  });

  it('changes with the data and with the timestamp', () => {
    const a = parseEnvelope('{"resource":"call","event":"call.ended","timestamp":1,"data":{"a":1}}');
    const b = parseEnvelope('{"resource":"call","event":"call.ended","timestamp":1,"data":{"a":2}}');
    const c = parseEnvelope('{"resource":"call","event":"call.ended","timestamp":2,"data":{"a":1}}');
    expect(new Set([a, b, c].map((envelope) => eventDigest(envelope, 'acme'))).size).toBe(3);
  });

  it("differs between accounts, so another account's copy of an event is never its duplicate", () => {
    const a = parseEnvelope('{"resource":"call","event":"call.ended","timestamp":1,"data":{"id":7}}');
    expect(eventDigest(a, 'acme')).not.toBe(eventDigest(a, 'globex'));
  });
});

describe('toId', () => {
  it('takes whole numbers and strings of digits only', () => {
    expect(toId(780836699)).toBe(780836699);
    expect(toId('42')).toBe(42);
    expect([toId(-1), toId(1.5), toId('4a'), toId(null), toId(undefined), toId({})]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
  it('keeps an id beyond 2^53 as its exact digits, and refuses more digits than 64 bits hold', () => {
    const big = new ExactInteger('9007199254740993');
    expect(toId(big)).toBe(big);
    expect(toId(new ExactInteger('123456789012345678901'))).toBeUndefined();
    expect(toId(new ExactInteger('-9007199254740993'))).toBeUndefined();
  });
});

describe('eventPartition', () => {
  it('logs a call event and a transcription of that call under the same call', () => {
    expect(eventPartition(sample('captured-outbound-call.ended'))).toEqual({
      resource: 'call',
      id: '780836699',
    });
    const transcript = parseEnvelope(
      '{"resource":"conversation_intelligence","event":"transcription.created","data":{"call_id":780836699}}',
    );
    expect(eventPartition(transcript)).toEqual({ resource: 'call', id: '780836699' });
  });

  it('logs an event without an id under its resource', () => {
    expect(eventPartition(sample('documented-integration.deleted'))).toEqual({
      resource: 'integration',
      id: '-',
    });
  });
});

describe('toEventRecord', () => {
  it('keeps resource, event, timestamp, received_at and account beside the payload, and no token', () => {
    const event = queued('captured-outbound-call.hungup');
    const record = toEventRecord(event, eventDigest(event.envelope, event.account), 0);
    expect(record.pk).toBe('call#780836699');
    expect(record.sk).toMatch(/^001646389755#07#call\.hungup#[0-9a-f]{16}$/);
    expect(record.attributes).toMatchObject({
      resource: 'call',
      event: 'call.hungup',
      timestamp: 1646389755,
      received_at: RECEIVED,
      account: 'acme',
    });
    expect(decodePayload({ data_z: binary(record.attributes.data_z) })).toEqual(event.envelope.data);
    // What the keys say is not repeated.
    for (const name of ['data', 'resource_id', 'digest', 'received_day'])
      expect(record.attributes).not.toHaveProperty(name);
    expect(JSON.stringify(record)).not.toContain('sample-webhook-token-not-a-secret');
    expect(record.attributes.expires_at).toBeUndefined();
  });

  it('sets an expiry when the log has a retention', () => {
    const event = queued('captured-user.created');
    const record = toEventRecord(event, eventDigest(event.envelope, event.account), 30);
    expect(record.attributes.expires_at).toBe(RECEIVED / 1000 + 30 * 86_400);
  });

  it('files an event without a timestamp first, under the same keys for every delivery of it', () => {
    const envelope = parseEnvelope('{"resource":"call","event":"call.created","data":{"id":5}}');
    const first = toEventRecord(
      { envelope, account: 'acme', receivedAt: RECEIVED },
      eventDigest(envelope, 'acme'),
      0,
    );
    const again = toEventRecord(
      { envelope, account: 'acme', receivedAt: RECEIVED + 90_000 },
      eventDigest(envelope, 'acme'),
      0,
    );
    expect(first.sk.startsWith('000000000000#')).toBe(true);
    expect(again.sk).toBe(first.sk);
    expect(first.attributes.timestamp).toBeUndefined();
  });

  it('compresses a payload DynamoDB could not hold as a map like any other', () => {
    const deep = JSON.parse(
      `{"resource":"call","event":"call.tagged","data":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    );
    const event: QueuedEvent = {
      envelope: parseEnvelope(JSON.stringify(deep)),
      account: 'acme',
      receivedAt: RECEIVED,
    };
    const record = toEventRecord(event, eventDigest(event.envelope, event.account), 0);
    expect(decodePayload({ data_z: binary(record.attributes.data_z) })).toEqual(deep.data);
  });
});

describe('toStateWrites', () => {
  it('flattens a call into its summary attributes', () => {
    const event = queued('captured-outbound-call.ended');
    const [write] = toStateWrites(event, eventDigest(event.envelope, event.account), MARGIN);
    expect(write).toMatchObject({ table: 'calls', id: 780836699, guard: ['order_key'] });
    expect(write?.set).toMatchObject({
      account: 'acme',
      direction: 'outbound',
      status: 'done',
      started_at: 1646389735,
      answered_at: 1646389740,
      ended_at: 1646389755,
      duration: 20,
      user_id: 736640,
      number_id: 404821,
      raw_digits: '+43 720 880079',
      archived: false,
      tags: [],
      account_day: 'acme#2022-03-04',
      last_event: 'call.ended',
      last_event_at: 1646389786,
    });
    expect(decodePayload({ data_z: binary(write?.set.data_z) })).toEqual(event.envelope.data);
    expect(write?.remove).toEqual(
      expect.arrayContaining(['missed_call_reason', 'contact_id', 'account_missed_day', 'data', 'data_gz']),
    );
  });

  it('marks an unanswered inbound call as missed and leaves out the absent user', () => {
    const event = queued('captured-inbound-voicemail-call.ended');
    const [write] = toStateWrites(event, eventDigest(event.envelope, event.account), MARGIN);
    expect(write?.set).toMatchObject({
      missed_call_reason: 'agents_did_not_answer',
      account_missed_day: 'acme#2022-03-04',
    });
    expect(write?.set.user_id).toBeUndefined();
    expect(write?.remove).toContain('user_id');
  });

  it('keeps a voicemail link without its signature, and hands the signed link to the archive', () => {
    const event = queued('captured-inbound-voicemail-call.ended');
    const signed = String(event.envelope.data.voicemail);
    const [write] = toStateWrites(event, eventDigest(event.envelope, event.account), MARGIN);

    expect(signed).toContain('X-Amz-Signature=');
    expect(write?.set.voicemail).toBe(signed.slice(0, signed.indexOf('?')));
    expect(write?.media).toEqual({ voicemail: signed });
  });

  it('maps users, numbers and contacts to their tables, with deletion kept as a flag', () => {
    const user = queued('captured-user.connected');
    const number = queued('documented-number.closed');
    const contact = queued('captured-contact.created');
    expect(toStateWrites(user, 'd', MARGIN)[0]).toMatchObject({
      table: 'users',
      id: 736640,
      set: { available: true },
    });
    expect(toStateWrites(number, 'd', MARGIN)[0]).toMatchObject({
      table: 'numbers',
      id: 456,
      set: { open: false },
    });
    expect(toStateWrites(contact, 'd', MARGIN)[0]).toMatchObject({
      table: 'contacts',
      id: 76041687,
      set: { deleted: false },
    });
    const deleted: QueuedEvent = { ...contact, envelope: { ...contact.envelope, event: 'contact.deleted' } };
    expect(toStateWrites(deleted, 'd', MARGIN)[0]?.set.deleted).toBe(true);
  });

  it('keeps a transcription on its call under its own guard', () => {
    const event: QueuedEvent = {
      envelope: parseEnvelope(
        '{"resource":"conversation_intelligence","event":"transcription.created","timestamp":5,"data":{"call_id":"77"}}',
      ),
      account: 'acme',
      receivedAt: RECEIVED,
    };
    const [write] = toStateWrites(event, 'abc', MARGIN);
    expect(write).toMatchObject({ table: 'calls', id: 77, guard: ['transcription', 'order_key'] });
    expect(write?.set.transcription).toMatchObject({ event: 'transcription.created', timestamp: 5 });
  });

  it('points at the event log instead of copying a large transcription onto the call', () => {
    // Text that does not compress: hex of a hash chain, 40 KB.
    let link = 'seed';
    const text = Array.from({ length: 640 }, () => {
      link = createHash('sha256').update(link).digest('hex');
      return link;
    }).join(' ');
    const envelope = parseEnvelope(
      JSON.stringify({
        resource: 'conversation_intelligence',
        event: 'transcription.created',
        timestamp: 5,
        data: { call_id: 77, transcription: { content: text } },
      }),
    );
    const event: QueuedEvent = { envelope, account: 'acme', receivedAt: RECEIVED };
    const digest = eventDigest(envelope, event.account);
    const [write] = toStateWrites(event, digest, MARGIN);
    const log = toEventRecord(event, digest, 0);
    expect(write?.set.transcription).toEqual({
      event: 'transcription.created',
      timestamp: 5,
      order_key: write?.orderKey,
      event_pk: log.pk,
      event_sk: log.sk,
    });
  });

  it('keeps a 64-bit id of a payload exact', () => {
    const envelope = parseEnvelope(
      '{"resource":"call","event":"call.ended","timestamp":1,"data":{"id":1,"x":12345678901234567890}}',
    );
    const record = toEventRecord(
      { envelope, account: 'acme', receivedAt: RECEIVED },
      eventDigest(envelope, 'acme'),
      0,
    );
    expect(decodePayload({ data_z: binary(record.attributes.data_z) }, parseJson)).toEqual(envelope.data);
  });

  it('writes no state for resources without a table, nor for events without an id', () => {
    expect(toStateWrites(queued('documented-integration.deleted'), 'd', MARGIN)).toEqual([]);
    const noId: QueuedEvent = {
      envelope: parseEnvelope('{"resource":"user","event":"user.created","data":{"id":"abc"}}'),
      account: 'acme',
      receivedAt: RECEIVED,
    };
    expect(toStateWrites(noId, 'd', MARGIN)).toEqual([]);
  });
});

describe('orderTimestamp', () => {
  const receivedSecond = RECEIVED / 1000;
  const at = (timestamp: number): QueuedEvent => ({
    envelope: parseEnvelope(
      `{"resource":"user","event":"user.opened","timestamp":${timestamp},"data":{"id":1}}`,
    ),
    account: 'acme',
    receivedAt: RECEIVED + 999,
  });

  it('keeps a timestamp up to the margin ahead of the receive time', () => {
    expect(orderTimestamp(at(receivedSecond - 3600), MARGIN)).toBe(receivedSecond - 3600);
    expect(orderTimestamp(at(receivedSecond + MARGIN), MARGIN)).toBe(receivedSecond + MARGIN);
  });

  it("orders a timestamp beyond the margin as the receive time's second", () => {
    expect(orderTimestamp(at(receivedSecond + MARGIN + 1), MARGIN)).toBe(receivedSecond);
    expect(orderTimestamp(at(9007199254740991), MARGIN)).toBe(receivedSecond);
  });

  it('keys the state by the receive time but logs the timestamp as received', () => {
    const event = at(9007199254740991);
    const digest = eventDigest(event.envelope, event.account);
    const [write] = toStateWrites(event, digest, MARGIN);
    const [inTime] = toStateWrites(at(receivedSecond), digest, MARGIN);
    expect(write?.orderKey).toBe(inTime?.orderKey);
    const log = toEventRecord(event, digest, 0);
    expect(log.attributes.timestamp).toBe(9007199254740991);
    expect(log.sk.startsWith('9007199254740991#')).toBe(true);
    expect(write?.set.last_event_at).toBe(9007199254740991);
  });
});

describe('state writes and accounts', () => {
  it('name the account the event came from as the one that may write the item', () => {
    const call = queued('captured-outbound-call.ended');
    const transcript: QueuedEvent = {
      envelope: parseEnvelope(
        '{"resource":"conversation_intelligence","event":"transcription.created","timestamp":5,"data":{"call_id":77}}',
      ),
      account: 'globex',
      receivedAt: RECEIVED,
    };
    expect(toStateWrites(call, 'd', MARGIN).map((w) => [w.account, w.set.account])).toEqual([
      ['acme', 'acme'],
    ]);
    expect(toStateWrites(transcript, 'd', MARGIN).map((w) => [w.account, w.set.account])).toEqual([
      ['globex', 'globex'],
    ]);
  });
});
