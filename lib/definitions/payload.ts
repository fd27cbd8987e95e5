// The payload codec: zlib against a preset dictionary of Aircall's shapes, and the way back from every form stored.

import { deflateSync, gunzipSync, inflateSync } from 'node:zlib';
import { type ExactInteger, isJsonObject, type JsonObject, type JsonValue, parseJson } from './json.js';
import { PAYLOAD_DICTIONARY_V1 } from './payload-dictionary.js';

// DynamoDB nests at most 32 levels and holds 400 KB an item; numbers must fit its range. Only what an older
// layout stored as a map is read back through these; the current one never writes a map.
const MAX_DEPTH = 30;
const MAX_MAP_BYTES = 200_000;
const MAX_MAGNITUDE = 9.9e125;
const MIN_MAGNITUDE = 1e-129;

/**
 * A payload as stored, under one attribute of three:
 * - `data_z`: zlib (RFC 1950) against a preset dictionary named by its header's DICTID. What persist writes.
 * - `data`: a map, and `data_gz`: gzipped JSON. What earlier layouts wrote; read as they are.
 */
export type EncodedPayload =
  | { readonly data_z: Uint8Array }
  | { readonly data: JsonObject }
  | { readonly data_gz: Uint8Array };

export const PAYLOAD_ATTRIBUTES = ['data_z', 'data', 'data_gz'] as const;
export type PayloadAttribute = (typeof PAYLOAD_ATTRIBUTES)[number];

/** The dictionaries a stored `data_z` may name, by their Adler-32. */
const DICTIONARIES: ReadonlyMap<number, Buffer> = new Map([
  [adler32(PAYLOAD_DICTIONARY_V1), PAYLOAD_DICTIONARY_V1],
]);

/** The dictionary persist compresses against now. */
const CURRENT_DICTIONARY = PAYLOAD_DICTIONARY_V1;

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65_521;
    b = (b + a) % 65_521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The DICTID of the dictionary persist compresses against: what the header of every `data_z` it writes names. */
export const PAYLOAD_DICTIONARY_ID: number = adler32(CURRENT_DICTIONARY);

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

/** True when the payload could be stored as a DynamoDB map of at most `maxBytes` of JSON. */
export const fitsAsMap = (data: JsonObject, maxBytes: number = MAX_MAP_BYTES): boolean =>
  Buffer.byteLength(JSON.stringify(data), 'utf8') <= maxBytes && fitsDynamo(data, 1);

export const encodePayload = (data: JsonObject): { readonly data_z: Uint8Array } => ({
  data_z: deflateSync(JSON.stringify(data), { dictionary: CURRENT_DICTIONARY }),
});

/** The attributes the other forms sit under: a writer removes them, so an item never keeps a stale payload. */
export const otherPayloadAttributes = (payload: EncodedPayload): PayloadAttribute[] =>
  PAYLOAD_ATTRIBUTES.filter((name) => !(name in payload));

// zlib's header: CMF, then FLG with bit 5 (FDICT) set when a 4-byte DICTID follows.
const FDICT = 0x20;

/** The JSON text of a `data_z`, inflated against the dictionary its header names. */
export const inflatePayload = (compressed: Uint8Array): string => {
  const flags = compressed[1] ?? 0;
  if ((flags & FDICT) === 0) return inflateSync(compressed).toString('utf8');
  const id = Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength).readUInt32BE(2);
  const dictionary = DICTIONARIES.get(id);
  if (dictionary === undefined)
    throw new Error(`data_z names dictionary ${id}, which this version does not have`);
  return inflateSync(compressed, { dictionary }).toString('utf8');
};

/** The JSON text a compressed payload holds; undefined for a map, which has none. */
export const payloadText = (payload: EncodedPayload): string | undefined => {
  if ('data_z' in payload) return inflatePayload(payload.data_z);
  if ('data_gz' in payload) return gunzipSync(payload.data_gz).toString('utf8');
  return undefined;
};

/**
 * The object a payload holds. `parse` reads compressed JSON: `JSON.parse` by default, or a parser that keeps
 * integers beyond 2^53 exact, for a reader that sends the payload on.
 */
export const decodePayload = (
  payload: EncodedPayload,
  parse: (text: string) => unknown = JSON.parse,
): JsonObject => {
  const text = payloadText(payload);
  if (text === undefined && 'data' in payload) return payload.data;
  const parsed: unknown = parse(text ?? '');
  if (!isJsonObject(parsed)) throw new Error('a compressed payload does not hold a JSON object');
  return parsed;
};

// Maps and lists only: a document client returns binary attributes as Uint8Array and sets as Set, to be kept as they are.
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/**
 * A stored item with every `data_z` and `data_gz` turned back into `data`, on the item and inside call insights
 * alike, so that readers see the one shape whichever form persist chose. Integers beyond 2^53 come back exact, as
 * {@link ExactInteger}s.
 */
export const decodeItem = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(decodeItem);
  if (!isPlainObject(value)) return value;
  const decoded: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'data_z' && inner instanceof Uint8Array)
      decoded.data = decodePayload({ data_z: inner }, parseJson);
    else if (key === 'data_gz' && inner instanceof Uint8Array)
      decoded.data = decodePayload({ data_gz: inner }, parseJson);
    else decoded[key] = decodeItem(inner);
  }
  return decoded;
};
