// Under the payload cap every item persist writes fits DynamoDB's 400 KB, the worst call item included.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QueuedEvent, StoredValue } from '../../lambdas/persist/ports.js';
import { INSIGHT_KINDS, toEventRecord, toStateWrites } from '../../lambdas/persist/records.js';
import { eventDigest } from '../../lambdas/shared/digest.js';
import { type JsonObject, type JsonValue, parseEnvelope } from '../../lambdas/shared/envelope.js';
import {
  DYNAMODB_LIMITS,
  encodedSize,
  MAX_DATA_DEPTH,
  MAX_EVENT_BYTES,
  storabilityProblem,
} from '../../lambdas/shared/storability.js';
import { DEFAULT_TIMESTAMP_MARGIN_SECONDS, PAYLOAD_CAP } from '../../lib/definitions/pipeline.js';

const CAP = PAYLOAD_CAP.maxBytes;
const CALL_ID = 780836699;
const RECEIVED = Date.UTC(2022, 2, 4, 10, 30, 0);
// Account names come from the stack's own configuration; a long one, so that it costs what it might.
const ACCOUNT = 'a'.repeat(128);
// records.ts keeps an insight on the call when its data compresses to at most this much.
const INLINE_INSIGHT_BYTES = 16_000;

type Item = Record<string, StoredValue>;

/** An item's size as DynamoDB counts it: each attribute's name and value. */
const itemSize = (item: Item): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + encodedSize(value), 0);

const jsonBytes = (value: JsonValue): number => Buffer.byteLength(JSON.stringify(value));

/** The list that costs DynamoDB the most per byte of JSON: each level 2 bytes of JSON and 4 as DynamoDB counts. */
const chain = (levels: number): JsonValue => (levels === 0 ? [] : [chain(levels - 1)]);

/**
 * `base` grown until it is as large as DynamoDB counts it as it may be: chains under `listKey` while they fit
 * both budgets, then one string under `stringKey` (a byte each way) up to the tighter one.
 */
const fill = (
  base: JsonObject,
  listKey: string,
  stringKey: string,
  budgets: { readonly json: number; readonly encoded: number },
  // Random base64 by default: text the codec cannot shrink much, as a worst case must be.
  text: (length: number) => string = (length) => randomBytes(length).toString('base64').slice(0, length),
): JsonObject => {
  const list: JsonValue[] = [];
  const data: JsonObject = { ...base, [listKey]: list, [stringKey]: '' };
  // Nested as deep as a map may be: data is level 1, the list level 2.
  const link = chain(MAX_DATA_DEPTH - 3);
  const linkJson = jsonBytes(link) + 1;
  const linkEncoded = encodedSize(link) + 1;
  const links = Math.min(
    Math.floor((budgets.json - jsonBytes(data)) / linkJson),
    Math.floor((budgets.encoded - encodedSize(data)) / linkEncoded),
  );
  for (let i = 0; i < links; i += 1) list.push(link);
  const room = Math.min(budgets.json - jsonBytes(data), budgets.encoded - encodedSize(data));
  data[stringKey] = text(room);
  return data;
};

const queued = (fields: { resource: string; event: string; data: JsonObject }): QueuedEvent => ({
  envelope: parseEnvelope(JSON.stringify({ ...fields, timestamp: 1646389786, token: 'not-queued' })),
  account: ACCOUNT,
  receivedAt: RECEIVED,
});

/** What persist writes for these events, applied in turn to one state item as DynamoDB would. */
const persisted = (events: readonly QueuedEvent[]) => {
  const rows: Item[] = [];
  const states = new Map<string, Item>();
  for (const event of events) {
    expect(storabilityProblem(event.envelope)).toBeUndefined();
    const digest = eventDigest(event.envelope, event.account);
    const record = toEventRecord(event, digest, 365);
    rows.push({ pk: record.pk, sk: record.sk, ...record.attributes });
    for (const write of toStateWrites(event, digest, DEFAULT_TIMESTAMP_MARGIN_SECONDS)) {
      const key = `${write.table}#${write.id}`;
      const item: Item = { ...states.get(key), id: write.id, ...write.set };
      for (const name of write.remove) delete item[name];
      states.set(key, item);
    }
  }
  return { rows, states: [...states.values()] };
};

