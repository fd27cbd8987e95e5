// Whether persist can store an event: the one check ingest answers 400 or 413 by, and persist classifies records by.

import { PAYLOAD_CAP } from '../../lib/definitions/pipeline.js';
import { type AircallEnvelope, ExactInteger, type JsonValue } from './envelope.js';

export interface StorabilityProblem {
  /** 400: a name, key, number or nesting DynamoDB cannot hold. 413: `data` larger than the payload cap. */
  readonly status: 400 | 413;
  /** Names the field and never quotes a value, so that it can go to the caller and to the log alike. */
  readonly reason: string;
}

export interface StorabilityLimits {
  /**
   * The payload cap, in bytes, of `data` as JSON text and as DynamoDB encodes it.
   * @default PAYLOAD_CAP.maxBytes, the largest cap under which every item persist writes fits
   */
  readonly maxPayloadBytes?: number;
  /**
   * The UTF-8 length of the JSON text the envelope was parsed from, when the caller knows it: it bounds the JSON
   * length of `data`, which then need not be serialized again to be measured.
   */
  readonly sourceBytes?: number;
}

/** DynamoDB's own limits, as its developer guide states them. */
export const DYNAMODB_LIMITS = {
  partitionKeyBytes: 2048,
  sortKeyBytes: 1024,
  itemBytes: 400 * 1024,
  /** Attribute names, map keys at any depth included, are 1 byte to under 64 KB. */
  attributeNameBytes: 65_535,
  significantDigits: 38,
  /** Magnitudes from 1E-130 up to, not including, 1E+126 (9.9999999999999999999999999999999999999E+125 at most). */
  minMagnitude: 1e-130,
  maxMagnitudeExclusive: 1e126,
} as const;

// The events table keys as persist builds them (records.ts eventPartition, ordering.ts eventSortKey):
// pk `<resource, or "call" for a call's events>#<id>`, sk `<timestamp>#<rank>#<event>#<digest>`, where the
// timestamp takes 12 to 16 digits, the rank 2 and the digest 16.
const SORT_KEY_FIXED_BYTES = 16 + 1 + 2 + 1 + 1 + 16;
/** The longest event name the events table's sort key has room for. */
export const MAX_EVENT_BYTES = DYNAMODB_LIMITS.sortKeyBytes - SORT_KEY_FIXED_BYTES;
// A call id persist takes from `call_id` or `call.id` is a safe integer: 16 digits at most.
const CALL_ID_BYTES = 16;

/**
 * Nesting `data` may reach, counting `data` as level 1: DynamoDB nests 32 levels, and a call keeps an insight's
 * data two levels down (`calls.<kind>.data`). The payload codec stores the same depth as a map.
 */
export const MAX_DATA_DEPTH = 30;

// Date covers ±8.64e15 ms; persist derives a UTC day (started_day, missed_day) from a call's started_at.
const MAX_DAY_SECONDS = 8.64e12;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_SHOWN = 40;

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
// ASCII is well formed and a byte a character: one test answers both for nearly every string Aircall sends.
const ASCII = /^[^\u0080-\uffff]*$/;
// Node.js 24 has String.prototype.isWellFormed; TypeScript's ES2023 library does not declare it.
const isWellFormed = (text: string): boolean =>
  (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A path like `data.tags[0].id`, keys cut short, for a reason the caller reads. */
const showPath = (path: readonly (string | number)[]): string =>
  path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (i === 0) return segment;
      if (IDENTIFIER.test(segment) && segment.length <= NAME_SHOWN) return `.${segment}`;
      // JSON.stringify escapes what cannot be shown as it is, a lone surrogate included.
      return `[${JSON.stringify(segment.length <= NAME_SHOWN ? segment : `${segment.slice(0, NAME_SHOWN)}…`)}]`;
    })
    .join('');

const ZERO = 48;
const POINT = 46;
const MINUS = 45;

/** Significant digits of a number's decimal text, as DynamoDB counts them: leading and trailing zeros trimmed. */
const significantDigits = (text: string): number => {
  const exponent = text.search(/e/i);
  let end = exponent === -1 ? text.length : exponent;
  let start = text.charCodeAt(0) === MINUS ? 1 : 0;
  while (start < end && (text.charCodeAt(start) === ZERO || text.charCodeAt(start) === POINT)) start += 1;
  while (end > start && (text.charCodeAt(end - 1) === ZERO || text.charCodeAt(end - 1) === POINT)) end -= 1;
  const point = text.indexOf('.', start);
  return end - start - (point !== -1 && point < end ? 1 : 0);
};

