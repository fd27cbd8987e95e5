import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE, PERSIST } from '../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../local/clients.js';
import { captureOutput } from '../support/capture.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../support/local.js';
import { scanTable } from '../support/tables.js';

// Short enough to watch every retry, long enough that a batch is never redelivered while still in hand.
const VISIBILITY_TIMEOUT_SECONDS = 2;

describe('local stack dead-letter path', () => {
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({ visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS });
  });

  afterAll(async () => {
    await local.dispose();
  });

  it('moves a record that always fails to the dead-letter queue after the receive limit, storing nothing', async () => {
    const sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: local.stack.queues.queueUrl,
        MessageBody: '{"not":"an aircall envelope"}',
        MessageAttributes: { account: { DataType: 'String', StringValue: 'local' } },
      }),
    );
    sqs.destroy();
    const perAttempt = VISIBILITY_TIMEOUT_SECONDS + PERSIST.maxBatchingWindowSeconds + 2;
    // Each failed receive is logged by persist; the output is kept to check what it says.
    const { output } = await captureOutput(() =>
      waitFor(
        () => (local.stack.depth().deadLetterQueue === 1 ? true : undefined),
        (EVENTS_QUEUE.maxReceiveCount + 1) * perAttempt * 1000,
      ),
    );
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 1 });
    expect(
      output.match(/"message":"record not persisted".*"reason":"record body is not an Aircall envelope"/g),
    ).toHaveLength(EVENTS_QUEUE.maxReceiveCount);
    expect(local.stack.activity.failed).toBe(EVENTS_QUEUE.maxReceiveCount);
    expect(await scanTable(local.documents, local.settings.tables.events)).toEqual([]);
  }, 60_000);
});
