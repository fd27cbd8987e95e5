import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lambdas/shared/envelope.js';
import { InvalidEnvelopeError } from '../../lambdas/shared/errors.js';
import { sampleBody } from '../support/fixtures.js';

describe('parseEnvelope', () => {
  it('reads the five fields of a captured call event', () => {
    const envelope = parseEnvelope(sampleBody('captured-outbound-call.ended'));
    expect(envelope).toMatchObject({ resource: 'call', event: 'call.ended', timestamp: 1646389786 });
    expect(envelope.data.id).toBe(780836699);
    expect(typeof envelope.token).toBe('string');
  });

  it('accepts a resource and event it does not know', () => {
    const envelope = parseEnvelope('{"resource":"hologram","event":"hologram.beamed","data":{}}');
    expect(envelope.resource).toBe('hologram');
    expect(envelope.timestamp).toBeUndefined();
  });

  it('leaves the timestamp undefined when it is not a whole non-negative number', () => {
    for (const timestamp of ['"1646389786"', '1.5', '-3', 'null']) {
      const envelope = parseEnvelope(
        `{"resource":"call","event":"call.ended","timestamp":${timestamp},"data":{}}`,
      );
      expect(envelope.timestamp).toBeUndefined();
    }
  });

  it.each([
    ['not JSON', '{"resource":'],
    ['empty', ''],
    ['an array', '[]'],
    ['a string', '"call"'],
    ['null', 'null'],
    ['without resource', '{"event":"call.ended","data":{}}'],
    ['with a numeric event', '{"resource":"call","event":7,"data":{}}'],
    ['with an empty resource', '{"resource":"","event":"call.ended","data":{}}'],
    ['with array data', '{"resource":"call","event":"call.ended","data":[]}'],
    ['with null data', '{"resource":"call","event":"call.ended","data":null}'],
    ['without data', '{"resource":"call","event":"call.ended"}'],
  ])('rejects a body that is %s', (_, body) => {
    expect(() => parseEnvelope(body)).toThrow(InvalidEnvelopeError);
  });
});
