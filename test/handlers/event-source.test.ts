// The local event source against the embedded SQS: a batch in hand is not redelivered while its handler runs, however
// short the queue's visibility timeout, and a failed record comes back after it.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE } from '../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../local/clients.js';
import { type RunningSqs, startSqs } from '../../local/emulators.js';
import { startEventSource } from '../../local/event-source.js';
import { createQueues } from '../../local/provision.js';
import { waitFor } from '../support/local.js';

const VISIBILITY_TIMEOUT_SECONDS = 1;

describe('the local event source', () => {
  let emulator: RunningSqs;
  let sqs: SQSClient;

  beforeAll(async () => {
    emulator = await startSqs({ port: 0 });
    sqs = new SQSClient(localSqsClientConfig(emulator.endpoint));
  });

  afterAll(async () => {
    sqs?.destroy();
    await emulator?.stop();
  });

  const queue = (name: string) =>
    createQueues(
      sqs,
      { queue: name, deadLetterQueue: `${name}-dlq` },
      { ...EVENTS_QUEUE, visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS },
    );

  it('never hands a message to a second invocation while the first still holds it', async () => {
    const queues = await queue('held');
    const seen: string[] = [];
    const source = startEventSource({
      client: sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      functionName: 'slow',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      maxConcurrency: 2,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      handler: async (event: SQSEvent) => {
        seen.push(...event.Records.map((record) => record.body));
        // Held for three visibility timeouts: unheld, the message would be received again meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 3 * VISIBILITY_TIMEOUT_SECONDS * 1000));
        return { batchItemFailures: [] };
      },
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'one' }));
      await waitFor(() => (emulator.depth('held') === 0 ? true : undefined), 30_000);

      expect(seen).toEqual(['one']);
    } finally {
      await source.stop();
    }
  }, 40_000);

  it('lets a failed record come back after the visibility timeout', async () => {
    const queues = await queue('failing');
    let attempts = 0;
    const source = startEventSource({
      client: sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      functionName: 'flaky',
      batchSize: 10,
      maxBatchingWindowMs: 0,
      maxConcurrency: 1,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      handler: async (event: SQSEvent) => {
        attempts += 1;
        return {
          batchItemFailures:
            attempts === 1 ? event.Records.map((record) => ({ itemIdentifier: record.messageId })) : [],
        };
      },
    });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: 'two' }));
      await waitFor(() => (emulator.depth('failing') === 0 ? true : undefined), 30_000);

      expect(attempts).toBe(2);
    } finally {
      await source.stop();
    }
  }, 40_000);
});