/** The text DynamoDB receives for a number: its digits for an exact integer, else JavaScript's shortest form. */
const numberText = (value: number | ExactInteger): string =>
  value instanceof ExactInteger ? value.toString() : String(value);

const numberProblem = (value: number | ExactInteger, text: string): string | undefined => {
  const magnitude = Math.abs(typeof value === 'number' ? value : Number(text));
  if (!Number.isFinite(magnitude) || magnitude >= DYNAMODB_LIMITS.maxMagnitudeExclusive)
    return 'is a number of a magnitude above DynamoDB’s 9.99…E+125';
  if (magnitude !== 0 && magnitude < DYNAMODB_LIMITS.minMagnitude)
    return 'is a number of a magnitude below DynamoDB’s 1E-130';
  if (significantDigits(text) > DYNAMODB_LIMITS.significantDigits)
    return 'is a number of more than the 38 significant digits DynamoDB keeps';
  return undefined;
};

/** What a document client writes: JSON values, and binaries (a gzipped payload). */
export type EncodableValue =
  | JsonValue
  | Uint8Array
  | readonly EncodableValue[]
  | { readonly [key: string]: EncodableValue };

const problemAt = (path: readonly (string | number)[], what: string): StorabilityProblem => ({
  status: 400,
  reason: `"${showPath(path)}" ${what}`,
});

// Serialized again, a number takes at most this many characters (`-0.0000012345678901234567` is 25), and took at
// least one in the source: a JSON text grows by less than this a number once parsed and written back, and its
// strings never grow (escapes only shrink, and a lone surrogate is refused).
const MAX_NUMBER_CHARS = 25;

/** What a walk counts besides the size: the numbers it met, each of which may grow when serialized again. */
interface Walk {
  numbers: number;
}

/** Significant digits of a safe integer, as DynamoDB counts them: trailing zeros left out. */
const integerDigits = (value: number): number => {
  let rest = Math.abs(value);
  if (rest === 0) return 0;
  while (rest % 10 === 0) rest /= 10;
  let digits = 1;
  while (rest >= 10) {
    rest = Math.floor(rest / 10);
    digits += 1;
  }
  return digits;
};

/**
 * The size DynamoDB counts for a value, by its developer guide: strings and binaries by their bytes, a number
 * 1 byte plus 1 per two significant digits, null and booleans 1, a list or map 3 plus, per element, 1 and its key.
 * Given the path to the value, it also checks what DynamoDB cannot hold, and returns the first problem instead.
 * One walk does both, so ingest reads a body once.
 */
const sizeOrProblem = (
  value: EncodableValue,
  depth: number,
  path: (string | number)[] | undefined,
  walk?: Walk,
): number | StorabilityProblem => {
  if (path !== undefined && depth > MAX_DATA_DEPTH)
    return problemAt(path, `nests deeper than the ${MAX_DATA_DEPTH} levels DynamoDB can hold`);
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') {
    if (ASCII.test(value)) return value.length;
    if (path !== undefined && !isWellFormed(value))
      return problemAt(path, 'holds a lone surrogate, which UTF-8 cannot encode');
    return bytes(value);
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    // The common case, with no text to make: within every limit, and sized by its digits.
    if (walk !== undefined) walk.numbers += 1;
    return 1 + Math.ceil(integerDigits(value) / 2);
  }
  if (typeof value === 'number' || value instanceof ExactInteger) {
    if (walk !== undefined) walk.numbers += 1;
    const text = numberText(value);
    const problem = path === undefined ? undefined : numberProblem(value, text);
    return problem === undefined
      ? 1 + Math.ceil(significantDigits(text) / 2)
      : problemAt(path ?? [], problem);
  }
  if (value instanceof Uint8Array) return value.byteLength;
  let size = 3;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      path?.push(i);
      const item = sizeOrProblem(value[i] ?? null, depth + 1, path, walk);
      if (typeof item !== 'number') return item;
      path?.pop();
      size += 1 + item;
    }
    return size;
  }
  const members = value as { readonly [key: string]: EncodableValue };
  for (const key of Object.keys(members)) {
    const item = members[key] ?? null;
    const ascii = ASCII.test(key);
    if (path !== undefined) {
      path.push(key);
      // JSON.parse makes "__proto__" an own key, but copying the object key by key (as a document client does on
      // every read) sets the prototype instead.
      if (key === '__proto__') return problemAt(path, 'is a key that would set an object’s prototype');
      if (key === '') return problemAt(path, 'is an empty key, which DynamoDB refuses');
      if (!ascii && !isWellFormed(key))
        return problemAt(path, 'is a key with a lone surrogate, which UTF-8 cannot encode');
    }
    const keyBytes = ascii ? key.length : bytes(key);
    if (path !== undefined && keyBytes > DYNAMODB_LIMITS.attributeNameBytes)
      return problemAt(path, 'is a key longer than DynamoDB’s 64 KB');
    const itemSize = sizeOrProblem(item, depth + 1, path, walk);
    if (typeof itemSize !== 'number') return itemSize;
    path?.pop();
    size += 1 + keyBytes + itemSize;
  }
  return size;
};

