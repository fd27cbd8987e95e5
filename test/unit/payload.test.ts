// The payload codec: what persist encodes, a reader decodes to the same JSON object, inline or gzipped.
import { deflateSync, gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../lambdas/shared/envelope.js';
import { ExactInteger, parseJson } from '../../lib/definitions/json.js';
import {
  decodeItem,
  decodePayload,
  encodePayload,
  otherPayloadAttributes,
  PAYLOAD_DICTIONARY_ID,
} from '../../lib/definitions/payload.js';
import { PAYLOAD_DICTIONARY_V1 } from '../../lib/definitions/payload-dictionary.js';
import { sample } from '../support/fixtures.js';

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

/** A call as Aircall sent it. */
const CALL = sample('captured-outbound-call.ended').data;

/** The Adler-32 of the first dictionary: what every `data_z` written with it names. */
const DICTIONARY_ID_V1 = 4_199_994_924;

describe('the payload codec', () => {
  it('gives back every JSON object it encodes', () => {
    fc.assert(
      fc.property(anyJsonObject, (data) => {
        expect(decodePayload(encodePayload(data))).toEqual(data);
      }),
    );
  });

  it('compresses against the preset dictionary, which its header names by Adler-32', () => {
    const { data_z } = encodePayload(CALL);
    const header = Buffer.from(data_z);

    expect((header[1] ?? 0) & 0x20).toBe(0x20);
    expect(header.readUInt32BE(2)).toBe(PAYLOAD_DICTIONARY_ID);
    expect(inflateSync(header, { dictionary: PAYLOAD_DICTIONARY_V1 }).toString('utf8')).toBe(
      JSON.stringify(CALL),
    );
  });

  it('keeps a call Aircall sent under half the size gzip alone makes it', () => {
    const text = JSON.stringify(CALL);

    expect(encodePayload(CALL).data_z.byteLength).toBeLessThan(gzipSync(text).byteLength / 2);
  });

  it('never changes the dictionary, which every stored payload names', () => {
    expect(PAYLOAD_DICTIONARY_ID).toBe(DICTIONARY_ID_V1);
  });

  it('reads back the map and the gzipped JSON that earlier layouts stored', () => {
    fc.assert(
      fc.property(mapSafeObject, (data) => {
        expect(decodePayload({ data })).toEqual(data);
        expect(decodePayload({ data_gz: gzipSync(JSON.stringify(data)) })).toEqual(data);
      }),
      { numRuns: 50 },
    );
  });

  it('compresses what DynamoDB could not hold as a map as it does the rest, and gives it back', () => {
    fc.assert(
      fc.property(mapSafeObject, notAMap, (safe, unsafe) => {
        const data = { ...safe, ...unsafe };
        expect(decodePayload(encodePayload(data))).toEqual(data);
      }),
      { numRuns: 50 },
    );
  });

  it('names the attributes of the other forms, for a writer to remove', () => {
    expect(otherPayloadAttributes(encodePayload(CALL))).toEqual(['data', 'data_gz']);
  });

  it('keeps integers beyond 2^53 exact when given a parser that does', () => {
    const payload = encodePayload({ id: new ExactInteger('12345678901234567890') });

    expect(decodePayload(payload, parseJson)).toEqual({ id: new ExactInteger('12345678901234567890') });
  });

  it('refuses compressed JSON that is not an object, and a dictionary it does not have', () => {
    expect(() => decodePayload({ data_gz: gzipSync('[1, 2]') })).toThrow(/does not hold a JSON object/);
    const foreign = deflateSync('{}', { dictionary: Buffer.from('another dictionary') });
    expect(() => decodePayload({ data_z: foreign })).toThrow(
      /names dictionary \d+, which this version does not have/,
    );
  });
});

describe('decodeItem', () => {
  it('turns data_z and data_gz back into data on the item and inside its insights, and leaves other values as stored', () => {
    const callData = { '': 'an empty key', id: 1 };
    const transcript = { deep: nested(31) };
    const recording = new Uint8Array([1, 2, 3]);
    const tags = new Set(['vip']);
    const item = {
      id: 1,
      ...encodePayload(callData),
      transcription: { order_key: 'k', ...encodePayload(transcript) },
      topics: { order_key: 'k', data_gz: gzipSync(JSON.stringify({ topics: ['billing'] })) },
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
