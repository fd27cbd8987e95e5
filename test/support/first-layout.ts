// Items in the first table layout's shapes, built from what persist writes now and turned back the way the first
// layout stored them: what `migrate` reads in its tests, and what its upgrades must turn into persist's output again.

import { gzipSync } from 'node:zlib';
import type { EventRecord, QueuedEvent, StateWrite } from '../../lambdas/persist/ports.js';
import { toStateWrites } from '../../lambdas/persist/records.js';
import { eventDigest } from '../../lambdas/shared/digest.js';
import { type AircallEnvelope, parseEnvelope } from '../../lambdas/shared/envelope.js';
import { utcDay } from '../../lib/definitions/days.js';
import { type JsonObject, parseJson } from '../../lib/definitions/json.js';
import { decodePayload } from '../../lib/definitions/payload.js';

export type Item = Record<string, unknown>;

/** How the first layout stored a payload: a map, or gzipped JSON when the map would not fit. */
export type FirstLayoutPayload = 'map' | 'gzip';

const MARGIN_SECONDS = 300;

const payloadOf = (value: unknown): JsonObject => {
  if (!(value instanceof Uint8Array)) throw new Error('expected a data_z');
  return decodePayload({ data_z: value }, parseJson);
};

/** The payload as the first layout stored it. */
const firstLayoutPayload = (data: JsonObject, form: FirstLayoutPayload): Item =>
  form === 'map' ? { data } : { data_gz: gzipSync(JSON.stringify(data)) };

/** `acme#2022-03-04` as the first layout's `2022-03-04`. */
const dayOf = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error('expected an account day');
  return value.slice(value.lastIndexOf('#') + 1);
};

/** The event as persist received it, with its digest. */
export const queuedEvent = (
  envelope: AircallEnvelope,
  account: string,
  receivedAt: number,
): { event: QueuedEvent; digest: string } => ({
  event: { envelope, account, receivedAt },
  digest: eventDigest(envelope, account),
});

/** The one state write of an event, as persist makes it now. */
export const stateWrite = (event: QueuedEvent, digest: string): StateWrite => {
  const [write] = toStateWrites(event, digest, MARGIN_SECONDS);
  if (write === undefined) throw new Error(`${event.envelope.event} writes no state`);
  return write;
};

/** The calls item persist writes now for a call event: its key and what the write sets. */
export const secondLayoutCall = (write: StateWrite): Item => ({ id: write.id, ...write.set });

/**
 * The calls item the first layout stored for the same write: the payload a map or gzipped, `started_day` and
 * `missed_day` without the account, the recording and voicemail links as sent (signed).
 */
export const firstLayoutCall = (write: StateWrite, form: FirstLayoutPayload): Item => {
  const { data_z: compressed, account_day: day, account_missed_day: missedDay, ...rest } = write.set;
  const data = payloadOf(compressed);
  const item: Item = { id: write.id, ...rest, ...firstLayoutPayload(data, form) };
  if (day !== undefined) item.started_day = dayOf(day);
  if (missedDay !== undefined) item.missed_day = dayOf(missedDay);
  for (const kind of ['recording', 'voicemail'] as const)
    if (typeof data[kind] === 'string') item[kind] = data[kind];
  return item;
};

/** An insight as the first layout kept it on its call: the payload as a map. */
export const firstLayoutInsight = (write: StateWrite, kind: string): Item => {
  const insight: unknown = write.set[kind];
  if (typeof insight !== 'object' || insight === null || !('data_z' in insight))
    throw new Error(`the write sets no ${kind} kept inline`);
  const { data_z: compressed, ...rest } = insight;
  return { ...rest, data: payloadOf(compressed) };
};

/** The events row persist writes now. */
export const secondLayoutRow = (record: EventRecord): Item => ({
  pk: record.pk,
  sk: record.sk,
  ...record.attributes,
});

/** The events row the first layout stored for the same event: its payload, and what its keys and index said. */
export const firstLayoutRow = (record: EventRecord, digest: string, form: FirstLayoutPayload): Item => {
  const { data_z: compressed, ...rest } = record.attributes;
  const receivedAt = record.attributes.received_at;
  if (typeof receivedAt !== 'number') throw new Error('expected received_at');
  return {
    pk: record.pk,
    sk: record.sk,
    ...rest,
    ...firstLayoutPayload(payloadOf(compressed), form),
    received_day: utcDay(Math.floor(receivedAt / 1000)),
    resource_id: record.pk.slice(record.pk.indexOf('#') + 1),
    digest,
  };
};

/** A transcription of a call, as Aircall sends one. */
export const transcription = (callId: number, timestamp: number): AircallEnvelope =>
  parseEnvelope(
    JSON.stringify({
      resource: 'conversation_intelligence',
      event: 'transcription.created',
      timestamp,
      data: {
        call_id: callId,
        call_created_at: timestamp - 120,
        type: 'call',
        content: {
          language: 'en-US',
          utterances: [
            {
              start_time: 0.5,
              end_time: 2.25,
              text: 'Hello, thanks for calling.',
              participant_type: 'internal',
            },
            { start_time: 2.5, end_time: 4, text: 'Hi, I have a question.', participant_type: 'external' },
          ],
        },
      },
    }),
  );
