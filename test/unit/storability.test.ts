// The one check of what persist can store: real events pass, and each thing DynamoDB or persist cannot hold is named.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExactInteger, type JsonValue, parseEnvelope } from '../../lambdas/shared/envelope.js';
import {
  encodedSize,
  MAX_DATA_DEPTH,
  MAX_EVENT_BYTES,
  storabilityProblem,
} from '../../lambdas/shared/storability.js';
import { PAYLOAD_CAP } from '../../lib/definitions/pipeline.js';
import { type SampleName, sample } from '../support/fixtures.js';

const SAMPLES = readdirSync(new URL('../fixtures/aircall/', import.meta.url))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length) as SampleName);

/** The JSON text of an envelope: `data` is given as JSON text. */
const envelopeText = (fields: { resource?: string; event?: string; data?: string }): string =>
  `{"resource":${JSON.stringify(fields.resource ?? 'call')},"event":${JSON.stringify(fields.event ?? 'call.ended')},` +
  `"timestamp":1646389786,"token":"t","data":${fields.data ?? '{"id":1}'}}`;

/** An envelope parsed from JSON text, as ingest and persist parse it. */
const envelope = (fields: Parameters<typeof envelopeText>[0]) => parseEnvelope(envelopeText(fields));

const problemOf = (fields: Parameters<typeof envelope>[0], maxPayloadBytes?: number) =>
  storabilityProblem(envelope(fields), maxPayloadBytes === undefined ? {} : { maxPayloadBytes });

const nested = (levels: number): string => `${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)}`;

