// Stores a payload as a readable map when DynamoDB can hold it as one, and gzipped JSON when it cannot.

import { gzipSync } from 'node:zlib';
import type { JsonObject, JsonValue } from '../shared/envelope.js';

// DynamoDB nests at most 32 levels and holds 400 KB an item; numbers must fit its range.
const MAX_DEPTH = 30;
const MAX_MAP_BYTES = 300_000;
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

export const encodePayload = (data: JsonObject): EncodedPayload => {
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json, 'utf8') <= MAX_MAP_BYTES && fitsDynamo(data, 1)) return { data };
  return { data_gz: gzipSync(json) };
};
