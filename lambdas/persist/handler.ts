// Lambda entry for the events queue: the handler factory, and the handler Lambda calls, built from the environment.
// It persists each record, reports only the failed ones back to SQS, and publishes the invocation's metrics once at
// its end.

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import type { ClientTarget } from '../shared/aws.js';
import { MalformedRecordError } from '../shared/errors.js';
import { builtOnFirstCall } from '../shared/first-call.js';
import { createLogger } from '../shared/logger.js';
import { DynamoEventLog, DynamoStateStore } from './adapters.js';
import { loadPersistConfig, type PersistConfig } from './config.js';
import { type PersistDeps, type PersistOutcome, persistEvent } from './persist.js';
import { parseQueuedRecord } from './queued-event.js';

export type PersistHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface PersistHandlerDeps extends PersistDeps {
  readonly logger: Logger;
  /** Built once by the caller; the handler flushes it at the end of every invocation. */
  readonly metrics: Metrics;
}

/** What one invocation counted: the state writes it refused. */
interface Tally {
  foreign: number;
}

const addToTally = (tally: Tally, outcome: PersistOutcome): void => {
  tally.foreign += outcome.foreign;
};

/** One EMF document, written with no await in between, so invocations sharing the Metrics cannot interleave. */
const publishTally = (metrics: Metrics, tally: Tally): void => {
  metrics.addMetric(PERSIST_METRICS.names.foreignWritesRefused, MetricUnit.Count, tally.foreign);
  metrics.publishStoredMetrics();
};

/** Builds the handler from its dependencies; nothing here reads the environment. */
export const createPersistHandler = (deps: PersistHandlerDeps): PersistHandler => {
  const { logger } = deps;

  const persistRecord = async (record: SQSRecord, tally: Tally): Promise<void> => {
    try {
      const event = parseQueuedRecord(record);
      const outcome = await persistEvent(event, deps);
      addToTally(tally, outcome);
      for (const target of outcome.refused) {
        logger.warn('foreign write refused', {
          messageId: record.messageId,
          account: event.account,
          resource: event.envelope.resource,
          event: event.envelope.event,
          table: target.table,
          id: target.id,
          reason: 'the item belongs to another account',
        });
      }
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

  return async (event, context) => {
    // Per invocation: a processor holds the state of the batch in hand, and the local stack runs one handler on
    // several batches at once.
    const processor = new BatchProcessor(EventType.SQS);
    const tally: Tally = { foreign: 0 };
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) => persistRecord(record, tally),
        processor,
        {
          context,
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      publishTally(deps.metrics, tally);
    }
  };
};

/** The client persist writes through: a hung connection fails the record after seconds, not at the Lambda timeout. */
export const createPersistClient = (target: ClientTarget = {}): DynamoDBClient =>
  new DynamoDBClient({
    ...target,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });

/** The use case's adapters over the given client, as the deployed function wires them. */
export const persistDependencies = (config: PersistConfig, dynamo: DynamoDBClient): PersistDeps => {
  const client = DynamoDBDocumentClient.from(dynamo, {
    // Aircall ids are 64-bit: above 2^53 JSON.parse has already rounded them, and refusing to store the
    // rounded number would lose the whole event instead of one digit of one id.
    marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
  });
  return {
    events: new DynamoEventLog(client, config.eventsTable),
    state: new DynamoStateStore(client, config.stateTables),
    retentionDays: config.retentionDays,
    timestampMarginSeconds: config.timestampMarginSeconds,
  };
};

export const handler: PersistHandler = builtOnFirstCall(() =>
  createPersistHandler({
    ...persistDependencies(loadPersistConfig(), createPersistClient()),
    metrics: new Metrics(PERSIST_METRICS.options),
    logger: createLogger('persist'),
  }),
);
