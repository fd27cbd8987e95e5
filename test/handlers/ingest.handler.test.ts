// The ingest handler against the embedded emulators: what it answers, and what it puts on the queue.

import { randomBytes } from 'node:crypto';
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

/** What the queue should carry: the body as sent, but for the token member and the separator before it. */
const withoutToken = (body: string): string => {
  const cut = body.replace(/,\s*"token":\s*"[^"]*"/, '');
  expect(cut).not.toBe(body);
  return cut;
};

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

  it('answers 200 and enqueues the body once, without its token, with account and receive time', async () => {
    const before = Date.now();
    const { result, output } = await invoke(webhookRequest(ended.body));
    const after = Date.now();

    expect(result.statusCode).toBe(200);
    expect(message(result)).toEqual({ message: 'accepted' });
    const messages = await enqueued();
    expect(messages).toHaveLength(1);
    const [queued] = messages;
    expect(queued?.Body).toBe(withoutToken(ended.body));
    expect(queued?.Body).not.toContain(ended.token);
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
    expect(messages.map((m) => m.Body)).toEqual([withoutToken(ended.body)]);
    expect(messages[0]?.MessageAttributes?.[MESSAGE_ATTRIBUTES.account]?.StringValue).toBe(ACCOUNT);
  });

  it('answers 200 and enqueues an event whose resource and event it does not know', async () => {
    const body = withFields(ended.body, { resource: 'hologram', event: 'hologram.projected' });

    const { result } = await invoke(webhookRequest(body));

    expect(result.statusCode).toBe(200);
    expect((await enqueued()).map((m) => m.Body)).toEqual([withoutToken(body)]);
  });

  it('answers 200 for application/json with parameters, in any case', async () => {
    const { result } = await invoke(
      webhookRequest(ended.body, { headers: { 'content-type': 'Application/JSON; charset=UTF-8' } }),
    );

    expect(result.statusCode).toBe(200);
    expect(await enqueued()).toHaveLength(1);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form-encoded', 'application/x-www-form-urlencoded'],
    ['missing', undefined],
  ])('answers 415 and enqueues nothing when the content type is %s', async (_case, contentType) => {
    // API Gateway hands a body of no text content type over base64-encoded.
    const request = webhookRequest(ended.body, { base64: contentType === undefined });
    if (contentType === undefined) delete request.headers['content-type'];
    else request.headers['content-type'] = contentType;

    const { result, output } = await invoke(request);

    expect(result.statusCode).toBe(415);
    expect(message(result)).toEqual({ message: 'content-type must be application/json' });
    expect(await enqueued()).toEqual([]);
    expect(output).not.toContain(ended.token);
  });

  it.each([
    [
      'resource is "constructor"',
      withFields(ended.body, { resource: 'constructor' }),
      '"resource" is a name every JavaScript object has',
    ],
    [
      'resource is over 2,048 bytes',
      withFields(ended.body, { resource: 'r'.repeat(2049) }),
      '"resource" and "data.id" are longer together than the event log\'s 2048-byte partition key allows',
    ],
    [
      'event is over 1,024 bytes',
      withFields(ended.body, { event: `call.${'e'.repeat(1020)}` }),
      '"event" is longer than the 987 bytes the event log\'s sort key has room for',
    ],
    [
      'data holds a __proto__ key',
      ended.body.replace('"direction":', '"__proto__": { "admin": true }, "direction":'),
      '"data.__proto__" is a key that would set an object’s prototype',
    ],
    [
      'started_at is 1e300',
      ended.body.replace(/"started_at": \d+/, '"started_at": 1e300'),
      '"data.started_at" is a number of a magnitude above DynamoDB’s 9.99…E+125',
    ],
    [
      'started_at has no calendar day',
      ended.body.replace(/"started_at": \d+/, '"started_at": 9e12'),
      '"data.started_at" is not a time in seconds a calendar day can be found for',
    ],
    [
      'duration is 1e200',
      ended.body.replace(/"duration": \d+/, '"duration": 1e200'),
      '"data.duration" is a number of a magnitude above DynamoDB’s 9.99…E+125',
    ],
  ])('answers 400 with the reason and enqueues nothing when %s', async (_case, body, reason) => {
    expect(body).not.toBe(ended.body);

    const { result, output } = await invoke(webhookRequest(body));

    expect(result.statusCode).toBe(400);
    expect(message(result)).toEqual({ message: reason });
    expect(await enqueued()).toEqual([]);
    expect(output).toContain('webhook rejected');
    expect(output).not.toContain(ended.token);
  });

  it('answers 413 and enqueues nothing for about 480 KB of incompressible data, under the queue’s limit', async () => {
    const noise = randomBytes(360_000).toString('base64');
    const body = withFields(ended.body, { data: { id: 780836699, noise } });
    const { maxBodyBytes, maxPayloadBytes } = loadIngestConfig(stack.environment);
    expect(Buffer.byteLength(body)).toBeLessThan(maxBodyBytes);

    const { result } = await invoke(webhookRequest(body));

    expect(result.statusCode).toBe(413);
    expect(message(result)).toEqual({
      message: `"data" is ${Buffer.byteLength(JSON.stringify({ id: 780836699, noise }))} bytes of JSON, over the ${maxPayloadBytes} stored`,
    });
    expect(await enqueued()).toEqual([]);
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
    expect((await enqueued()).map((m) => m.Body)).toEqual([withoutToken(largest)]);
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