/** The size DynamoDB counts for a value (see {@link sizeOrProblem}), for a value already known to be storable. */
export const encodedSize = (value: EncodableValue | undefined): number => {
  if (value === undefined) return 0;
  const size = sizeOrProblem(value, 1, undefined);
  return typeof size === 'number' ? size : Number.NaN;
};

/** True for `constructor`, `__proto__`, `toString` and the like: names every plain object answers to. */
const isInheritedName = (name: string): boolean => name in Object.prototype;

const nameProblem = (envelope: AircallEnvelope): StorabilityProblem | undefined => {
  const refuse = (reason: string): StorabilityProblem => ({ status: 400, reason });
  const { resource, event, data } = envelope;
  if (!isWellFormed(resource)) return refuse('"resource" holds a lone surrogate, which UTF-8 cannot encode');
  if (!isWellFormed(event)) return refuse('"event" holds a lone surrogate, which UTF-8 cannot encode');
  if (isInheritedName(resource)) return refuse('"resource" is a name every JavaScript object has');
  if (isInheritedName(event) || isInheritedName(event.replace(/\.v2$/, '')))
    return refuse('"event" is a name every JavaScript object has');
  if (bytes(event) > MAX_EVENT_BYTES)
    return refuse(
      `"event" is longer than the ${MAX_EVENT_BYTES} bytes the event log's sort key has room for`,
    );
  const ownId = data.id;
  const idBytes =
    typeof ownId === 'string'
      ? bytes(ownId)
      : typeof ownId === 'number' || ownId instanceof ExactInteger
        ? numberText(ownId).length
        : 0;
  const partitionKeyBytes = Math.max(bytes(resource), bytes('call')) + 1 + Math.max(idBytes, CALL_ID_BYTES);
  if (partitionKeyBytes > DYNAMODB_LIMITS.partitionKeyBytes) {
    return refuse(
      `"resource" and "data.id" are longer together than the event log's ${DYNAMODB_LIMITS.partitionKeyBytes}-byte partition key allows`,
    );
  }
  return undefined;
};

/**
 * Why persist could never store this event, or undefined when it can: every event-log row and state item it
 * implies has keys within DynamoDB's limits, numbers DynamoDB holds, no key DynamoDB or a reader mishandles, a
 * nesting the payload codec keeps as a map, a day for every time a day is derived from, and a `data` within the
 * payload cap, as JSON text and as DynamoDB encodes it. Pure: ingest answers with it, persist classifies with it.
 */
export const storabilityProblem = (
  envelope: AircallEnvelope,
  limits: StorabilityLimits = {},
): StorabilityProblem | undefined => {
  const maxPayloadBytes = limits.maxPayloadBytes ?? PAYLOAD_CAP.maxBytes;
  const problem = nameProblem(envelope);
  if (problem !== undefined) return problem;
  const walk: Walk = { numbers: 0 };
  const storedBytes = sizeOrProblem(envelope.data, 1, ['data'], walk);
  if (typeof storedBytes !== 'number') return storedBytes;

  const { started_at: startedAt } = envelope.data;
  if (
    envelope.resource === 'call' &&
    typeof startedAt === 'number' &&
    !(Math.abs(startedAt) <= MAX_DAY_SECONDS)
  )
    return {
      status: 400,
      reason: '"data.started_at" is not a time in seconds a calendar day can be found for',
    };

  // Measured only now, and only when the source's own length cannot answer: JSON.stringify recurses (the nesting is
  // known to be shallow), and costs more than the rest of the check together.
  const jsonBound =
    limits.sourceBytes === undefined
      ? Number.POSITIVE_INFINITY
      : limits.sourceBytes + MAX_NUMBER_CHARS * walk.numbers;
  const jsonBytes = jsonBound <= maxPayloadBytes ? 0 : bytes(JSON.stringify(envelope.data));
  if (jsonBytes > maxPayloadBytes)
    return {
      status: 413,
      reason: `"data" is ${jsonBytes} bytes of JSON, over the ${maxPayloadBytes} stored`,
    };
  if (storedBytes > maxPayloadBytes) {
    return {
      status: 413,
      reason: `"data" is ${storedBytes} bytes as DynamoDB encodes it, over the ${maxPayloadBytes} stored`,
    };
  }
  return undefined;
};
