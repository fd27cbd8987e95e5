// Loads webhook bodies into a test stack the way production does: through the real ingest and persist handlers.

import { registerToken } from '../../local/provision.js';
import { captureOutput } from '../support/capture.js';
import { lambdaContext, receiveRecords, sqsEvent, webhookRequest } from '../support/lambda-events.js';
import type { TestStack } from '../support/stack.js';

/** Delivers bodies through ingest, then hands everything it enqueued to persist in one batch. */
export type Deliver = (bodies: readonly string[]) => Promise<void>;

/** Registers the bodies' tokens and builds both handlers on the stack. */
export const pipelineFor = async (
  stack: TestStack,
  account: string,
  bodies: readonly string[],
): Promise<Deliver> => {
  const tokens = new Set(bodies.map((body) => String((JSON.parse(body) as { token?: unknown }).token)));
  for (const token of tokens) await registerToken(stack.dynamo, stack.tables.webhooks, token, account);
  const ingest = stack.ingest();
  const persist = stack.persist();

  return async (toDeliver) => {
    for (const body of toDeliver) {
      const { result } = await captureOutput(() => ingest(webhookRequest(body)));
      if (result.statusCode !== 200) throw new Error(`ingest answered ${result.statusCode}`);
    }
    const records = await receiveRecords(stack.sqs, stack.queues.queueUrl, stack.queues.queueArn);
    if (records.length !== toDeliver.length)
      throw new Error(`enqueued ${records.length} of ${toDeliver.length}`);
    const { result } = await captureOutput(() => persist(sqsEvent(records), lambdaContext('persist')));
    if (result.batchItemFailures.length > 0)
      throw new Error(`persist failed ${result.batchItemFailures.length}`);
  };
};
