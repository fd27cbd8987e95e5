// The archive on the local stack: the real archive handler, wired to the embedded S3, DynamoDB and SQS, fed from the
// media queue like the Lambda event source, allowed to fetch from Aircall's hosts and from the simulator's own origin.

import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseAllowedOrigins } from '../lambdas/archive/allowed-origins.js';
import { ARCHIVE_ENV, loadArchiveConfig } from '../lambdas/archive/config.js';
import {
  archiveDependencies,
  createArchiveDeadLetterClient,
  createArchiveDynamoClient,
  createArchiveHandler,
  createArchiveS3Client,
} from '../lambdas/archive/handler.js';
import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import type { ClientTarget } from '../lambdas/shared/aws.js';
import { ARCHIVE } from '../lib/definitions/archive.js';
import { ARCHIVE_METRICS } from '../lib/definitions/metrics.js';
import { ENV } from '../lib/definitions/pipeline.js';
import { tableEnvName } from '../lib/definitions/tables.js';
import { startEventSource } from './event-source.js';
import { DiscardedMetrics } from './metrics.js';
import type { ProvisionedQueues } from './provision.js';
import type { LocalSettings } from './settings.js';

export interface LocalArchiveOptions {
  readonly settings: LocalSettings;
  readonly sqs: SQSClient;
  readonly targets: { readonly dynamo: ClientTarget; readonly sqs: ClientTarget };
  readonly queues: ProvisionedQueues;
  /** The media queue's visibility timeout, for which a batch in hand is kept invisible. */
  readonly visibilityTimeoutSeconds: number;
  /** Origins allowed besides `MEDIA_ALLOWED_ORIGINS` (or Aircall's hosts): the simulator's, when one runs. */
  readonly extraOrigins: readonly string[];
  /** Accounts whose expired links can be refreshed, and the API that refreshes them. */
  readonly credentials: readonly AircallCredentials[];
  readonly apiUrl: string | undefined;
  readonly logger: Logger;
  readonly onBatch?: (handled: number, failed: number) => void;
  readonly onError?: (error: unknown) => void;
}

export interface LocalArchive {
  stop(): Promise<void>;
}

/** The archive's environment as the deployed stack sets it, read through the archive's own config parser. */
const archiveEnvironment = (options: LocalArchiveOptions): Record<string, string> => ({
  [ARCHIVE_ENV.mediaBucket]: options.settings.media.bucket,
  [tableEnvName('calls')]: options.settings.tables.calls,
  [ARCHIVE_ENV.mediaDeadLetterQueueUrl]: options.queues.deadLetterQueueUrl,
  ...(options.settings.mediaAllowedOrigins === undefined
    ? {}
    : { [ARCHIVE_ENV.allowedOrigins]: options.settings.mediaAllowedOrigins }),
  ...(options.apiUrl === undefined ? {} : { [ENV.aircallApiUrl]: options.apiUrl }),
});

export const startLocalArchive = (options: LocalArchiveOptions): LocalArchive => {
  const config = loadArchiveConfig(archiveEnvironment(options));
  // The simulator's origin is an exact entry: the one loopback origin the archive may reach, and only while it runs.
  const allowList =
    options.extraOrigins.length === 0
      ? config.allowList
      : [...config.allowList, ...parseAllowedOrigins(options.extraOrigins.join(','))];
  const clients = {
    dynamo: createArchiveDynamoClient(options.targets.dynamo),
    s3: createArchiveS3Client(options.targets.sqs, { forcePathStyle: true }),
    deadLetters: createArchiveDeadLetterClient(options.targets.sqs),
  };
  const handler = createArchiveHandler({
    ...archiveDependencies(
      { ...config, allowList },
      {
        clients,
        credentials: options.credentials,
        // Inside DATA_DIR, private like the rest of it, and emptied at each start.
        scratchDirectory: join(options.settings.dataDir, 'archive-scratch'),
      },
    ),
    logger: options.logger,
    metrics: new DiscardedMetrics(ARCHIVE_METRICS.options),
  });
  const source = startEventSource({
    client: options.sqs,
    queueUrl: options.queues.queueUrl,
    queueArn: options.queues.queueArn,
    handler,
    functionName: 'archive',
    batchSize: ARCHIVE.batchSize,
    maxBatchingWindowMs: 0,
    maxConcurrency: ARCHIVE.maxConcurrency,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    stop: async () => {
      await source.stop();
      for (const client of Object.values(clients)) client.destroy();
    },
  };
};
