import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSqsClientConfig, type RunningSqs, startSqs } from '../../local/emulators.js';
import { createQueues } from '../../local/provision.js';
import { restoreSnapshot, saveSnapshot } from '../../local/queue-snapshot.js';

describe('queue snapshots', () => {
  let sqs: RunningSqs;
  let client: SQSClient;
  let dir: string;

  beforeAll(async () => {
    sqs = await startSqs({ port: 0 });
    client = new SQSClient(localSqsClientConfig(sqs.endpoint));
    dir = await mkdtemp(join(tmpdir(), 'snapshot-'));
  });

  afterAll(async () => {
    client.destroy();
    await sqs.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends saved messages back, attributes included, even when together they pass the batch size limit', async () => {
    const queues = await createQueues(client, { queue: 'snap-events', deadLetterQueue: 'snap-dlq' });
    const attributes = { account: { DataType: 'String', StringValue: 'acme' } };
    const big = (n: number) => ({ body: `{"n":${n},"pad":"${'x'.repeat(600_000)}"}`, attributes });
    const path = join(dir, 'queues.json');
    await saveSnapshot(path, {
      'snap-events': [big(1), big(2), { body: '{"n":3}', attributes }],
      'snap-dlq': [{ body: '{"dead":true}', attributes: {} }],
    });

    const restored = await restoreSnapshot(path, client, {
      'snap-events': queues.queueUrl,
      'snap-dlq': queues.deadLetterQueueUrl,
    });

    expect(restored).toBe(4);
    const held = sqs.held('snap-events') ?? [];
    expect(held.map((m) => JSON.parse(m.body).n).sort()).toEqual([1, 2, 3]);
    expect(held[0]?.attributes.account).toMatchObject({ DataType: 'String', StringValue: 'acme' });
    expect(sqs.held('snap-dlq')?.map((m) => m.body)).toEqual(['{"dead":true}']);
  });

  it('restores nothing when there is no snapshot', async () => {
    expect(await restoreSnapshot(join(dir, 'absent.json'), client, {})).toBe(0);
  });
});
