// Lambda entry for the media queue: the handler factory, and the handler Lambda calls, built from the environment.
// It archives each job's file, sends the jobs no retry can archive to the media dead-letter queue at once with
// their reason, and reports only the failed ones back to SQS.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ARCHIVE } from '../../lib/definitions/archive.js';
import { type MediaJob, parseMediaJob } from '../../lib/definitions/media.js';
import { ARCHIVE_METRICS } from '../../lib/definitions/metrics.js';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import type { AircallCredentials } from '../shared/aircall/aircall.js';
import { parseCredentials } from '../shared/aircall/credentials.js';
import type { ClientTarget } from '../shared/aws.js';
import { correlationOf } from '../shared/correlation.js';
import {
  createDeadLetterClient,
  type DeadLetterQueue,
  deadLetterRecord,
  SqsDeadLetterQueue,
} from '../shared/dead-letters.js';
import { MalformedRecordError } from '../shared/errors.js';
import { builtOnFirstCall } from '../shared/first-call.js';
import { createLogger } from '../shared/logger.js';
import {
  AircallClientCalls,
  DiskScratch,
  DynamoCallArchiveStore,
  FetchMediaSource,
  S3ObjectStore,
  type S3ObjectStoreOptions,
} from './adapters.js';
import { type ArchiveDeps, archiveMedia, linkForLog } from './archive.js';
import { ARCHIVE_LEASE_SECONDS, type ArchiveConfig, loadArchiveConfig } from './config.js';
import type { ResolveHost } from './fetch-media.js';
import { UnarchivableMediaError } from './ports.js';

export type ArchiveHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface ArchiveHandlerDeps extends ArchiveDeps {
  /** Where a job no retry can archive goes at once, instead of after every retry. */
  readonly deadLetters: DeadLetterQueue;
  readonly logger: Logger;
  /** Built once by the caller; the handler publishes the invocation's counts at its end. */
  readonly metrics: Metrics;
}

/** What one invocation did with its jobs. */
interface ArchiveCounts {
  archived: number;
  alreadyArchived: number;
  failed: number;
}

/** Why retrying the job cannot help, or undefined when it may. */
const permanentReason = (error: unknown): string | undefined =>
  error instanceof MalformedRecordError || error instanceof UnarchivableMediaError
    ? error.message
    : undefined;

/** What a log line says of a job: never the link's query string, which is a credential. */
const jobDetail = (job: MediaJob | undefined) =>
  job === undefined
    ? {}
    : { account: job.account, callId: job.callId, kind: job.kind, link: linkForLog(job.url) };

const parseJob = (record: SQSRecord): MediaJob => {
  try {
    return parseMediaJob(record.body);
  } catch (error) {
    throw new MalformedRecordError(error instanceof Error ? error.message : 'media job is malformed', {
      cause: error,
    });
  }
};

/** Builds the handler from its dependencies; nothing here reads the environment. */
export const createArchiveHandler = (deps: ArchiveHandlerDeps): ArchiveHandler => {
  const { logger } = deps;

  /** Resolves once the record is in the dead-letter queue; rejects, so that the record is retried, otherwise. */
  const deadLetter = (record: SQSRecord, reason: string, job: MediaJob | undefined) =>
    // The reason only, never the body: it holds the link, whose query string is a credential.
    deadLetterRecord(record, reason, {
      queue: deps.deadLetters,
      now: deps.now,
      logger,
      subject: 'media job',
      failure: 'not archived',
      detail: { ...correlationOf(record), ...jobDetail(job) },
    });

  const archiveRecord = async (record: SQSRecord, counts: ArchiveCounts): Promise<void> => {
    let job: MediaJob | undefined;
    try {
      job = parseJob(record);
      const outcome = await archiveMedia(job, deps, record.messageId);
      if (outcome.status === 'archived') counts.archived += 1;
      else if (outcome.status === 'already-archived') counts.alreadyArchived += 1;
      if (outcome.status === 'archived')
        logger.info('media archived', {
          messageId: record.messageId,
          ...correlationOf(record),
          ...jobDetail(job),
          key: outcome.archive.key,
          bytes: outcome.archive.bytes,
          refreshed: outcome.refreshed,
        });
      else if (outcome.status === 'in-progress')
        // The job holding the lease sees the file through: it archives it, or fails and drops the lease and is
        // retried (or dead-lettered) itself, or dies, and then its own message, redelivered, takes its lease back.
        logger.info('media job left to the job that holds its lease', {
          messageId: record.messageId,
          ...correlationOf(record),
          ...jobDetail(job),
        });
      else
        logger.debug('media already archived', {
          messageId: record.messageId,
          ...correlationOf(record),
          ...jobDetail(job),
          ...outcome,
        });
    } catch (error) {
      counts.failed += 1;
      const reason = permanentReason(error);
      if (reason !== undefined) return deadLetter(record, reason, job);
      // Timeouts, 5xx, S3 throttling, Aircall's rate limit: thrown on purpose, so that this record alone comes
      // back, is retried later (with a fresh link once its own has expired), and after the receive limit lands
      // in the dead-letter queue.
      logger.error('media not archived', {
        messageId: record.messageId,
        ...correlationOf(record),
        ...jobDetail(job),
        error,
      });
      throw error;
    }
  };

  return async (event, context) => {
    logger.addContext(context);
    // Per invocation: a processor holds the state of the batch in hand.
    const processor = new BatchProcessor(EventType.SQS);
    const counts: ArchiveCounts = { archived: 0, alreadyArchived: 0, failed: 0 };
    try {
      return await processPartialResponse(
        event,
        (record: SQSRecord) => archiveRecord(record, counts),
        processor,
        {
          context,
          throwOnFullBatchFailure: false,
        },
      );
    } finally {
      const { names } = ARCHIVE_METRICS;
      deps.metrics.addMetric(names.mediaArchived, MetricUnit.Count, counts.archived);
      deps.metrics.addMetric(names.mediaAlreadyArchived, MetricUnit.Count, counts.alreadyArchived);
      deps.metrics.addMetric(names.mediaArchiveFailures, MetricUnit.Count, counts.failed);
      deps.metrics.publishStoredMetrics();
    }
  };
};

