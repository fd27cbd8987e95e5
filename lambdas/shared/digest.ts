// A content digest of an event, the same whatever the key order of the JSON it arrived as.

import { createHash } from 'node:crypto';
import { isFetchedEvent, stableFetchedData } from '../../lib/definitions/fetched.js';
import { type AircallEnvelope, isJsonObject, type JsonValue } from './envelope.js';

// An integer beyond 2^53 is an ExactInteger, which JSON.stringify writes as the digits that were sent.
const canonical = (value: JsonValue): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

/**
 * SHA-256 over the account, resource, event, timestamp and data; the token is left out on purpose. The account is
 * in it so that another account's copy of an event is never taken for the real one's duplicate. An object read from
 * the API is digested without the query strings of its signed links, which change at every read of the same call.
 */
export const eventDigest = (envelope: AircallEnvelope, account: string): string => {
  const data = isFetchedEvent(envelope.event) ? stableFetchedData(envelope.data) : envelope.data;
  return createHash('sha256')
    .update(canonical([account, envelope.resource, envelope.event, envelope.timestamp ?? null, data]))
    .digest('hex');
};
