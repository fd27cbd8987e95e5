// Turns an object read from Aircall's API into the event persist stores, and predicts what persist will make of it.

import { type FetchedResource, fetchedEventName, fetchedTimestamp } from '../../lib/definitions/fetched.js';
import { eventDigest } from '../shared/digest.js';
import type { AircallEnvelope, JsonObject } from '../shared/envelope.js';
import { stateOrderKey } from '../shared/ordering.js';
import type { StoredOrder } from './ports.js';

/** The event a fetched object becomes: `<resource>.fetched`, at the object's own time, with no token. */
export const fetchedEnvelope = (resource: FetchedResource, data: JsonObject): AircallEnvelope => ({
  resource,
  event: fetchedEventName(resource),
  timestamp: fetchedTimestamp(resource, data),
  token: undefined,
  data,
});

/** What persist will do with a fetched object's event, given where its item stands. */
export type Prediction = 'new' | 'updated' | 'unchanged' | 'foreign';

/**
 * The same order key persist computes for the event (its timestamp is the object's own, in the past, so no margin
 * applies): an item whose stored key is at least this one is not changed by it, and the event is not sent.
 */
export const predict = (
  envelope: AircallEnvelope,
  account: string,
  stored: StoredOrder | undefined,
): Prediction => {
  if (stored === undefined) return 'new';
  if (stored.account !== undefined && stored.account !== account) return 'foreign';
  const key = stateOrderKey(envelope, envelope.timestamp ?? 0, eventDigest(envelope, account));
  return stored.orderKey !== undefined && stored.orderKey >= key ? 'unchanged' : 'updated';
};
