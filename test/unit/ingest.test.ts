import { describe, expect, it } from 'vitest';
import { type IngestDeps, ingest } from '../../lambdas/ingest/ingest.js';
import type {
  EventQueue,
  QueuedWebhook,
  RegisteredWebhook,
  TokenRegistry,
} from '../../lambdas/ingest/ports.js';
import {
  InvalidEnvelopeError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../lambdas/shared/errors.js';
import { hashToken } from '../../lambdas/shared/token.js';
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

const setup = (maxBodyBytes = 10_000) => {
  const queue = new FakeQueue();
  const registry = new FakeRegistry();
  registry.register(SAMPLE_TOKEN, 'acme');
  const deps: IngestDeps = { queue, registry, clock: { now: () => 1_700_000_000_123 }, maxBodyBytes };
  return { queue, registry, deps };
};

const plain = (body: string | undefined) => ({ body, isBase64Encoded: false });

describe('ingest', () => {
  it('enqueues the raw body with the account and receive time', async () => {
    const { queue, deps } = setup();
    const body = sampleBody('captured-outbound-call.created');
    const accepted = await ingest(plain(body), deps);
    expect(accepted).toMatchObject({ account: 'acme', resource: 'call', event: 'call.created' });
    expect(queue.sent).toEqual([{ body, account: 'acme', receivedAt: 1_700_000_000_123 }]);
  });

  it('decodes a base64 body before anything else', async () => {
    const { queue, deps } = setup();
    const body = sampleBody('captured-user.created');
    await ingest({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true }, deps);
    expect(queue.sent[0]?.body).toBe(body);
  });

  it('accepts a resource it has never heard of', async () => {
    const { queue, deps } = setup();
    await ingest(
      plain(`{"resource":"hologram","event":"hologram.beamed","token":"${SAMPLE_TOKEN}","data":{}}`),
      deps,
    );
    expect(queue.sent).toHaveLength(1);
  });

  it('checks size before shape, and shape before token', async () => {
    const { queue, deps } = setup(100);
    await expect(ingest(plain(`${'x'.repeat(101)}`), deps)).rejects.toThrow(PayloadTooLargeError);
    await expect(ingest(plain('{"token":"nope"}'), deps)).rejects.toThrow(InvalidEnvelopeError);
    await expect(ingest(plain('{"resource":"call","event":"call.ended","data":{}}'), deps)).rejects.toThrow(
      UnauthorizedError,
    );
    expect(queue.sent).toHaveLength(0);
  });

  it('counts the decoded size of a base64 body', async () => {
    const { deps } = setup(100);
    const body = Buffer.from('é'.repeat(60)).toString('base64');
    await expect(ingest({ body, isBase64Encoded: true }, deps)).rejects.toThrow(PayloadTooLargeError);
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
