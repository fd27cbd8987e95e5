import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE } from '../../lib/definitions/pipeline.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClientConfig } from '../../local/emulators.js';
import { type LocalSettings, readLocalSettings } from '../../local/settings.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { sampleBody } from '../support/fixtures.js';
import { getItem, type Item, queryPartition, scanTable } from '../support/tables.js';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });

const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const TOKEN = 'integration-token';
const withToken = (body: string): string => JSON.stringify({ ...JSON.parse(body), token: TOKEN });

const post = async (url: string, body: string): Promise<number> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return response.status;
};

describe('local stack', () => {
  let dataDir: string;
  let settings: LocalSettings;
  let stack: LocalStack;
  let documents: DynamoDBDocumentClient;

  const drained = () => waitFor(async () => (stack.depth().queue === 0 ? true : undefined), 15_000);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-local-'));
    settings = readLocalSettings({
      PORT: String(await freePort()),
      DYNAMODB_PORT: String(await freePort()),
      SQS_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOCAL_WEBHOOK_TOKEN: TOKEN,
    });
    stack = await startLocalStack({ settings, visibilityTimeoutSeconds: 1, snapshotIntervalMs: 200 });
    documents = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: stack.endpoints.dynamodb,
      }),
    );
  });

  afterAll(async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a posted sample 200 and shows it stored within 2 seconds', async () => {
    const started = Date.now();
    expect(await post(stack.webhookUrl, withToken(sampleBody('captured-user.created')))).toBe(200);
    const user = await waitFor(() => getItem(documents, settings.tables.users, { id: 749132 }), 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(user).toMatchObject({
      account: 'local',
      name: 'Koen Test FuPPaYFelC',
      last_event: 'user.created',
    });
  });

  it('answers like API Gateway for other paths and methods, and like ingest for bad bodies', async () => {
    expect(await post(stack.webhookUrl.replace('/aircall/webhook', '/other'), '{}')).toBe(404);
    expect((await fetch(stack.webhookUrl)).status).toBe(404);
    expect(await post(stack.webhookUrl, 'not json')).toBe(400);
    expect(await post(stack.webhookUrl, sampleBody('captured-user.created'))).toBe(401);
  });

  it('keeps one ended call and each distinct event once when the lifecycle arrives shuffled and twice', async () => {
    const lifecycle = [
      'captured-outbound-call.hungup',
      'captured-outbound-call.ended',
      'captured-outbound-call.created',
    ] as const;
    const deliveries = [...lifecycle, ...lifecycle.slice().reverse()].map((name) =>
      withToken(sampleBody(name)),
    );
    const statuses = await Promise.all(deliveries.map((body) => post(stack.webhookUrl, body)));
    expect(statuses).toEqual(deliveries.map(() => 200));
    await drained();

    const calls = (await scanTable(documents, settings.tables.calls)).filter((call) => call.id === 780836699);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      status: 'done',
      last_event: 'call.ended',
      duration: 20,
      user_id: 736640,
    });
    const history = await queryPartition(documents, settings.tables.events, {
      name: 'pk',
      value: 'call#780836699',
    });
    expect(history.map((event) => event.event)).toEqual(['call.created', 'call.hungup', 'call.ended']);
  });

  it('moves a record that always fails to the dead-letter queue after the receive limit', async () => {
    const sqs = new SQSClient(localSqsClientConfig(stack.endpoints.sqs));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.queueUrl,
        MessageBody: '{"not":"an aircall envelope"}',
        MessageAttributes: { account: { DataType: 'String', StringValue: 'local' } },
      }),
    );
    const timeout = (EVENTS_QUEUE.maxReceiveCount + 3) * 1000 + 2000;
    await waitFor(async () => (stack.depth().deadLetterQueue === 1 ? true : undefined), timeout);
    expect(stack.depth()).toEqual({ queue: 0, deadLetterQueue: 1 });
    expect(stack.activity.failed).toBeGreaterThanOrEqual(EVENTS_QUEUE.maxReceiveCount);
    sqs.destroy();
  });

  it('loses no event answered 200 when stopped under traffic, and keeps everything across the restart', async () => {
    const base = JSON.parse(sampleBody('captured-outbound-call.created')) as Item & { data: Item };
    const bodies = Array.from({ length: 400 }, (_, i) =>
      JSON.stringify({ ...base, token: TOKEN, data: { ...base.data, id: 2_000_000_000 + i } }),
    );
    const accepted: number[] = [];
    let next = 0;
    const sender = async () => {
      while (next < bodies.length) {
        const i = next++;
        const status = await post(stack.webhookUrl, bodies[i] ?? '').catch(() => 0);
        if (status === 200) accepted.push(2_000_000_000 + i);
      }
    };
    const traffic = Promise.all(Array.from({ length: 8 }, sender));
    await waitFor(async () => (accepted.length >= 100 ? true : undefined), 10_000);
    await stack.stop();
    await traffic;
    expect(accepted.length).toBeGreaterThanOrEqual(100);
    expect(accepted.length).toBeLessThan(bodies.length);

    stack = await startLocalStack({ settings, visibilityTimeoutSeconds: 1, snapshotIntervalMs: 200 });
    await drained();
    const stored = new Set((await scanTable(documents, settings.tables.calls)).map((call) => call.id));
    const lost = accepted.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(await getItem(documents, settings.tables.users, { id: 749132 })).toMatchObject({
      name: 'Koen Test FuPPaYFelC',
    });
    expect(stack.depth().deadLetterQueue).toBe(1);
  });
});
