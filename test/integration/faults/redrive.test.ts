// A record that failed only because DynamoDB stayed down past its receives waits in the dead-letter queue, whole; once
// DynamoDB is back, the CLI's `redrive` puts it back on the events queue and it is stored, once.

import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../cli/run.js';
import { resolveTarget } from '../../../cli/target.js';
import {
  DEAD_LETTER_ATTRIBUTES,
  EVENTS_QUEUE,
  MESSAGE_ATTRIBUTES,
} from '../../../lib/definitions/pipeline.js';
import { localSqsClientConfig } from '../../../local/clients.js';
import { recordingIo } from '../../cli/io.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor } from '../../support/local.js';
import { resourceIdOf, scanEvents, scanTable } from '../../support/tables.js';
import { callCreated } from './traffic.js';

const FIRST_ID = 4_400_000_000;
/** Tiny, so that the record uses up its receives during an outage of well under a minute. */
const VISIBILITY_TIMEOUT_SECONDS = 1;

describe('a record dead-lettered by a long DynamoDB outage, redriven', () => {
  let dynamo: FaultProxy | undefined;
  let local: TestLocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'CRITICAL',
      archiveMedia: false,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      handlerEndpoints: async (emulators) => {
        dynamo = await startFaultProxy(emulators.dynamodb);
        return { dynamodb: dynamo.url };
      },
    });
    sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
  });

  afterAll(async () => {
    sqs?.destroy();
    await local?.dispose();
    await dynamo?.close();
  });

  it('keeps the record in the dead-letter queue, and stores it once redrive puts it back', async () => {
    const proxy = dynamo;
    if (proxy === undefined) throw new Error('no proxy');
    // One event first, so that ingest's token look-up is cached and the outage reaches persist alone.
    expect(await post(local.stack.webhookUrl, callCreated(FIRST_ID))).toBe(200);
    await waitFor(() => (local.stack.depth().queue === 0 ? true : undefined), 30_000);

    const id = FIRST_ID + 1;
    proxy.down();
    expect(await post(local.stack.webhookUrl, callCreated(id))).toBe(200);
    // Held down until the queue's redrive policy has moved the record: a condition, not a fixed time.
    await waitFor(
      () => {
        const { queue, deadLetterQueue } = local.stack.depth();
        return queue === 0 && deadLetterQueue === 1 ? true : undefined;
      },
      (EVENTS_QUEUE.maxReceiveCount * VISIBILITY_TIMEOUT_SECONDS + 60) * 1000,
    );
    const failedAttempts = local.stack.activity.failed;
    proxy.heal();

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: local.stack.queues.deadLetterQueueUrl,
        MessageAttributeNames: ['All'],
        // Seen and let go at once, so that redrive finds it.
        VisibilityTimeout: 0,
      }),
    );
    const [letter] = Messages;
    const callsBefore = (await scanTable(local.documents, local.settings.tables.calls)).map((c) => c.id);

    const io = recordingIo({ resolveTarget: resolveTarget({ DATA_DIR: local.settings.dataDir }) });
    const code = await run(['redrive', '--json'], io);
    await waitFor(async () => {
      const calls = await scanTable(local.documents, local.settings.tables.calls);
      return calls.some((call) => call.id === id) && local.stack.depth().queue === 0 ? true : undefined;
    }, 30_000);
    const calls = await scanTable(local.documents, local.settings.tables.calls);
    const events = await scanEvents(local.documents, local.settings.tables.events);

    expect(JSON.parse(letter?.Body ?? '{}')).toMatchObject({ event: 'call.created', data: { id } });
    expect(letter?.MessageAttributes?.[MESSAGE_ATTRIBUTES.account]?.StringValue).toBe('local');
    // Moved by the queue's receive limit, not by persist: no failure reason was added.
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]).toBeUndefined();
    // Tried again and again (a receive that came back while its batch was still in hand is not a failure counted).
    expect(failedAttempts).toBeGreaterThan(1);
    expect({ exit: code, stderr: io.err() }).toEqual({ exit: 0, stderr: '' });
    expect(JSON.parse(io.out())).toMatchObject({ moved: 1 });
    expect({
      deadLetteredInOutage: Messages.length,
      storedBeforeRedrive: callsBefore.filter((c) => c === id).length,
      storedAfterRedrive: calls.filter((c) => c.id === id).length,
      eventRows: events.filter((row) => Number(resourceIdOf(row)) === id).length,
      deadLetterQueueAfter: local.stack.depth().deadLetterQueue,
    }).toEqual({
      deadLetteredInOutage: 1,
      storedBeforeRedrive: 0,
      storedAfterRedrive: 1,
      eventRows: 1,
      deadLetterQueueAfter: 0,
    });
  }, 150_000);
});
