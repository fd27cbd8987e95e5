// The ingest handler against the embedded emulators: what it answers, and what it puts on the queue.

import { createServer, type Server, type Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../../lambdas/ingest/config.js';
import { ENV, MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import { registerToken } from '../../local/provision.js';
import { withFields } from '../support/bodies.js';
import { captureOutput } from '../support/capture.js';
import { SAMPLE_TOKEN, sampleBody } from '../support/fixtures.js';
import { drainQueue, webhookRequest } from '../support/lambda-events.js';
import { type IngestHandler, startStack, type TestStack } from '../support/stack.js';

const ACCOUNT = 'acme-eu';
const ended = { body: sampleBody('captured-outbound-call.ended'), token: SAMPLE_TOKEN };

const message = (response: APIGatewayProxyStructuredResultV2): unknown =>
  JSON.parse(response.body ?? 'null') as unknown;

/** A TCP server that accepts connections and never answers: the worst an SQS endpoint can do. */
const startSilentServer = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent server has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

describe('ingest handler', () => {
  let stack: TestStack;
  let handler: IngestHandler;

  const invoke = (event: APIGatewayProxyEventV2) => captureOutput(() => handler(event));
  const enqueued = () => drainQueue(stack.sqs, stack.queues.queueUrl);

  beforeAll(async () => {
    stack = await startStack();
    await registerToken(stack.dynamo, stack.tables.webhooks, ended.token, ACCOUNT);
    // DEBUG, so that every log line the handler can write is written and checked for the token.
    handler = stack.ingest({ logLevel: 'DEBUG' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(async () => {
    await enqueued();
  });

  it('answers 200 and enqueues the raw body once, with account and receive time, for a registered token', async () => {
    const before = Date.now();
    const { result, output } = await invoke(webhookRequest(ended.body));
    const after = Date.now();

    expect(result.statusCode).toBe(200);
    expect(message(result)).toEqual({ message: 'accepted' });
    const messages = await enqueued();
    expect(messages).toHaveLength(1);
    const [queued] = messages;
    expect(queued?.Body).toBe(ended.body);
    expect(queued?.MessageAttributes?.[MESSAGE_ATTRIBUTES.account]).toEqual({
      DataType: 'String',
      StringValue: ACCOUNT,
    });
    const receivedAt = queued?.MessageAttributes?.[MESSAGE_ATTRIBUTES.receivedAt];
    expect(receivedAt?.DataType).toBe('Number');
    expect(Number(receivedAt?.StringValue)).toBeGreaterThanOrEqual(before);
    expect(Number(receivedAt?.StringValue)).toBeLessThanOrEqual(after);
    expect(output).toContain('webhook accepted');
    expect(output).not.toContain(ended.token);
  });

  it('answers 200 and enqueues the decoded text when API Gateway base64-encodes the body', async () => {
    const { result } = await invoke(webhookRequest(ended.body, { base64: true }));

    expect(result.statusCode).toBe(200);
    const messages = await enqueued();
    expect(messages.map((m) => m.Body)).toEqual([ended.body]);
    expect(messages[0]?.MessageAttributes?.[MESSAGE_ATTRIBUTES.account]?.StringValue).toBe(ACCOUNT);
  });

  it('answers 200 and enqueues an event whose resource and event it does not know', async () => {
    const body = withFields(ended.body, { resource: 'hologram', event: 'hologram.projected' });

    const { result } = await invoke(webhookRequest(body));

    expect(result.statusCode).toBe(200);
    expect((await enqueued()).map((m) => m.Body)).toEqual([body]);
  });

  it.each([
    ['the body is not JSON', '{"resource":"call","event":'],
    ['the body is a JSON array', JSON.stringify([JSON.parse(ended.body)])],
    ['the body is a JSON string', JSON.stringify(ended.body)],
    ['the body is empty', ''],
    ['resource is missing', withFields(ended.body, { resource: undefined })],
    ['resource is not a string', withFields(ended.body, { resource: 42 })],
    ['event is missing', withFields(ended.body, { event: undefined })],
    ['event is not a string', withFields(ended.body, { event: ['call.ended'] })],
    ['data is missing', withFields(ended.body, { data: undefined })],
    ['data is a string', withFields(ended.body, { data: 'call' })],
    ['data is an array', withFields(ended.body, { data: [1, 2] })],
    ['data is null', withFields(ended.body, { data: null })],
  ])('answers 400 and enqueues nothing when %s', async (_case, body) => {
    const { result, output } = await invoke(webhookRequest(body));

    expect(result.statusCode).toBe(400);
    expect(message(result)).toEqual({
      message: 'body must be a JSON object with string "resource" and "event" and an object "data"',
    });
    expect(await enqueued()).toEqual([]);
    expect(output).not.toContain(ended.token);
  });

  it.each([
    ['the token is missing', undefined, undefined],
    ['the token is empty', '', undefined],
    ['the token is a number', 58_271_993_401_554, '58271993401554'],
    ['the token is an object', { secret: 'tok-in-an-object-7f3a' }, 'tok-in-an-object-7f3a'],
    ['the token is unknown', 'tok-unknown-1b9d4e2a7c', 'tok-unknown-1b9d4e2a7c'],
    ['the token differs from a registered one by case', ended.token.toUpperCase(), ended.token.toUpperCase()],
  ])('answers 401, enqueues nothing and logs no token when %s', async (_case, token, secret) => {
    const { result, output } = await invoke(webhookRequest(withFields(ended.body, { token })));

    expect(result.statusCode).toBe(401);
    expect(message(result)).toEqual({ message: 'unknown or missing token' });
    expect(await enqueued()).toEqual([]);
    // The rejection is logged, so the output was captured, and neither token appears in it.
    expect(output).toContain('webhook rejected');
    expect(output).not.toContain(ended.token);
    if (secret !== undefined) expect(output).not.toContain(secret);
  });

  it('answers 413 and enqueues nothing for a body one byte over the largest the queue accepts', async () => {
    const { maxBodyBytes } = loadIngestConfig(stack.environment);
    const body = withFields(ended.body, { padding: '' });
    const oversized = withFields(ended.body, {
      padding: 'x'.repeat(maxBodyBytes - Buffer.byteLength(body) + 1),
    });

    const { result } = await invoke(webhookRequest(oversized));

    expect(Buffer.byteLength(oversized)).toBe(maxBodyBytes + 1);
    expect(result.statusCode).toBe(413);
    expect(message(result)).toEqual({ message: 'payload too large' });
    expect(await enqueued()).toEqual([]);
  });

  it('answers 200 and enqueues a body of exactly the largest size, attributes included', async () => {
    const { maxBodyBytes } = loadIngestConfig(stack.environment);
    const body = withFields(ended.body, { padding: '' });
    const largest = withFields(ended.body, { padding: 'x'.repeat(maxBodyBytes - Buffer.byteLength(body)) });

    const { result } = await invoke(webhookRequest(largest));

    expect(Buffer.byteLength(largest)).toBe(maxBodyBytes);
    expect(result.statusCode).toBe(200);
    expect((await enqueued()).map((m) => m.Body)).toEqual([largest]);
  });

  it('answers 405 and enqueues nothing for a GET', async () => {
    const { result } = await invoke(webhookRequest(undefined, { method: 'GET' }));

    expect(result.statusCode).toBe(405);
    expect(message(result)).toEqual({ message: 'method not allowed' });
    expect(await enqueued()).toEqual([]);
  });

  it('answers 503 at once when the queue it sends to does not exist', async () => {
    const missingQueueUrl = `${stack.queues.queueUrl}-missing`;

    const isolated = stack.ingest({ environment: { [ENV.eventsQueueUrl]: missingQueueUrl } });
    const { result, elapsedMs } = await captureOutput(() => isolated(webhookRequest(ended.body)));

    expect(result.statusCode).toBe(503);
    expect(message(result)).toEqual({ message: 'temporarily unavailable, retry later' });
    expect(elapsedMs).toBeLessThan(4500);
    expect(await enqueued()).toEqual([]);
  });

  it('answers 503 inside Aircall’s 5 s when the queue endpoint accepts connections and never answers', async () => {
    const silent = await startSilentServer();
    try {
      const isolated = stack.ingest({
        queue: { ...stack.targets.sqs, endpoint: silent.url },
        environment: { [ENV.eventsQueueUrl]: `${silent.url}/000000000000/events` },
      });
      const { result, elapsedMs } = await captureOutput(() => isolated(webhookRequest(ended.body)));

      expect(result.statusCode).toBe(503);
      expect(elapsedMs).toBeLessThan(4500);
      expect(await enqueued()).toEqual([]);
    } finally {
      await silent.stop();
    }
  });
});
