// Lambda entry for the events queue: persists each record and reports only the failed ones back to SQS.

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MalformedRecordError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { DynamoEventLog, DynamoStateStore } from './adapters.js';
import { loadPersistConfig } from './config.js';
import { persistEvent } from './persist.js';
import { parseQueuedRecord } from './queued-event.js';

const config = loadPersistConfig();
const logger = createLogger('persist');

// A hung connection fails the record after seconds, not at the Lambda timeout; SQS then redelivers it.
const dynamo = new DynamoDBClient({
  requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
});
const client = DynamoDBDocumentClient.from(dynamo, {
  // Aircall ids are 64-bit: above 2^53 JSON.parse has already rounded them, and refusing to store the
  // rounded number would lose the whole event instead of one digit of one id.
  marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
});
const deps = {
  events: new DynamoEventLog(client, config.eventsTable),
  state: new DynamoStateStore(client, config.stateTables),
  retentionDays: config.retentionDays,
};
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  try {
    const event = parseQueuedRecord(record);
    const outcome = await persistEvent(event, deps);
    logger.debug('event persisted', {
      messageId: record.messageId,
      resource: event.envelope.resource,
      event: event.envelope.event,
      ...outcome,
    });
  } catch (error) {
    // Thrown on purpose: the processor reports this record alone, SQS redelivers it, and after
    // the queue's receive limit it lands in the dead-letter queue. Nothing is dropped here.
    // A malformed body may hold a token, so only the reason is logged, never the parser's excerpt.
    if (error instanceof MalformedRecordError) {
      logger.warn('record not persisted', { messageId: record.messageId, reason: error.message });
    } else {
      logger.error('record not persisted', { messageId: record.messageId, error });
    }
    throw error;
  }
};

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
