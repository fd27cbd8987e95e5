import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES, PERSIST } from '../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../local/clients.js';
import { captureOutput } from '../support/capture.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../support/local.js';
import { scanEvents } from '../support/tables.js';

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

  it('moves a record that can never be stored to the dead-letter queue on its first receive, storing nothing', async () => {
    const sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: local.stack.queues.queueUrl,
        MessageBody: '{"not":"an aircall envelope"}',
        MessageAttributes: { account: { DataType: 'String', StringValue: 'local' } },
      }),
    );
    const perAttempt = VISIBILITY_TIMEOUT_SECONDS + PERSIST.maxBatchingWindowSeconds + 2;
    // Persist logs what it did with the record; the output is kept to check what it says.
    const { output } = await captureOutput(() =>
      // Both: the dead letter is sent before the record is acknowledged, and so deleted from the queue.
      waitFor(() => {
        const { queue, deadLetterQueue } = local.stack.depth();
        return queue === 0 && deadLetterQueue === 1 ? true : undefined;
      }, perAttempt * 1000),
    );
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 1 });
    expect(
      output.match(
        /"message":"record sent to the dead-letter queue".*"reason":"record body is not an Aircall envelope"/g,
      ),
    ).toHaveLength(1);
    expect(local.stack.activity.failed).toBe(0);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: local.stack.queues.deadLetterQueueUrl,
        MessageAttributeNames: ['All'],
      }),
    );
    sqs.destroy();
    expect(
      Messages.map((m) => [m.Body, m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]?.StringValue]),
    ).toEqual([['{"not":"an aircall envelope"}', 'record body is not an Aircall envelope']]);
    expect(await scanEvents(local.documents, local.settings.tables.events)).toEqual([]);
  }, 60_000);
});
