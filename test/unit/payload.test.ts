// The payload codec: what persist encodes, a reader decodes to the same JSON object, inline or gzipped.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../lambdas/shared/envelope.js';
import {
  decodeItem,
  decodePayload,
  type EncodedPayload,
  encodePayload,
} from '../../lib/definitions/payload.js';

/** JSON objects with keys and numbers drawn from the given arbitraries, nested ten levels at most. */
const jsonObjects = (key: fc.Arbitrary<string>, number: fc.Arbitrary<number>): fc.Arbitrary<JsonObject> =>
  fc.letrec<{ value: JsonValue; object: JsonObject }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 10, depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.string(),
      number,
      fc.array(tie('value')),
      tie('object'),
    ),
    // JSON.parse never builds an object without a prototype, so neither does this.
    object: fc.dictionary(key, tie('value'), { noNullPrototype: true }),
  })).object;

// -0 has no JSON text of its own (JSON.stringify writes 0), so it cannot come back from gzipped JSON as -0.
const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));

/** Any JSON object: empty keys and numbers beyond DynamoDB's range included, so both forms are drawn. */
const anyJsonObject = jsonObjects(fc.string(), anyDouble);

/** JSON objects DynamoDB holds as a map: non-empty keys, integers, shallow and small. */
const mapSafeObject = jsonObjects(fc.string({ minLength: 1 }), fc.integer());

const nested = (depth: number): JsonValue => (depth === 0 ? 1 : { a: nested(depth - 1) });

/** One attribute each that DynamoDB cannot hold in a map: the reasons the codec falls back to gzip. */
const notAMap = fc.constantFrom<JsonObject>(
  { '': 'an empty key' },
  { huge: 1e200 },
  { tiny: 1e-200 },
  { deep: nested(31) },
  { long: 'x'.repeat(200_001) },
);

const isInline = (payload: EncodedPayload): payload is { readonly data: JsonObject } => 'data' in payload;

describe('the payload codec', () => {
  it('gives back every JSON object it encodes', () => {
    fc.assert(
      fc.property(anyJsonObject, (data) => {
        expect(decodePayload(encodePayload(data))).toEqual(data);
      }),
    );
  });

  it('keeps a JSON object DynamoDB can hold as an inline map, and gives it back', () => {
    fc.assert(
      fc.property(mapSafeObject, (data) => {
        const encoded = encodePayload(data);
        expect(isInline(encoded)).toBe(true);
        expect(decodePayload(encoded)).toEqual(data);
      }),
    );
  });

  it('gzips a JSON object DynamoDB cannot hold as a map, and gives it back', () => {
    fc.assert(
      fc.property(mapSafeObject, notAMap, (safe, unsafe) => {
        const data = { ...safe, ...unsafe };
        const encoded = encodePayload(data);
        expect(isInline(encoded)).toBe(false);
        expect(decodePayload(encoded)).toEqual(data);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses gzipped JSON that is not an object', () => {
    expect(() => decodePayload({ data_gz: gzipSync('[1, 2]') })).toThrow(/not hold a gzipped JSON object/);
  });
});

describe('decodeItem', () => {
  it('turns data_gz back into data on the item and inside its insights, and leaves other values as stored', () => {
    const callData = { '': 'an empty key', id: 1 };
    const transcript = { deep: nested(31) };
    const recording = new Uint8Array([1, 2, 3]);
    const tags = new Set(['vip']);
    const item = {
      id: 1,
      ...encodePayload(callData),
      transcription: { order_key: 'k', ...encodePayload(transcript) },
      topics: { order_key: 'k', ...encodePayload({ topics: ['billing'] }) },
      recording,
      tags,
    };

    expect(decodeItem(item)).toEqual({
      id: 1,
      data: callData,
      transcription: { order_key: 'k', data: transcript },
      topics: { order_key: 'k', data: { topics: ['billing'] } },
      recording,
      tags,
    });
  });
});
