// Records persist can never store, put on the events queue among good traffic: each reaches the dead-letter queue on
// its first receive with its reason, and every good event is stored.

import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../../local/clients.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../../support/local.js';
import { resourceIdOf, scanEvents, scanTable } from '../../support/tables.js';
import { callCreated, sendAll, tally } from './traffic.js';

const FIRST_ID = 4_300_000_000;
const GOOD = 60;

/** Bodies no retry can store: not an envelope, not JSON, an envelope whose data carries `__proto__`. */
const POISON = [
  '{"not":"an aircall envelope"}',
  'not json at all',
  '{"resource":"call","event":"call.created","timestamp":1,"data":{"id":4399999999,"__proto__":{"x":1}}}',
];

interface DeadLetter {
  readonly body: string | undefined;
  readonly reason: string | undefined;
}

const drainDeadLetters = async (sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> => {
  const letters: DeadLetter[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return letters;
    letters.push(
      ...Messages.map((m) => ({
        body: m.Body,
        reason: m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]?.StringValue,
      })),
    );
  }
};

describe('poison records on the events queue', () => {
  let local: TestLocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'CRITICAL',
      archiveMedia: false,
      // The queue's own visibility timeout: no record here is worth a retry, so none should come back.
    });
    sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
  });

  afterAll(async () => {
    sqs?.destroy();
    await local?.dispose();
  });

  it('sends each to the dead-letter queue on its first receive with its reason, and stores every good event', async () => {
    const items = Array.from({ length: GOOD }, (_, i) => ({
      id: FIRST_ID + i,
      body: callCreated(FIRST_ID + i),
    }));
    const answers = await sendAll(local.stack.webhookUrl, items, 8, async (index) => {
      // Straight onto the queue, between good events, as a record queued by hand or by an older ingest would be.
      const poison = POISON[index / (GOOD / POISON.length)];
      if (index % (GOOD / POISON.length) !== 0 || poison === undefined) return;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: local.stack.queues.queueUrl,
          MessageBody: poison,
          MessageAttributes: { [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: 'local' } },
        }),
      );
    });
    await waitFor(() => {
      const { queue, deadLetterQueue } = local.stack.depth();
      return queue === 0 && deadLetterQueue === POISON.length ? true : undefined;
    }, 30_000);
    const calls = await scanTable(local.documents, local.settings.tables.calls);
    const events = await scanEvents(local.documents, local.settings.tables.events);
    const letters = await drainDeadLetters(sqs, local.stack.queues.deadLetterQueueUrl);

    expect({
      sent: answers.length,
      answered200: answers.filter((a) => a.status === 200).length,
      storedCalls: calls.length,
      storedEvents: events.length,
      eventsStoredOnce: [...tally(events.map((row) => resourceIdOf(row))).values()].filter((n) => n === 1)
        .length,
      poisonSent: POISON.length,
      deadLettered: letters.length,
      // Persist sent each itself, at its first receive, rather than failing it until the redrive policy moved it.
      retried: local.stack.activity.failed,
    }).toEqual({
      sent: GOOD,
      answered200: GOOD,
      storedCalls: GOOD,
      storedEvents: GOOD,
      eventsStoredOnce: GOOD,
      poisonSent: POISON.length,
      deadLettered: POISON.length,
      retried: 0,
    });
    expect(letters.map((l) => l.body).sort()).toEqual([...POISON].sort());
    expect(letters.map((l) => l.reason).sort()).toEqual([
      'record body is not an Aircall envelope',
      'record body is not an Aircall envelope',
      expect.stringMatching(/^the event cannot be stored: .*__proto__/),
    ]);
  }, 60_000);
});
