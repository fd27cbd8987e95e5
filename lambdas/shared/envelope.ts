// The Aircall webhook envelope: parsed once at the edge, typed for everything after.

import { isJsonObject, type JsonObject, parseJson } from '../../lib/definitions/json.js';
import { InvalidEnvelopeError } from './errors.js';

export { ExactInteger, isJsonObject, type JsonObject, type JsonValue } from '../../lib/definitions/json.js';

export interface AircallEnvelope {
  readonly resource: string;
  readonly event: string;
  /** UNIX seconds when Aircall built the payload; undefined when absent or not a whole number. */
  readonly timestamp: number | undefined;
  /** The webhook's shared secret as sent; never logged, never stored. */
  readonly token: unknown;
  readonly data: JsonObject;
}

/**
 * Parses a webhook body. Only `resource`, `event` and `data` are required: an event or resource this
 * project does not know is accepted as it is, and the token is checked separately. Integers beyond 2^53 are
 * kept exactly, as {@link ExactInteger}s, so that ingest checks and persist stores the numbers that were sent.
 */
export const parseEnvelope = (body: string): AircallEnvelope => {
  let parsed: unknown;
  try {
    parsed = parseJson(body);
  } catch (error) {
    const reason = error instanceof RangeError ? 'body nests too deeply to read' : 'body is not JSON';
    throw new InvalidEnvelopeError(reason, { cause: error });
  }
  if (!isJsonObject(parsed)) throw new InvalidEnvelopeError('body is not a JSON object');
  const { resource, event, timestamp, token, data } = parsed;
  if (typeof resource !== 'string' || resource === '')
    throw new InvalidEnvelopeError('"resource" is not a string');
  if (typeof event !== 'string' || event === '') throw new InvalidEnvelopeError('"event" is not a string');
  if (!isJsonObject(data)) throw new InvalidEnvelopeError('"data" is not an object');
  return {
    resource,
    event,
    timestamp:
      typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0
        ? timestamp
        : undefined,
    token,
    data,
  };
};