/** The bucket's client: a hung connection fails the part after seconds, not at the Lambda timeout. */
export const createArchiveS3Client = (
  target: ClientTarget = {},
  options: { readonly forcePathStyle?: boolean } = {},
): S3Client =>
  new S3Client({
    ...target,
    ...options,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 30_000, throwOnRequestTimeout: true },
  });

/** The calls table's client, bounded as persist's is. */
export const createArchiveDynamoClient = (target: ClientTarget = {}): DynamoDBClient =>
  new DynamoDBClient({
    ...target,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
  });

/** The media dead-letter queue's client: the one persist's dead letters go through. */
export const createArchiveDeadLetterClient = createDeadLetterClient;

export interface ArchiveClients {
  readonly dynamo: DynamoDBClient;
  readonly s3: S3Client;
  readonly deadLetters: SQSClient;
}

export interface ArchiveWiring {
  readonly clients: ArchiveClients;
  /** The credentials secret's value, when `aircallSecretId` is set: a JSON list of accounts. */
  readonly readSecret?: (secretId: string) => Promise<unknown>;
  /** The accounts' credentials themselves, instead of a secret (the local stack's, given by the environment). */
  readonly credentials?: readonly AircallCredentials[];
  /** @default fetch-media's dns.lookup */
  readonly lookup?: ResolveHost;
  readonly objectStore?: S3ObjectStoreOptions;
  /**
   * Directory downloads are kept in until stored, emptied when the dependencies are built: nothing else may use it.
   * @default `archive-scratch` under the system's temporary directory (the function's /tmp)
   */
  readonly scratchDirectory?: string;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** The credentials of one account from the secret, read (and cached by the reader) only when a link needs it. */
const credentialsReader =
  (secretId: string | undefined, readSecret: (secretId: string) => Promise<unknown>) =>
  async (account: string): Promise<AircallCredentials | undefined> => {
    if (secretId === undefined) return undefined;
    const secret = await readSecret(secretId);
    if (typeof secret !== 'string') throw new Error('the Aircall credentials secret must be a JSON string');
    return parseCredentials(secret).find((credentials) => credentials.account === account);
  };

/** The handler's adapters over the given clients, as the deployed function wires them. */
export const archiveDependencies = (
  config: ArchiveConfig,
  wiring: ArchiveWiring,
): Omit<ArchiveHandlerDeps, 'logger' | 'metrics'> => {
  const now = wiring.now ?? (() => Date.now());
  const readSecret =
    wiring.readSecret ??
    ((): ((secretId: string) => Promise<unknown>) => {
      const secrets = new SecretsProvider();
      return (secretId) => secrets.get(secretId, { maxAge: GUARDIAN.secretCacheSeconds });
    })();
  const documents = DynamoDBDocumentClient.from(wiring.clients.dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    calls: new DynamoCallArchiveStore(documents, config.callsTable),
    media: new FetchMediaSource({
      allowList: config.allowList,
      maxBytes: config.maxBytes,
      // A large file takes minutes; a minute of the function's time is left to abort the upload and dead-letter.
      totalTimeoutMs: (ARCHIVE.timeoutSeconds - 60) * 1000,
      now,
      ...(wiring.lookup === undefined ? {} : { lookup: wiring.lookup }),
    }),
    objects: new S3ObjectStore(wiring.clients.s3, config.bucketName, wiring.objectStore),
    scratch: new DiskScratch(wiring.scratchDirectory ?? join(tmpdir(), 'archive-scratch')).clear(),
    leaseSeconds: ARCHIVE_LEASE_SECONDS,
    aircall: new AircallClientCalls({
      credentialsFor:
        wiring.credentials === undefined
          ? credentialsReader(config.aircallSecretId, readSecret)
          : async (account) => wiring.credentials?.find((credentials) => credentials.account === account),
      baseUrl: config.aircallApiUrl,
    }),
    deadLetters: new SqsDeadLetterQueue(wiring.clients.deadLetters, config.deadLetterQueueUrl),
    maxBytes: config.maxBytes,
    now,
  };
};

export const handler: ArchiveHandler = builtOnFirstCall(() =>
  createArchiveHandler({
    ...archiveDependencies(loadArchiveConfig(), {
      clients: {
        dynamo: createArchiveDynamoClient(),
        s3: createArchiveS3Client(),
        deadLetters: createArchiveDeadLetterClient(),
      },
    }),
    logger: createLogger('archive'),
    metrics: new Metrics(ARCHIVE_METRICS.options),
  }),
);