/** A call.ended at the cap with its bulk in the attributes persist copies out beside it (tags, raw_digits). */
const callAtTheCap = (event = 'call.ended'): QueuedEvent =>
  queued({
    resource: 'call',
    event,
    data: fill(
      {
        id: CALL_ID,
        direction: 'inbound',
        status: 'done',
        started_at: 1646389735,
        answered_at: null,
        ended_at: 1646389786,
        duration: 51,
        missed_call_reason: 'agents_did_not_answer',
        user: { id: 1 },
        number: { id: 2 },
        contact: { id: 3 },
        archived: false,
      },
      'tags',
      'raw_digits',
      { json: CAP, encoded: CAP },
    ),
  });

/** The largest insight persist still keeps on the call, under the longest event name the log's keys allow. */
const insightAtTheLimit = (kind: string): QueuedEvent =>
  queued({
    resource: 'conversation_intelligence',
    event: `${kind}.${'x'.repeat(MAX_EVENT_BYTES - kind.length - 1)}`,
    // Random base64 compresses to about three quarters: this much of it is just under the inline limit compressed.
    data: {
      call_id: CALL_ID,
      content: randomBytes(INLINE_INSIGHT_BYTES).toString('base64').slice(0, 20_500),
    },
  });

describe('the payload cap', () => {
  it('is accepted at the cap and refused a byte over, as JSON and as DynamoDB encodes it', () => {
    const { envelope } = callAtTheCap();
    expect(encodedSize(envelope.data)).toBe(CAP);
    expect(jsonBytes(envelope.data)).toBeLessThanOrEqual(CAP);
    expect(storabilityProblem(envelope)).toBeUndefined();
    const over = { ...envelope, data: { ...envelope.data, raw_digits: `${envelope.data.raw_digits}x` } };
    expect(storabilityProblem(over)?.status).toBe(413);
  });

  it('keeps the worst call item under 400 KB: data at the cap, its copies, and eight insights kept inline', () => {
    const insights = INSIGHT_KINDS.map(insightAtTheLimit);
    const { rows, states } = persisted([
      callAtTheCap(`call.${'x'.repeat(MAX_EVENT_BYTES - 5)}`),
      ...insights,
    ]);
    const [call] = states;
    expect(states).toHaveLength(1);
    // The insights are inline, the call's data is beside its copies: nothing was left out.
    for (const kind of INSIGHT_KINDS) expect(call?.[kind]).toHaveProperty('data_z');
    expect(call).toHaveProperty('data_z');
    expect(call).toHaveProperty('tags');
    expect(call).toHaveProperty('raw_digits');

    const size = itemSize(call ?? {});
    expect(size).toBeLessThan(DYNAMODB_LIMITS.itemBytes);
    // And the construction is a real worst case, copies at the cap and eight insights at the inline limit: the
    // compressed data of the call is what no longer counts twice.
    expect(size).toBeGreaterThan(0.5 * DYNAMODB_LIMITS.itemBytes);
    for (const row of rows) expect(itemSize(row)).toBeLessThan(DYNAMODB_LIMITS.itemBytes);
  });

  it('keeps a contact at the cap, and its copies, under 400 KB', () => {
    const contact = queued({
      resource: 'contact',
      event: 'contact.updated',
      data: fill({ id: 5, first_name: 'a', is_shared: true }, 'phone_numbers', 'emails', {
        json: CAP,
        encoded: CAP,
      }),
    });
    const { rows, states } = persisted([contact]);
    for (const item of [...rows, ...states])
      expect(itemSize(item)).toBeLessThan(DYNAMODB_LIMITS.itemBytes / 2);
  });

  it('keeps the items under 400 KB with incompressible data at the cap', () => {
    // A magnitude DynamoDB could not hold in a map, compressed like the rest.
    const noise = randomBytes(CAP).toString('base64');
    const base = { id: CALL_ID, status: 'done', cost: 9.95e125, noise: '' };
    const data = { ...base, noise: noise.slice(0, CAP - jsonBytes(base)) };
    expect(jsonBytes(data)).toBe(CAP);
    const { rows, states } = persisted([queued({ resource: 'call', event: 'call.ended', data })]);
    expect(rows[0]).toHaveProperty('data_z');
    for (const item of [...rows, ...states])
      expect(itemSize(item)).toBeLessThan(DYNAMODB_LIMITS.itemBytes / 2);
  });
});
