// Turns one queued event into what is stored: its event-log row and the state writes it implies.

import { DAY_SECONDS, utcDay } from '../../lib/definitions/days.js';
import { FETCHED_SOURCE, isFetchedEvent } from '../../lib/definitions/fetched.js';
import { MEDIA_KINDS, type MediaKind, unsignedLink } from '../../lib/definitions/media.js';
import { encodePayload, otherPayloadAttributes } from '../../lib/definitions/payload.js';
import { accountDay, type StateTableName } from '../../lib/definitions/tables.js';
import {
  type AircallEnvelope,
  ExactInteger,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from '../shared/envelope.js';
import { eventSortKey, stateOrderKey } from '../shared/ordering.js';
import type { EventRecord, ItemId, QueuedEvent, StateWrite, StoredValue } from './ports.js';

// Aircall ids are unsigned 64-bit: 20 digits at most.
const EXACT_ID = /^\d{16,20}$/;

/** A numeric Aircall id, from a number, the exact digits of one beyond 2^53, or a string of digits. */
export const toId = (value: JsonValue | undefined): ItemId | undefined => {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (value instanceof ExactInteger) return EXACT_ID.test(value.toString()) ? value : undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
};

const nestedId = (value: JsonValue | undefined): ItemId | undefined =>
  isJsonObject(value) ? toId(value.id) : undefined;

/** The call an event belongs to when it is not a call event itself (transcripts, summaries and the like). */
const relatedCallId = (data: JsonObject): ItemId | undefined => toId(data.call_id) ?? nestedId(data.call);

/** The partition an event is logged under: the call for call-related events, else its own resource. */
export const eventPartition = (envelope: AircallEnvelope): { resource: string; id: string } => {
  const ownId = envelope.data.id;
  if (envelope.resource === 'call' && toId(ownId) !== undefined)
    return { resource: 'call', id: String(toId(ownId)) };
  const callId = relatedCallId(envelope.data);
  if (callId !== undefined) return { resource: 'call', id: String(callId) };
  // An id beyond 2^53 keys the log by the digits it was sent with.
  if (
    typeof ownId === 'number' ||
    ownId instanceof ExactInteger ||
    (typeof ownId === 'string' && ownId !== '')
  ) {
    return { resource: envelope.resource, id: String(ownId) };
  }
  return { resource: envelope.resource, id: '-' };
};

/**
 * The timestamp events are ordered by: Aircall's, or 0 when it is missing, so that a repeated delivery of such
 * an event keeps the same keys (the receive time would differ) and never outranks an event that has one.
 */
export const effectiveTimestamp = (event: QueuedEvent): number => event.envelope.timestamp ?? 0;

/**
 * The time an event's state is ordered by: its timestamp, unless that is more than `marginSeconds` ahead of the
 * receive time; then the receive time's second. A timestamp from the future (a sender's clock, or a forgery) could
 * otherwise outrank every real event after it. The event log keeps the timestamp as received.
 */
export const orderTimestamp = (event: QueuedEvent, marginSeconds: number): number => {
  const timestamp = effectiveTimestamp(event);
  const receivedSecond = Math.floor(event.receivedAt / 1000);
  return timestamp > receivedSecond + marginSeconds ? receivedSecond : timestamp;
};

// An event's payload goes into its log row and into its state item alike: compressed once (zlib's setup is most of
// the 60 µs it takes), for as long as the event's data object lives.
const compressed = new WeakMap<JsonObject, { readonly data_z: Uint8Array }>();
const payloadOf = (data: JsonObject): { readonly data_z: Uint8Array } => {
  let payload = compressed.get(data);
  if (payload === undefined) {
    payload = encodePayload(data);
    compressed.set(data, payload);
  }
  return payload;
};

/** The keys of an event's row in the log: its resource's partition, then its place in that resource's history. */
export const eventKeys = (event: QueuedEvent, digest: string): Pick<EventRecord, 'pk' | 'sk'> => {
  const partition = eventPartition(event.envelope);
  return {
    pk: `${partition.resource}#${partition.id}`,
    sk: eventSortKey(event.envelope, effectiveTimestamp(event), digest),
  };
};

export const toEventRecord = (event: QueuedEvent, digest: string, retentionDays: number): EventRecord => {
  const { envelope, account, receivedAt } = event;
  // What the keys already say (the resource's id, the digest) is not repeated: a row under 1 KB is one write unit.
  const attributes: Record<string, StoredValue> = {
    resource: envelope.resource,
    event: envelope.event,
    account,
    received_at: receivedAt,
    ...payloadOf(envelope.data),
  };
  if (envelope.timestamp !== undefined) attributes.timestamp = envelope.timestamp;
  // Only on events read from the API: a webhook's row, the common case, spends no bytes saying so.
  if (isFetchedEvent(envelope.event)) attributes.source = FETCHED_SOURCE;
  if (retentionDays > 0) attributes.expires_at = Math.floor(receivedAt / 1000) + retentionDays * DAY_SECONDS;
  return { ...eventKeys(event, digest), attributes };
};

type Fields = Record<string, StoredValue | undefined>;

/** What flattening an item needs besides its data: whose it is, and whether the event deletes it. */
interface FieldContext {
  readonly account: string;
  readonly deleted: boolean;
}

const splitFields = (fields: Fields): { set: Record<string, StoredValue>; remove: string[] } => {
  const set: Record<string, StoredValue> = {};
  const remove: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) remove.push(name);
    else set[name] = value;
  }
  return { set, remove };
};

