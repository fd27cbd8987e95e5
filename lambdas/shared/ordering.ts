// Where an event stands in its resource's history: the order key that decides whether it may replace stored state.

import type { AircallEnvelope } from './envelope.js';

// Place of each call event in the lifecycle, used to break timestamp ties.
const CALL_RANK: Readonly<Record<string, number>> = {
  'call.created': 0,
  'call.ringing_on_agent': 1,
  'call.ivr_option_selected': 1,
  'call.agent_declined': 2,
  'call.answered': 3,
  'call.hold': 4,
  'call.unhold': 4,
  'call.transferred': 5,
  'call.external_transferred': 5,
  'call.unsuccessful_transfer': 5,
  'call.hungup': 7,
  // A call read from the API: just below call.ended, so that on a tie the webhook's own event wins.
  'call.fetched': 7,
  'call.ended': 8,
  // Annotations: they may arrive during the call or long after call.ended.
  'call.voicemail_left': 9,
  'call.comm_assets_generated': 9,
  'call.assigned': 9,
  'call.archived': 9,
  'call.tagged': 9,
  'call.untagged': 9,
  'call.commented': 9,
};
const UNKNOWN_CALL_RANK = 6;
const ANNOTATION_RANK = 9;

// Own keys only: an event named `constructor` or `toString` would otherwise find what every object inherits.
const callRank = (name: string): number | undefined =>
  Object.hasOwn(CALL_RANK, name) ? CALL_RANK[name] : undefined;

// For users, numbers and contacts: creation first, deletion last, everything else between.
const lifecycleRank = (verb: string): number => {
  if (verb === 'created') return 0;
  if (verb === 'deleted') return 2;
  return 1;
};

/** The event name without the `.v2` suffix of Aircall's second user event family. */
export const baseEventName = (event: string): string => (event.endsWith('.v2') ? event.slice(0, -3) : event);

export const eventRank = (resource: string, event: string): number => {
  const name = baseEventName(event);
  if (resource === 'call') return callRank(name) ?? UNKNOWN_CALL_RANK;
  const verb = name.slice(name.lastIndexOf('.') + 1);
  return lifecycleRank(verb);
};

/**
 * The stage of a call the event's data describes: 0 live, 1 over but provisional (call.hungup),
 * 2 final (call.ended, a finished call read from the API, and annotations of a finished call). A later stage always wins, so
 * call.hungup can never replace call.ended, whatever their timestamps.
 */
export const callStage = (envelope: AircallEnvelope): number => {
  const name = baseEventName(envelope.event);
  if (name === 'call.ended') return 2;
  const done = envelope.data.status === 'done';
  if (!done) return 0;
  // What the API answers for a finished call is its final data, as call.ended's is.
  if (name === 'call.fetched') return 2;
  const rank = callRank(name);
  return rank === undefined || rank === ANNOTATION_RANK ? 2 : 1;
};

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** Sorts as the events should be read: by timestamp, then lifecycle, then content. */
export const eventSortKey = (envelope: AircallEnvelope, timestamp: number, digest: string): string =>
  `${pad(timestamp, 12)}#${pad(eventRank(envelope.resource, envelope.event), 2)}#${envelope.event}#${digest.slice(0, 16)}`;

/** For users, numbers and contacts: 1 once deleted, so that no later event brings the item back. */
const deletionStage = (envelope: AircallEnvelope): number =>
  eventRank(envelope.resource, envelope.event) === lifecycleRank('deleted') ? 1 : 0;

/**
 * The key a state write must beat: stage, timestamp, lifecycle rank, then digest so that two
 * different events never tie. Keys compare as strings, in DynamoDB conditions and in memory alike.
 */
export const stateOrderKey = (envelope: AircallEnvelope, timestamp: number, digest: string): string => {
  const stage = envelope.resource === 'call' ? callStage(envelope) : deletionStage(envelope);
  return `${stage}#${eventSortKey(envelope, timestamp, digest)}`;
};
