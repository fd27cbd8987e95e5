// Lambda entry for the events queue: the handler factory, and the handler Lambda calls, built from the environment.
// It persists each record, sends the ones that can never be stored to the dead-letter queue at once, reports only
// the failed ones back to SQS, and publishes the invocation's metrics once at its end.

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DOCUMENT_MARSHALL_OPTIONS } from '../../lib/definitions/json.js';
import { PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import { receiptsOf } from '../../lib/definitions/receipts.js';
import { DynamoAccountStore, KnownAccounts, ThrottledActivity } from '../shared/accounts.js';
import type { ClientTarget } from '../shared/aws.js';
import { correlationOf } from '../shared/correlation.js';
import { createDeadLetterClient, deadLetterRecord, SqsDeadLetterQueue } from '../shared/dead-letters.js';
import { eventDigest } from '../shared/digest.js';
import { MalformedRecordError } from '../shared/errors.js';
import { builtOnFirstCall } from '../shared/first-call.js';
import { createLogger } from '../shared/logger.js';
import { storabilityProblem } from '../shared/storability.js';
import { DynamoEventLog, DynamoReceiptLog, DynamoStateStore, SqsMediaJobQueue } from './adapters.js';
import { loadPersistConfig, type PersistConfig } from './config.js';
import { type PersistDeps, type PersistOutcome, persistEvent } from './persist.js';
import { type DeadLetterQueue, type QueuedEvent, type ReceiptLog, RejectedWriteError } from './ports.js';
import { parseQueuedRecord } from './queued-event.js';
import { eventKeys } from './records.js';

export type PersistHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Where persist notes, per account, that events arrived: what the guardian tells a gap by. */
export interface ActivityMarker {
  arrived(account: string, atMs: number): Promise<void>;
}

export interface PersistHandlerDeps extends PersistDeps {
  /** Absent: nothing is noted (a stack without the accounts table). */
  readonly activity?: ActivityMarker;
  /** Where each batch's receipts go, before any of its rows. */
  readonly receipts: ReceiptLog;
  /** Makes the batch's accounts known before any of their rows; absent, none is (a stack without the accounts table). */
  readonly accounts?: { ensure(accounts: Iterable<string>): Promise<void> };
  /** Where a record that can never be stored goes at once, instead of after every retry. */
  readonly deadLetters: DeadLetterQueue;
  readonly logger: Logger;
  /** Built once by the caller; the handler flushes it at the end of every invocation. */
  readonly metrics: Metrics;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** What one invocation stored, per account the events came from, and how many state writes it refused. */
interface Tally {
  foreign: number;
  duplicates: number;
  stale: number;
  mediaJobs: number;
  readonly accounts: Map<string, { events: number; writeUnits: number | undefined; lastReceivedAt: number }>;
}

const addToTally = (tally: Tally, account: string, receivedAt: number, outcome: PersistOutcome): void => {
  tally.foreign += outcome.foreign;
  if (!outcome.logged) tally.duplicates += 1;
  tally.stale += outcome.stale;
  tally.mediaJobs += outcome.mediaJobs;
  const counts = tally.accounts.get(account) ?? { events: 0, writeUnits: undefined, lastReceivedAt: 0 };
  counts.lastReceivedAt = Math.max(counts.lastReceivedAt, receivedAt);
  if (outcome.logged) counts.events += 1;
  if (outcome.writeUnits !== undefined) counts.writeUnits = (counts.writeUnits ?? 0) + outcome.writeUnits;
  tally.accounts.set(account, counts);
};

/**
 * One EMF document for the service-wide count, then one per account: a document carries one value per dimension,
 * so per-account metrics take a document each. All written at once, with no await between, so concurrent
 * invocations sharing the Metrics (the local stack runs several) cannot interleave their dimensions.
 */
const publishTally = (metrics: Metrics, tally: Tally): void => {
  const { names, accountDimension } = PERSIST_METRICS;
  metrics.addMetric(names.foreignWritesRefused, MetricUnit.Count, tally.foreign);
  metrics.addMetric(names.duplicatesIgnored, MetricUnit.Count, tally.duplicates);
  metrics.addMetric(names.staleEventsIgnored, MetricUnit.Count, tally.stale);
  metrics.addMetric(names.mediaJobsQueued, MetricUnit.Count, tally.mediaJobs);
  metrics.publishStoredMetrics();
  for (const [account, counts] of tally.accounts) {
    metrics.addDimension(accountDimension, account);
    metrics.addMetric(names.eventsStored, MetricUnit.Count, counts.events);
    // DynamoDB reports the capacity of the writes it made; with none reported there is no honest number to give.
    if (counts.writeUnits !== undefined)
      metrics.addMetric(names.writeUnitsConsumed, MetricUnit.Count, counts.writeUnits);
    metrics.publishStoredMetrics();
  }
};

/** Why retrying the record cannot help, or undefined when it may. */
const permanentReason = (error: unknown): string | undefined =>
  error instanceof MalformedRecordError || error instanceof RejectedWriteError ? error.message : undefined;

/** A record as its body reads: the event, or why it can never be stored. */
type ParsedRecord = { readonly event: QueuedEvent; readonly digest: string } | { readonly error: unknown };

const parseStorable = (record: SQSRecord): ParsedRecord => {
  try {
    const event = parseQueuedRecord(record);
    // Ingest refuses these with a 400 or 413; a record queued before that check (or by hand) is refused here by
    // the same rule, at once, rather than after every retry.
    const problem = storabilityProblem(event.envelope);
    if (problem !== undefined)
      return { error: new MalformedRecordError(`the event cannot be stored: ${problem.reason}`) };
    return { event, digest: eventDigest(event.envelope, event.account) };
  } catch (error) {
    return { error };
  }
};

/** Builds the handler from its dependencies; nothing here reads the environment. */
export const createPersistHandler = (deps: PersistHandlerDeps): PersistHandler => {
  const { logger } = deps;

  /** Resolves once the record is in the dead-letter queue; rejects, so that the record is retried, otherwise. */
  const deadLetter = (record: SQSRecord, reason: string, event: QueuedEvent | undefined) =>
    // The reason only, never the body: a malformed body may hold a token, and either may hold personal data.
    deadLetterRecord(record, reason, {
      queue: deps.deadLetters,
      now: deps.now,
      logger,
      subject: 'record',
      failure: 'not persisted',
      detail: {
        ...correlationOf(record),
        ...(event === undefined
          ? {}
          : { account: event.account, resource: event.envelope.resource, event: event.envelope.event }),
      },
    });

  /** Notes each account's latest event; a failure to note is logged, and never fails the records it came from. */
  const markActivity = async (tally: Tally): Promise<void> => {
    const { activity } = deps;
    if (activity === undefined) return;
    for (const [account, { lastReceivedAt }] of tally.accounts) {
      try {
        await activity.arrived(account, lastReceivedAt);
      } catch (error) {
        logger.warn('could not note the account’s latest event', { account, error });
      }
    }
  };

  /**
   * Lists the batch's events before any row is written: a receipt naming an event whose row is not there yet is
   * skipped by its readers, while a row that no receipt lists would be missing from every listing of its time.
   * False, after logging why, when the receipts could not be stored: then the whole batch is retried.
   */
  const writeReceipts = async (parsed: ReadonlyMap<string, ParsedRecord>): Promise<boolean> => {
    const received = [...parsed.values()].flatMap((record) => {
      if (!('event' in record)) return [];
      const { event, digest } = record;
      const keys = eventKeys(event, digest);
      return [{ account: event.account, ...keys, receivedAt: event.receivedAt }];
    });
    try {
      await deps.accounts?.ensure(received.map((event) => event.account));
      await deps.receipts.write(receiptsOf(received, deps.retentionDays));
      return true;
    } catch (error) {
      logger.error('receipts not stored; the batch is retried', { records: parsed.size, error });
      return false;
    }
  };

  const persistRecord = async (record: SQSRecord, parsed: ParsedRecord, tally: Tally): Promise<void> => {
    const event = 'event' in parsed ? parsed.event : undefined;
    try {
      if (event === undefined) throw 'error' in parsed ? parsed.error : new Error('unparsed record');
      const outcome = await persistEvent(event, deps, 'digest' in parsed ? parsed.digest : undefined);
      addToTally(tally, event.account, event.receivedAt, outcome);
      for (const target of outcome.refused) {
        logger.warn('foreign write refused', {
          messageId: record.messageId,
          ...correlationOf(record),
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
        ...correlationOf(record),
        resource: event.envelope.resource,
        event: event.envelope.event,
        ...outcome,
      });
    } catch (error) {
      const reason = permanentReason(error);
      // Every other failure (throttling, timeouts, 5xx, the network) is thrown on purpose: the processor reports
      // this record alone, SQS redelivers it, and after the queue's receive limit it lands in the dead-letter queue.
      if (reason !== undefined) return deadLetter(record, reason, event);
      logger.error('record not persisted', { messageId: record.messageId, ...correlationOf(record), error });
      throw error;
    }
  };

  return async (event, context) => {
    logger.addContext(context);
    // Per invocation: a processor holds the state of the batch in hand, and the local stack runs one handler on
    // several batches at once.
    const processor = new BatchProcessor(EventType.SQS);
    const tally: Tally = { foreign: 0, duplicates: 0, stale: 0, mediaJobs: 0, accounts: new Map() };
    const parsed = new Map(event.Records.map((record) => [record.messageId, parseStorable(record)]));
    if (!(await writeReceipts(parsed))) {
      return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
    }
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) =>
          persistRecord(
            record,
            parsed.get(record.messageId) ?? { error: new Error('unparsed record') },
            tally,
          ),
        processor,
        {
          context,
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      publishTally(deps.metrics, tally);
      await markActivity(tally);
    }
  };
};

/** The client persist writes through: a hung connection fails the record after seconds, not at the Lambda timeout. */
export const createPersistClient = (target: ClientTarget = {}): DynamoDBClient =>
  new DynamoDBClient({
    ...target,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });

export { createDeadLetterClient };

export interface PersistClients {
  readonly dynamo: DynamoDBClient;
  /** SQS: the dead-letter queue's client, and the media queue's too. */
  readonly deadLetters: SQSClient;
}

/** How often, at most, one persist instance notes an account's latest event: a write a minute, not one an event. */
export const ACTIVITY_MARK_EVERY_MS = 60_000;

/** The handler's adapters over the given clients, as the deployed function wires them. */
export const persistDependencies = (
  config: PersistConfig,
  clients: PersistClients,
): Omit<PersistHandlerDeps, 'logger' | 'metrics'> => {
  const client = DynamoDBDocumentClient.from(clients.dynamo, { marshallOptions: DOCUMENT_MARSHALL_OPTIONS });
  return {
    events: new DynamoEventLog(client, config.eventsTable),
    receipts: new DynamoReceiptLog(client, config.eventsTable),
    state: new DynamoStateStore(client, config.stateTables),
    deadLetters: new SqsDeadLetterQueue(clients.deadLetters, config.deadLetterQueueUrl),
    ...(config.mediaQueueUrl === undefined
      ? {}
      : { mediaJobs: new SqsMediaJobQueue(clients.deadLetters, config.mediaQueueUrl) }),
    ...(config.accountsTable === undefined
      ? {}
      : {
          activity: new ThrottledActivity(
            new DynamoAccountStore(client, config.accountsTable),
            ACTIVITY_MARK_EVERY_MS,
          ),
          accounts: new KnownAccounts(new DynamoAccountStore(client, config.accountsTable), () => Date.now()),
        }),
    retentionDays: config.retentionDays,
    timestampMarginSeconds: config.timestampMarginSeconds,
    now: () => Date.now(),
  };
};

export const handler: PersistHandler = builtOnFirstCall(() =>
  createPersistHandler({
    ...persistDependencies(loadPersistConfig(), {
      dynamo: createPersistClient(),
      deadLetters: createDeadLetterClient(),
    }),
    metrics: new Metrics(PERSIST_METRICS.options),
    logger: createLogger('persist'),
  }),
);