const isMissed = (data: JsonObject): boolean =>
  (typeof data.missed_call_reason === 'string' && data.missed_call_reason !== '') ||
  (data.direction === 'inbound' && data.status === 'done' && (data.answered_at ?? null) === null);

const callFields = (data: JsonObject, { account }: FieldContext): Fields => {
  const startedAt = typeof data.started_at === 'number' ? data.started_at : undefined;
  return {
    direction: data.direction,
    status: data.status,
    started_at: startedAt,
    answered_at: data.answered_at,
    ended_at: data.ended_at,
    duration: data.duration,
    missed_call_reason: data.missed_call_reason,
    user_id: nestedId(data.user),
    number_id: nestedId(data.number),
    contact_id: nestedId(data.contact),
    raw_digits: data.raw_digits,
    recording: unsignedLink(data.recording),
    voicemail: unsignedLink(data.voicemail),
    asset: data.asset,
    tags: data.tags,
    archived: data.archived,
    account_day: startedAt === undefined ? undefined : accountDay(account, utcDay(startedAt)),
    account_missed_day:
      startedAt !== undefined && isMissed(data) ? accountDay(account, utcDay(startedAt)) : undefined,
  };
};

const userFields = (data: JsonObject, { deleted }: FieldContext): Fields => ({
  name: data.name,
  email: data.email,
  available: data.available,
  availability_status: data.availability_status,
  language: data.language,
  deleted,
});

const numberFields = (data: JsonObject, { deleted }: FieldContext): Fields => ({
  name: data.name,
  digits: data.digits,
  country: data.country,
  time_zone: data.time_zone,
  open: data.open,
  availability_status: data.availability_status,
  is_ivr: data.is_ivr,
  deleted,
});

const contactFields = (data: JsonObject, { deleted }: FieldContext): Fields => ({
  first_name: data.first_name,
  last_name: data.last_name,
  company_name: data.company_name,
  is_shared: data.is_shared,
  phone_numbers: data.phone_numbers,
  emails: data.emails,
  deleted,
});

/** The state table each resource with one is kept in, and the attributes it is flattened into there. */
const STATE_TARGETS: Readonly<
  Record<string, { table: StateTableName; fields: (d: JsonObject, context: FieldContext) => Fields }>
