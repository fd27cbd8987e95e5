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

/** SHA-256 over resource, event, timestamp and data; the token is left out on purpose. */
export const eventDigest = (envelope: AircallEnvelope): string =>
  createHash('sha256')
    .update(canonical([envelope.resource, envelope.event, envelope.timestamp ?? null, envelope.data]))
    .digest('hex');
