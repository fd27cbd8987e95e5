import { describe, expect, it } from 'vitest';
import { type IngestDeps, ingest } from '../../lambdas/ingest/ingest.js';
import type {
  EventQueue,
  QueuedWebhook,
  RegisteredWebhook,
  TokenRegistry,
} from '../../lambdas/ingest/ports.js';
import { eventDigest } from '../../lambdas/shared/digest.js';
import { parseEnvelope } from '../../lambdas/shared/envelope.js';
import {
  InvalidEnvelopeError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnstorableEventError,
  UnsupportedMediaTypeError,
} from '../../lambdas/shared/errors.js';
import { hashToken } from '../../lambdas/shared/token.js';
import { withFields } from '../support/bodies.js';
import { SAMPLE_TOKEN, sampleBody } from '../support/fixtures.js';

class FakeQueue implements EventQueue {
  readonly sent: QueuedWebhook[] = [];
  failing = false;
  async send(message: QueuedWebhook): Promise<void> {
    if (this.failing) throw new Error('queue down');
    this.sent.push(message);
  }
}

class FakeRegistry implements TokenRegistry {
  failing = false;
  readonly webhooks = new Map<string, RegisteredWebhook>();
  register(token: string, account: string): void {
    this.webhooks.set(hashToken(token), { account, tokenHash: hashToken(token) });
  }
  async find(tokenHash: string): Promise<RegisteredWebhook | undefined> {
    if (this.failing) throw new Error('table down');
    return this.webhooks.get(tokenHash);
  }
}

const setup = (maxBodyBytes = 10_000, maxPayloadBytes = 8_192) => {
  const queue = new FakeQueue();
  const registry = new FakeRegistry();
  registry.register(SAMPLE_TOKEN, 'acme');
  const deps: IngestDeps = {
    queue,
    registry,
    clock: { now: () => 1_700_000_000_123 },
    maxBodyBytes,
    maxPayloadBytes,
  };
  return { queue, registry, deps };
};

const JSON_TYPE = 'application/json';
const plain = (body: string | undefined, contentType: string | undefined = JSON_TYPE) => ({
  body,
  isBase64Encoded: false,
  contentType,
});
const withContentType = (body: string, contentType: string | undefined) => ({
  body,
  isBase64Encoded: false,
  contentType,
});

/** The sample body as Aircall sends it, and as the queue should carry it: the same text without its token. */
const withoutToken = (body: string): string => body.replace(/,?\s*"token":\s*"[^"]*"/, '');