> = {
  call: { table: 'calls', fields: callFields },
  user: { table: 'users', fields: userFields },
  number: { table: 'numbers', fields: numberFields },
  contact: { table: 'contacts', fields: contactFields },
};

/**
 * Conversation-intelligence results kept on the call they describe, one attribute per kind.
 * Streaming utterances are left to the event log: they are fragments, not a result.
 */
export const INSIGHT_KINDS = [
  'transcription',
  'summary',
  'topics',
  'sentiment',
  'action_item',
  'playbook_result',
  'custom_summary',
  'call_evaluation',
] as const;
const INSIGHT_KIND_SET: ReadonlySet<string> = new Set(INSIGHT_KINDS);

// An insight compressed bigger than this stays in the event log only, and the call points at it: eight full
// transcripts beside the call's own data would not fit one item.
const INLINE_INSIGHT_BYTES = 16_000;

const insightWrite = (event: QueuedEvent, digest: string, orderKey: string): StateWrite | undefined => {
  const { envelope } = event;
  const kind = envelope.event.slice(0, envelope.event.indexOf('.'));
  const callId = relatedCallId(envelope.data);
  if (
    envelope.resource !== 'conversation_intelligence' ||
    !INSIGHT_KIND_SET.has(kind) ||
    callId === undefined
  ) {
    return undefined;
  }
  const partition = eventPartition(envelope);
  const payload = payloadOf(envelope.data);
  const insight: Record<string, StoredValue> = {
    event: envelope.event,
    timestamp: effectiveTimestamp(event),
    order_key: orderKey,
    ...(payload.data_z.byteLength <= INLINE_INSIGHT_BYTES
      ? payload
      : {
          event_pk: `${partition.resource}#${partition.id}`,
          event_sk: eventSortKey(envelope, effectiveTimestamp(event), digest),
        }),
  };
  return {
    table: 'calls',
    id: callId,
    account: event.account,
    guard: [kind, 'order_key'],
    orderKey,
    set: { account: event.account, [kind]: insight },
    remove: [],
  };
};

/** The recording and voicemail links of a call's data, signed as sent: what the archive downloads. */
const mediaLinks = (data: JsonObject): Partial<Record<MediaKind, string>> | undefined => {
  const links: Partial<Record<MediaKind, string>> = {};
  for (const kind of MEDIA_KINDS) {
    const link = data[kind];
    if (typeof link === 'string' && link !== '') links[kind] = link;
  }
  return Object.keys(links).length === 0 ? undefined : links;
};

/**
 * The state writes an event implies: none for resources that have no table of their own. Each is ordered by
 * {@link orderTimestamp} with the given margin.
 */
export const toStateWrites = (event: QueuedEvent, digest: string, marginSeconds: number): StateWrite[] => {
  const { envelope } = event;
  const orderKey = stateOrderKey(envelope, orderTimestamp(event, marginSeconds), digest);
  // Own keys only: `constructor` or `__proto__` would otherwise find what every object inherits.
  const target = Object.hasOwn(STATE_TARGETS, envelope.resource)
    ? STATE_TARGETS[envelope.resource]
    : undefined;
  if (target === undefined) {
    const insight = insightWrite(event, digest, orderKey);
    return insight === undefined ? [] : [insight];
  }
  const id = toId(envelope.data.id);
  if (id === undefined) return [];

  const deleted = envelope.event.split('.')[1] === 'deleted';
  const payload = payloadOf(envelope.data);
  const { set, remove } = splitFields({
    ...target.fields(envelope.data, { account: event.account, deleted }),
    account: event.account,
    last_event: envelope.event,
    last_event_at: envelope.timestamp,
    order_key: orderKey,
    ...payload,
  });
  remove.push(...otherPayloadAttributes(payload));
  const media = target.table === 'calls' ? mediaLinks(envelope.data) : undefined;
  return [
    {
      table: target.table,
      id,
      account: event.account,
      guard: ['order_key'],
      orderKey,
      set,
      remove,
      ...(media === undefined ? {} : { media }),
    },
  ];
};
