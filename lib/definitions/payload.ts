// The payload codec: a readable map when DynamoDB can hold one, gzipped JSON when it cannot, and the way back.

import { gunzipSync, gzipSync } from 'node:zlib';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

// DynamoDB nests at most 32 levels and holds 400 KB an item; numbers must fit its range. A call item holds its
// data and up to eight insights (kept small by persist), so the payload map stays well under the item limit.
const MAX_DEPTH = 30;
const MAX_MAP_BYTES = 200_000;
const MAX_MAGNITUDE = 9.9e125;
const MIN_MAGNITUDE = 1e-129;

/** A payload as stored: under `data` as a map, or under `data_gz` as gzipped JSON, never both. */
export type EncodedPayload = { readonly data: JsonObject } | { readonly data_gz: Uint8Array };

export type PayloadAttribute = 'data' | 'data_gz';

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

/** The attribute the other form would sit under: a writer removes it, so an item never keeps a stale payload. */
export const otherPayloadAttribute = (payload: EncodedPayload): PayloadAttribute =>
  'data' in payload ? 'data_gz' : 'data';

export const decodePayload = (payload: EncodedPayload): JsonObject => {
  if ('data' in payload) return payload.data;
  const parsed: unknown = JSON.parse(gunzipSync(payload.data_gz).toString('utf8'));
  if (!isJsonObject(parsed)) throw new Error('data_gz does not hold a gzipped JSON object');
  return parsed;
};

// Maps and lists only: a document client returns binary attributes as Uint8Array and sets as Set, to be kept as they are.
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * A stored item with every `data_gz` turned back into `data`, on the item and inside call insights alike,
 * so that readers see the one shape whichever form persist chose.
 */
export const decodeItem = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decodeItem);
  if (!isPlainObject(value)) return value;
  const decoded: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'data_gz' && inner instanceof Uint8Array) decoded.data = decodePayload({ data_gz: inner });
    else decoded[key] = decodeItem(inner);
  }
  return decoded;
};