describe('ingest', () => {
  it('enqueues the body without its token, every other byte as sent, with the account and receive time', async () => {
    const { queue, deps } = setup();
    const body = sampleBody('captured-outbound-call.created');
    const accepted = await ingest(plain(body), deps);
    expect(accepted).toMatchObject({ account: 'acme', resource: 'call', event: 'call.created' });
    expect(queue.sent).toEqual([
      { body: withoutToken(body), account: 'acme', receivedAt: 1_700_000_000_123 },
    ]);
    expect(queue.sent[0]?.body).not.toContain(SAMPLE_TOKEN);
    expect(queue.sent[0]?.body).not.toContain('"token"');
  });

  it('queues a body persist reads as the same event, with the same digest', async () => {
    const { queue, deps } = setup();
    const body = sampleBody('captured-inbound-voicemail-call.ended');
    await ingest(plain(body), deps);
    const queued = parseEnvelope(queue.sent[0]?.body ?? '');
    const sent = parseEnvelope(body);
    expect(queued.token).toBeUndefined();
    expect({ ...queued, token: sent.token }).toEqual(sent);
    expect(eventDigest(queued, 'acme')).toBe(eventDigest(sent, 'acme'));
  });

  it('decodes a base64 body before anything else', async () => {
    const { queue, deps } = setup();
    const body = sampleBody('captured-user.created');
    await ingest(
      { body: Buffer.from(body).toString('base64'), isBase64Encoded: true, contentType: JSON_TYPE },
      deps,
    );
    expect(queue.sent[0]?.body).toBe(withoutToken(body));
  });

  it.each([
    ['a base64 body that does not decode', '!!not base64 at all!!', 'body is not valid base64'],
    [
      'a base64 body with trailing garbage',
      `${Buffer.from('{}').toString('base64')}*`,
      'body is not valid base64',
    ],
    [
      'base64 of bytes that are not UTF-8',
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('base64'),
      'body is not UTF-8',
    ],
  ])('refuses %s with a 400 and enqueues nothing', async (_case, body, reason) => {
    const { queue, deps } = setup();
    await expect(ingest({ body, isBase64Encoded: true, contentType: JSON_TYPE }, deps)).rejects.toThrow(
      new InvalidEnvelopeError(reason),
    );
    expect(queue.sent).toEqual([]);
  });

  it('keeps a 64-bit id in the queued body as the digits that were sent', async () => {
    const { queue, deps } = setup();
    const body = `{"resource":"call","event":"call.tagged","token":"${SAMPLE_TOKEN}","data":{"id":9007199254740993,"tags":[{"id":18446744073709551615}]}}`;
    await ingest(plain(body), deps);
    expect(queue.sent[0]?.body).toBe(
      '{"resource":"call","event":"call.tagged","data":{"id":9007199254740993,"tags":[{"id":18446744073709551615}]}}',
    );
  });

  it('cuts every top-level token, however its key is spelled, and no token inside data', async () => {
    const { queue, deps } = setup();
    const body = `{"tok\\u0065n":"spare","resource":"call","event":"call.tagged","data":{"token":"kept"},"token":"${SAMPLE_TOKEN}"}`;
    await ingest(plain(body), deps);
    expect(queue.sent[0]?.body).toBe('{"resource":"call","event":"call.tagged","data":{"token":"kept"}}');
  });

  it('accepts a resource it has never heard of', async () => {
    const { queue, deps } = setup();
    await ingest(
      plain(`{"resource":"hologram","event":"hologram.beamed","token":"${SAMPLE_TOKEN}","data":{}}`),
      deps,
    );
    expect(queue.sent).toHaveLength(1);
  });

  it('checks size, then content type, then shape and storability, then token', async () => {
    const { queue, deps } = setup(100);
    await expect(ingest(plain(`${'x'.repeat(101)}`, 'text/plain'), deps)).rejects.toThrow(
      PayloadTooLargeError,
    );
    await expect(ingest(plain('{"token":"nope"}', 'text/plain'), deps)).rejects.toThrow(
      UnsupportedMediaTypeError,
    );
    await expect(ingest(plain('{"token":"nope"}'), deps)).rejects.toThrow(InvalidEnvelopeError);
    await expect(
      ingest(plain('{"resource":"constructor","event":"call.ended","token":"nope","data":{}}'), deps),
    ).rejects.toThrow(UnstorableEventError);
    await expect(ingest(plain('{"resource":"call","event":"call.ended","data":{}}'), deps)).rejects.toThrow(
      UnauthorizedError,
    );
    expect(queue.sent).toHaveLength(0);
  });

  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON;Charset=UTF-8', true],
    ['  application/json  ', true],
    [undefined, false],
    ['', false],
    ['text/plain', false],
    ['application/jsonp', false],
    ['application/x-www-form-urlencoded', false],
    ['application/json-patch+json', false],
    ['text/json', false],
  ])('takes content-type %j as JSON: %s', async (contentType, accepted) => {
    const { queue, deps } = setup();
    const attempt = ingest(withContentType(sampleBody('captured-user.created'), contentType), deps);
    if (accepted) await expect(attempt).resolves.toMatchObject({ account: 'acme' });
    else await expect(attempt).rejects.toThrow(UnsupportedMediaTypeError);
    expect(queue.sent).toHaveLength(accepted ? 1 : 0);
  });

  it('refuses what persist could never store with the reason, and enqueues nothing', async () => {
    const { queue, deps } = setup();
    const body = withFields(sampleBody('captured-outbound-call.ended'), { resource: '__proto__' });
    await expect(ingest(plain(body), deps)).rejects.toThrow(
      new UnstorableEventError('"resource" is a name every JavaScript object has'),
    );
    const huge = withFields(sampleBody('captured-outbound-call.ended'), {
      data: { id: 1, note: 'x'.repeat(9000) },
    });
    await expect(ingest(plain(huge), { ...deps, maxBodyBytes: 20_000 })).rejects.toThrow(
      PayloadTooLargeError,
    );
    expect(queue.sent).toHaveLength(0);
  });

  it('answers a data over the payload cap with a reason the caller may read', async () => {
    const { deps } = setup();
    const huge = withFields(sampleBody('captured-outbound-call.ended'), {
      data: { id: 1, note: 'x'.repeat(9000) },
    });
    const error = await ingest(plain(huge), { ...deps, maxBodyBytes: 20_000 }).catch((e: unknown) => e);
    const dataBytes = Buffer.byteLength(JSON.stringify(JSON.parse(huge).data));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).publicMessage).toBe(
      `"data" is ${dataBytes} bytes of JSON, over the 8192 stored`,
    );
  });

  it('counts the decoded size of a base64 body', async () => {
    const { deps } = setup(100);
    const body = Buffer.from('é'.repeat(60)).toString('base64');
    await expect(ingest({ body, isBase64Encoded: true, contentType: JSON_TYPE }, deps)).rejects.toThrow(
      PayloadTooLargeError,
    );
  });

  it.each([
    ['missing', ''],
    ['a number', ',"token":42'],
    ['empty', ',"token":""'],
    ['unknown', ',"token":"not-registered"'],
  ])('refuses a token that is %s and enqueues nothing', async (_, tokenField) => {
    const { queue, deps } = setup();
    const body = `{"resource":"call","event":"call.created","data":{"id":1}${tokenField}}`;
    await expect(ingest(plain(body), deps)).rejects.toThrow(UnauthorizedError);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers unavailable when the queue fails, and when the registry cannot be read', async () => {
    const { queue, registry, deps } = setup();
    const body = sampleBody('captured-outbound-call.ended');
    queue.failing = true;
    await expect(ingest(plain(body), deps)).rejects.toThrow(ServiceUnavailableError);
    queue.failing = false;
    registry.failing = true;
    await expect(ingest(plain(body), deps)).rejects.toThrow(ServiceUnavailableError);
    expect(queue.sent).toHaveLength(0);
  });

  it('rewrites characters SQS refuses as JSON escapes that parse to the same value', async () => {
    const { queue, deps } = setup();
    const body = `{"resource":"call","event":"call.tagged","token":"${SAMPLE_TOKEN}","data":{"note":"a\uFFFFb"}}`;
    expect(body).toContain('\uFFFF');
    await ingest(plain(body), deps);
    const sent = queue.sent[0]?.body ?? '';
    expect(sent).not.toContain('\uFFFF');
    expect(sent).toContain('a\\uffffb');
    expect(JSON.parse(sent).data.note).toBe('a\uFFFFb');
  });
});