describe('storabilityProblem', () => {
  it.each(SAMPLES)('accepts the real %s, under the smallest cap too', (name) => {
    expect(storabilityProblem(sample(name))).toBeUndefined();
    expect(storabilityProblem(sample(name), { maxPayloadBytes: PAYLOAD_CAP.minBytes })).toBeUndefined();
  });

  it('accepts ids beyond 2^53 and keeps their digits', () => {
    const parsed = envelope({
      data: '{"id":9007199254740993,"user":{"id":18446744073709551615},"offset":-9223372036854775808}',
    });
    expect(storabilityProblem(parsed)).toBeUndefined();
    expect(parsed.data.id).toBeInstanceOf(ExactInteger);
    expect(String(parsed.data.id)).toBe('9007199254740993');
    expect(JSON.stringify(parsed.data)).toBe(
      '{"id":9007199254740993,"user":{"id":18446744073709551615},"offset":-9223372036854775808}',
    );
  });

  it('accepts an unknown resource and event, and ids DynamoDB keys hold', () => {
    expect(
      problemOf({ resource: 'hologram', event: 'hologram.beamed', data: '{"id":"a-uuid"}' }),
    ).toBeUndefined();
  });

  describe('the event log keys', () => {
    it('refuses a resource that leaves no room in the 2048-byte partition key, counting bytes', () => {
      // `<resource>#<id>` with room for a 16-digit id.
      expect(problemOf({ resource: 'r'.repeat(2031), data: '{}' })).toBeUndefined();
      expect(problemOf({ resource: 'r'.repeat(2032), data: '{}' })).toEqual({
        status: 400,
        reason:
          '"resource" and "data.id" are longer together than the event log\'s 2048-byte partition key allows',
      });
      expect(problemOf({ resource: 'é'.repeat(1016), data: '{}' })?.status).toBe(400);
      expect(problemOf({ resource: 'r'.repeat(2049), data: '{}' })?.status).toBe(400);
    });

    it('refuses a string id that leaves the partition key too long', () => {
      // `note#<id>`: 5 bytes and the id.
      expect(problemOf({ resource: 'note', data: JSON.stringify({ id: 'i'.repeat(2043) }) })).toBeUndefined();
      expect(problemOf({ resource: 'note', data: JSON.stringify({ id: 'i'.repeat(2044) }) })?.status).toBe(
        400,
      );
    });

    it('refuses an event longer than the 1024-byte sort key has room for', () => {
      expect(MAX_EVENT_BYTES).toBe(1024 - 37);
      expect(problemOf({ event: `call.${'e'.repeat(MAX_EVENT_BYTES - 5)}` })).toBeUndefined();
      expect(problemOf({ event: `call.${'e'.repeat(MAX_EVENT_BYTES - 4)}` })).toEqual({
        status: 400,
        reason: `"event" is longer than the ${MAX_EVENT_BYTES} bytes the event log's sort key has room for`,
      });
      expect(problemOf({ event: 'e'.repeat(1025) })?.status).toBe(400);
    });
  });

  it.each([
    ['resource', 'constructor'],
    ['resource', '__proto__'],
    ['resource', 'toString'],
    ['resource', 'hasOwnProperty'],
    ['event', 'constructor'],
    ['event', 'valueOf.v2'],
  ])('refuses the %s %j, a name every object inherits', (field, name) => {
    expect(problemOf({ [field]: name })).toEqual({
      status: 400,
      reason: `"${field}" is a name every JavaScript object has`,
    });
  });

  it.each([
    ['at the top of data', '{"id":1,"__proto__":{"admin":true}}', '"data.__proto__"'],
    ['in a nested object', '{"id":1,"user":{"__proto__":null}}', '"data.user.__proto__"'],
    ['inside an array', '{"id":1,"tags":[{"name":"a"},{"__proto__":1}]}', '"data.tags[1].__proto__"'],
  ])('refuses a __proto__ key %s, and says where', (_, data, path) => {
    expect(problemOf({ data })).toEqual({
      status: 400,
      reason: `${path} is a key that would set an object’s prototype`,
    });
  });

  it('refuses an empty key and a key of 64 KB, which DynamoDB refuses', () => {
    expect(problemOf({ data: '{"id":1,"tags":[{"":1}]}' })?.reason).toBe(
      '"data.tags[0][""]" is an empty key, which DynamoDB refuses',
    );
    const long = 'k'.repeat(65_536);
    expect(problemOf({ data: JSON.stringify({ id: 1, [long]: 1 }) }, PAYLOAD_CAP.maxBytes)?.reason).toMatch(
      /^"data\["k{40}…"\]" is a key longer than DynamoDB’s 64 KB$/,
    );
  });

  it.each([
    ['1e300', 'above'],
    ['1e200', 'above'],
    ['-1e200', 'above'],
    ['1e126', 'above'],
    ['1e400', 'above'],
    ['1e-131', 'below'],
    ['-1e-200', 'below'],
  ])('refuses duration %s, of a magnitude %s what DynamoDB holds', (number, side) => {
    expect(problemOf({ data: `{"id":1,"duration":${number}}` })).toEqual({
      status: 400,
      reason: `"data.duration" is a number of a magnitude ${side} DynamoDB’s ${side === 'above' ? '9.99…E+125' : '1E-130'}`,
    });
  });

  it('refuses an integer of more than 38 significant digits, wherever it sits', () => {
    expect(problemOf({ data: `{"id":1,"cost":[${'9'.repeat(39)}]}` })).toEqual({
      status: 400,
      reason: '"data.cost[0]" is a number of more than the 38 significant digits DynamoDB keeps',
    });
  });

  it.each([
    ['0', '0'],
    ['-0', '-0'],
    ['the largest magnitude', '9.999e125'],
    ['the smallest magnitude', '1e-130'],
    ['38 significant digits', '9'.repeat(38)],
    ['trailing zeros, which DynamoDB trims', `1${'0'.repeat(60)}`],
    ['a decimal JSON.parse rounds to 17 digits', `0.${'1'.repeat(45)}`],
  ])('accepts %s', (_, number) => {
    expect(problemOf({ data: `{"id":1,"value":${number}}` })).toBeUndefined();
  });

  it('refuses a call started_at persist cannot find a day for, and leaves other resources’ alone', () => {
    expect(problemOf({ data: '{"id":1,"started_at":1e300}' })?.status).toBe(400);
    expect(problemOf({ data: '{"id":1,"started_at":8640000000001}' })).toEqual({
      status: 400,
      reason: '"data.started_at" is not a time in seconds a calendar day can be found for',
    });
    expect(problemOf({ data: '{"id":1,"started_at":8640000000000}' })).toBeUndefined();
    expect(problemOf({ data: '{"id":1,"started_at":-8640000000000}' })).toBeUndefined();
    expect(problemOf({ data: '{"id":1,"started_at":null}' })).toBeUndefined();
    expect(
      problemOf({ resource: 'user', event: 'user.opened', data: '{"id":1,"started_at":8640000000001}' }),
    ).toBe(undefined);
  });

  it('refuses a lone surrogate, which UTF-8 cannot encode, in a value, a key or a name', () => {
    expect(problemOf({ data: '{"id":1,"note":"a\\ud800b"}' })?.reason).toBe(
      '"data.note" holds a lone surrogate, which UTF-8 cannot encode',
    );
    expect(problemOf({ data: '{"id":1,"\\udc00":1}' })?.status).toBe(400);
    expect(problemOf({ event: 'call.\ud800' })?.status).toBe(400);
    expect(problemOf({ data: '{"id":1,"note":"\\ud83d\\ude00"}' })).toBeUndefined();
  });

  it(`refuses data nested deeper than ${MAX_DATA_DEPTH} levels`, () => {
    expect(problemOf({ data: `{"deep":${nested(MAX_DATA_DEPTH - 1)}}` })).toBeUndefined();
    expect(problemOf({ data: `{"deep":${nested(MAX_DATA_DEPTH)}}` })).toEqual({
      status: 400,
      reason: `"data.deep${'[0]'.repeat(MAX_DATA_DEPTH - 1)}" nests deeper than the ${MAX_DATA_DEPTH} levels DynamoDB can hold`,
    });
  });

  it('refuses about 480 KB of incompressible data as too large', () => {
    const data = JSON.stringify({ id: 1, noise: randomBytes(360_000).toString('base64') });
    expect(problemOf({ data })).toEqual({
      status: 413,
      reason: `"data" is ${Buffer.byteLength(data)} bytes of JSON, over the ${PAYLOAD_CAP.maxBytes} stored`,
    });
  });

  it('takes data of exactly the cap, as JSON, and refuses one byte more', () => {
    const cap = PAYLOAD_CAP.minBytes;
    const fill = (length: number) => JSON.stringify({ id: 1, note: 'x'.repeat(length) });
    const exact = fill(cap - fill(0).length);
    expect(Buffer.byteLength(exact)).toBe(cap);
    expect(problemOf({ data: exact }, cap)).toBeUndefined();
    expect(problemOf({ data: fill(cap - fill(0).length + 1) }, cap)?.status).toBe(413);
  });

  it('refuses data under the cap as JSON but over it as DynamoDB encodes it', () => {
    const cap = PAYLOAD_CAP.minBytes;
    // Each [[…]] chain costs 2 bytes of JSON a level and 4 as DynamoDB counts it.
    const chains = Array.from({ length: 100 }, () => JSON.parse(nested(28)) as JsonValue);
    const data = { id: 1, chains };
    expect(Buffer.byteLength(JSON.stringify(data))).toBeLessThan(cap);
    expect(encodedSize(data)).toBeGreaterThan(cap);
    expect(problemOf({ data: JSON.stringify(data) }, cap)).toEqual({
      status: 413,
      reason: `"data" is ${encodedSize(data)} bytes as DynamoDB encodes it, over the ${cap} stored`,
    });
  });

  it('measures data that grows when serialized again, even when told the length of its source', () => {
    const cap = PAYLOAD_CAP.minBytes;
    // `1e20` is 4 characters in the source and 21 written back: the stored JSON is five times the body.
    const data = `{"id":1,"n":[${Array.from({ length: 1500 }, () => '1e20').join(',')}]}`;
    const body = envelopeText({ data });
    expect(Buffer.byteLength(body)).toBeLessThan(cap);
    expect(Buffer.byteLength(JSON.stringify(JSON.parse(data)))).toBeGreaterThan(cap);

    const problem = storabilityProblem(parseEnvelope(body), {
      maxPayloadBytes: cap,
      sourceBytes: Buffer.byteLength(body),
    });
    expect(problem?.status).toBe(413);
  });

  it('answers the same told the length of its source as not, for every sample', () => {
    for (const name of SAMPLES) {
      const text = JSON.stringify(sample(name));
      const parsed = parseEnvelope(text);
      expect(storabilityProblem(parsed, { sourceBytes: Buffer.byteLength(text) })).toEqual(
        storabilityProblem(parsed),
      );
    }
  });

  it('names the field in its reason and never quotes the value', () => {
    const reason = problemOf({
      data: '{"id":1,"secret-looking":1e300,"note":"a-value-to-keep-private"}',
    })?.reason;
    expect(reason).toBe('"data["secret-looking"]" is a number of a magnitude above DynamoDB’s 9.99…E+125');
    expect(reason).not.toContain('1e300');
    expect(reason).not.toContain('a-value-to-keep-private');
  });
});

describe('encodedSize', () => {
  it('counts as the DynamoDB developer guide does', () => {
    expect(encodedSize('héllo')).toBe(6);
    expect(encodedSize(null)).toBe(1);
    expect(encodedSize(true)).toBe(1);
    // 1 byte plus 1 per two significant digits, leading and trailing zeros trimmed.
    expect(encodedSize(1)).toBe(2);
    expect(encodedSize(123)).toBe(3);
    expect(encodedSize(12_300_000)).toBe(3);
    expect(encodedSize(0.0012)).toBe(2);
    expect(encodedSize(new ExactInteger('9007199254740993'))).toBe(9);
    expect(encodedSize(new Uint8Array(10))).toBe(10);
    // A list or map: 3 bytes, and 1 per element beside the element (and its key).
    expect(encodedSize([])).toBe(3);
    expect(encodedSize([1, 'ab'])).toBe(3 + 1 + 2 + 1 + 2);
    expect(encodedSize({ ab: 1, c: [] })).toBe(3 + (1 + 2 + 2) + (1 + 1 + 3));
  });
});
