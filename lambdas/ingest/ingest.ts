// The ingest use case: size, content type, shape (what persist can store), token, then a durable enqueue.

import { isUtf8 } from 'node:buffer';
import { type AircallEnvelope, parseEnvelope } from '../shared/envelope.js';
import {
  InvalidEnvelopeError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnstorableEventError,
  UnsupportedMediaTypeError,
} from '../shared/errors.js';
import { storabilityProblem } from '../shared/storability.js';
import { hashToken } from '../shared/token.js';
import type { Clock, EventQueue, RegisteredWebhook, TokenRegistry } from './ports.js';
import { withoutTopLevelMember } from './strip-token.js';

export interface IngestDeps {
  readonly registry: TokenRegistry;
  readonly queue: EventQueue;
  readonly clock: Clock;
  /** Largest body, in bytes, that still fits a queue message with its attributes. */
  readonly maxBodyBytes: number;
  /** Largest `data`, in bytes as JSON and as DynamoDB encodes it, that is stored; larger is answered 413. */
  readonly maxPayloadBytes: number;
}

export interface WebhookRequest {
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  /** The request's `content-type` header, when it has one. */
  readonly contentType: string | undefined;
  /** The request's id, carried with the event through the queue. */
  readonly correlationId?: string;
}

export interface Accepted {
  readonly account: string;
  readonly resource: string;
  readonly event: string;
  readonly bytes: number;
}

// SQS refuses characters outside this set; JSON allows some of them (U+FFFE, U+FFFF) inside strings.
const SQS_UNSAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const SQS_UNSAFE_ALL = new RegExp(SQS_UNSAFE.source, 'gu');

/** Rewrites characters SQS would refuse as JSON escapes, which parse back to the same value. */
const toQueueSafe = (body: string): string =>
  SQS_UNSAFE.test(body)
    ? body.replace(SQS_UNSAFE_ALL, (c) =>
        Array.from(
          { length: c.length },
          (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`,
        ).join(''),
      )
    : body;

// Buffer.from(…, 'base64') skips what is not base64; a body must be base64 throughout to be read as such.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The body as text. A body handed over base64 (a binary content type, or bytes the gateway could not pass as text)
 * must decode, and be UTF-8, or it is refused rather than stored altered.
 */
const decodeBody = (request: WebhookRequest): { text: string; bytes: number } => {
  const raw = request.body ?? '';
  if (!request.isBase64Encoded) return { text: raw, bytes: Buffer.byteLength(raw, 'utf8') };
  if (!BASE64.test(raw)) throw new InvalidEnvelopeError('body is not valid base64');
  const buffer = Buffer.from(raw, 'base64');
  if (!isUtf8(buffer)) throw new InvalidEnvelopeError('body is not UTF-8');
  return { text: buffer.toString('utf8'), bytes: buffer.length };
};

/** `application/json`, with any parameters (`; charset=utf-8`), in any case. */
const isJson = (contentType: string | undefined): boolean =>
  contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';

const authenticate = async (envelope: AircallEnvelope, registry: TokenRegistry): Promise<string> => {
  if (typeof envelope.token !== 'string' || envelope.token === '')
    throw new UnauthorizedError('token missing');
  const presented = hashToken(envelope.token);
  let webhook: RegisteredWebhook | undefined;
  try {
    webhook = await registry.find(presented);
  } catch (error) {
    throw new ServiceUnavailableError('token registry unavailable', { cause: error });
  }
  // The registry is keyed by the digest: a row found is the match, and no comparison of the token's bytes is made
  // that could leak them by its timing. The digest is what the cache and DynamoDB see.
  if (webhook === undefined) throw new UnauthorizedError('token unknown');
  return webhook.account;
};

export const ingest = async (request: WebhookRequest, deps: IngestDeps): Promise<Accepted> => {
  const receivedAt = deps.clock.now();
  const { text, bytes } = decodeBody(request);
  if (bytes > deps.maxBodyBytes) throw new PayloadTooLargeError(`body of ${bytes} bytes`);

  if (!isJson(request.contentType))
    throw new UnsupportedMediaTypeError('content-type is not application/json');

  const envelope = parseEnvelope(text);
  // The same check persist classifies records by: nothing is answered 200 that it could never store.
  const problem = storabilityProblem(envelope, { maxPayloadBytes: deps.maxPayloadBytes, sourceBytes: bytes });
  if (problem?.status === 413)
    throw new PayloadTooLargeError(problem.reason, { publicMessage: problem.reason });
  if (problem !== undefined) throw new UnstorableEventError(problem.reason);
  const account = await authenticate(envelope, deps.registry);

  // The token stops here: the queue carries the body without it, every other byte as it was sent.
  const body = toQueueSafe(withoutTopLevelMember(text, 'token'));
  if (Buffer.byteLength(body, 'utf8') > deps.maxBodyBytes) {
    throw new PayloadTooLargeError(`body of ${bytes} bytes grows past the limit once made queue-safe`);
  }
  try {
    await deps.queue.send({
      body,
      account,
      receivedAt,
      ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
    });
  } catch (error) {
    throw new ServiceUnavailableError('enqueue failed', { cause: error });
  }
  return { account, resource: envelope.resource, event: envelope.event, bytes };
};
