// Stores a payload as a readable map when DynamoDB can hold it as one, and gzipped JSON when it cannot.

import { gzipSync } from 'node:zlib';
import type { JsonObject, JsonValue } from '../shared/envelope.js';

// DynamoDB nests at most 32 levels and holds 400 KB an item; numbers must fit its range. A call item holds its
// data and up to eight insights (kept small, see records.ts), so the payload map stays well under the item limit.
const MAX_DEPTH = 30;
const MAX_MAP_BYTES = 200_000;
const MAX_MAGNITUDE = 9.9e125;
const MIN_MAGNITUDE = 1e-129;

export type EncodedPayload = { readonly data: JsonObject } | { readonly data_gz: Uint8Array };

const fitsDynamo = (value: JsonValue, depth: number): boolean => {
  if (depth > MAX_DEPTH) return false;
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    return (
      Number.isFinite(value) && magnitude < MAX_MAGNITUDE && (magnitude === 0 || magnitude > MIN_MAGNITUDE)
    );
  }
  if (Array.isArray(value)) return value.every((item) => fitsDynamo(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([key, item]) => key !== '' && fitsDynamo(item, depth + 1));
  }
  return true;
};

/** True when the payload can be stored as a map of at most `maxBytes` of JSON. */
export const fitsAsMap = (data: JsonObject, maxBytes: number = MAX_MAP_BYTES): boolean =>
  Buffer.byteLength(JSON.stringify(data), 'utf8') <= maxBytes && fitsDynamo(data, 1);

export const encodePayload = (data: JsonObject): EncodedPayload =>
  fitsAsMap(data) ? { data } : { data_gz: gzipSync(JSON.stringify(data)) };
