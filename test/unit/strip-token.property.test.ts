// Cutting the token out of a webhook body: the rest parses to the same object, and every other byte is the sender's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withoutTopLevelMember } from '../../lambdas/ingest/strip-token.js';

const whitespace = fc.constantFrom('', ' ', '  ', '\n', '\t', '\r\n  ');

/** A key as JSON text: plain, or with some characters written as \u escapes, which JSON.parse reads the same. */
const keyText = (key: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((escapes) => {
    const chars = [...key].map((c, i) =>
      escapes[i] === true && c.length === 1
        ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
        : JSON.stringify(c).slice(1, -1),
    );
    return `"${chars.join('')}"`;
  });

// Values as JSON text, big integers among them: the bytes the scanner must carry across unchanged.
const valueText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '9007199254740993',
    '-18446744073709551615',
    '1E400',
    '"to\\"ken"',
    '"}"',
    '[{"token":"x"}]',
  ),
);

interface Member {
  readonly key: string;
  readonly text: string;
}

const member = (key: fc.Arbitrary<string>): fc.Arbitrary<Member> =>
  fc
    .record({ key, before: whitespace, after: whitespace, value: valueText })
    .chain(({ key: k, before, after, value }) =>
      keyText(k).map((text) => ({ key: k, text: `${text}${before}:${after}${value}` })),
    );

// Any key but "token" and "__proto__" (JSON.parse makes it an own key, which toEqual reads as a prototype).
const otherKey = fc.string({ unit: 'binary' }).filter((k) => k !== 'token' && k !== '__proto__');

/** Object bodies made of members and the separators between them, so the expected cut is known piece by piece. */
const bodies = fc.record({
  members: fc.array(fc.oneof({ weight: 4, arbitrary: member(otherKey) }, member(fc.constant('token'))), {
    maxLength: 8,
  }),
  separators: fc.array(fc.tuple(whitespace, whitespace), { minLength: 8, maxLength: 8 }),
  lead: whitespace,
  open: whitespace,
  close: whitespace,
});

type Body = typeof bodies extends fc.Arbitrary<infer B> ? B : never;

const separator = (body: Body, k: number): string => {
  const [before, after] = body.separators[k] ?? ['', ''];
  return `${before},${after}`;
};

const text = (body: Body): string =>
  `${body.lead}{${body.open}${body.members.map((m, k) => (k === 0 ? m.text : `${separator(body, k)}${m.text}`)).join('')}${body.close}}`;

/** The same body without its token members: each goes with the separator before it, or after it when first. */
const expectedCut = (body: Body): string => {
  const kept = body.members.map((m, k) => ({ m, k })).filter(({ m }) => m.key !== 'token');
  return `${body.lead}{${body.open}${kept.map(({ m, k }, i) => (i === 0 ? m.text : `${separator(body, k)}${m.text}`)).join('')}${body.close}}`;
};

const withoutToken = (value: Record<string, unknown>): Record<string, unknown> => {
  const { token: _token, ...rest } = value;
  return rest;
};

describe('withoutTopLevelMember', () => {
  it('leaves a body with no top-level token exactly as it was', () => {
    fc.assert(
      fc.property(
        bodies.filter((b) => b.members.every((m) => m.key !== 'token')),
        (body) => {
          expect(withoutTopLevelMember(text(body), 'token')).toBe(text(body));
        },
      ),
    );
  });

  it('cuts every top-level token with one separator and keeps every other byte', () => {
    fc.assert(
      fc.property(bodies, (body) => {
        const json = text(body);
        const cut = withoutTopLevelMember(json, 'token');
        expect(cut).toBe(expectedCut(body));
        expect(JSON.parse(cut)).toEqual(withoutToken(JSON.parse(json) as Record<string, unknown>));
      }),
      { numRuns: 500 },
    );
  });

  it('cuts a real Aircall body down to the same object without its token, the id digits untouched', () => {
    const body =
      '{\n  "resource": "call",\n  "event": "call.ended",\n  "timestamp": 1646389786,\n' +
      '  "token": "sample-webhook-token-not-a-secret",\n  "data": { "id": 9007199254740993, "token": "in-data" }\n}';
    expect(withoutTopLevelMember(body, 'token')).toBe(
      '{\n  "resource": "call",\n  "event": "call.ended",\n  "timestamp": 1646389786,\n' +
        '  "data": { "id": 9007199254740993, "token": "in-data" }\n}',
    );
  });

  it.each([
    ['the only member', '{"token":"t"}', '{}'],
    ['the first member', '{ "token" : "t" , "a":1}', '{ "a":1}'],
    ['the last member', '{"a":1 ,\n "token":"t"\n}', '{"a":1\n}'],
    ['repeated', '{"token":"a","b":2,"token":"c"}', '{"b":2}'],
    ['spelled with escapes', '{"a":1,"\\u0074oken":"t"}', '{"a":1}'],
  ])('cuts a token that is %s', (_, json, expected) => {
    expect(withoutTopLevelMember(json, 'token')).toBe(expected);
  });
});
