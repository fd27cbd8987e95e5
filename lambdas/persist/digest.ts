// A content digest of an event, the same whatever the key order of the JSON it arrived as.

import { createHash } from 'node:crypto';
import { type AircallEnvelope, isJsonObject, type JsonValue } from '../shared/envelope.js';

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
 * in it so that another account's copy of an event is never taken for the real one's duplicate.
 */
export const eventDigest = (envelope: AircallEnvelope, account: string): string =>
  createHash('sha256')
    .update(
      canonical([account, envelope.resource, envelope.event, envelope.timestamp ?? null, envelope.data]),
    )
    .digest('hex');
