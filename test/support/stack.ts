// Starts the emulators, provisions uniquely named tables and queues, and builds the real handlers against them.

import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadIngestConfig } from '../../lambdas/ingest/config.js';
import {
  createIngestClients,
  createIngestHandler,
  type IngestHandler,
  ingestDependencies,
} from '../../lambdas/ingest/handler.js';
import { loadPersistConfig } from '../../lambdas/persist/config.js';
import {
  createDeadLetterClient,
  createPersistClient,
  createPersistHandler,
  type PersistHandler,
  persistDependencies,
} from '../../lambdas/persist/handler.js';
import type { ClientTarget } from '../../lambdas/shared/aws.js';
import { PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import { ENV } from '../../lib/definitions/pipeline.js';
import { TABLE_NAMES, type TableName, tableEnvName } from '../../lib/definitions/tables.js';
import { localClientTarget, localSqsClientConfig } from '../../local/clients.js';
import { startDynamo, startSqs } from '../../local/emulators.js';
import { createQueues, createTables, type ProvisionedQueues } from '../../local/provision.js';

export type { IngestHandler, PersistHandler };

export interface IngestOptions {
  /** Variables that replace the stack's, e.g. another queue URL. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Where the queue client sends, e.g. a server that never answers. */
  readonly queue?: ClientTarget;
  /** @default 'DEBUG', so that every line the handler can write is written and checked. */
  readonly logLevel?: LogLevel;
}

export interface PersistOptions {
  /** The client persist writes through, e.g. one aimed at a dead endpoint. */
  readonly dynamo?: DynamoDBClient;
  /** Where the dead-letter client sends, e.g. a port nothing listens on. */
  readonly deadLetters?: ClientTarget;
  /** @default a Metrics of PERSIST_METRICS, printing EMF to stdout as on Lambda, for the test to capture */
  readonly metrics?: Metrics;
  /** @default 'DEBUG' */
  readonly logLevel?: LogLevel;
}

export interface TestStack {
  /** Physical names, unique to this stack. */
  readonly tables: Readonly<Record<TableName, string>>;
  readonly queues: ProvisionedQueues;
  readonly endpoints: { readonly dynamo: string; readonly sqs: string };
  /** Where clients of this stack's emulators send their requests. */
  readonly targets: { readonly dynamo: ClientTarget; readonly sqs: ClientTarget };
  /** Clients for the test itself. */
  readonly dynamo: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The handlers' variables as the deployed stack would set them, read through the handlers' config parsers. */
  readonly environment: Readonly<Record<string, string>>;
  /** A new ingest handler on this stack, with clients of its own. */
  ingest(options?: IngestOptions): IngestHandler;
  /** A new persist handler on this stack, with clients of its own. */
  persist(options?: PersistOptions): PersistHandler;
  /** Stops the emulators and every client the handlers were given. */
  stop(): Promise<void>;
}

export const testLogger = (serviceName: string, logLevel: LogLevel = 'DEBUG'): Logger =>
  new Logger({ serviceName, logLevel });

export const startStack = async (): Promise<TestStack> => {
  const [dynamoEmulator, sqsEmulator] = await Promise.all([startDynamo({ port: 0 }), startSqs({ port: 0 })]);
  const targets = {
    dynamo: localClientTarget(dynamoEmulator.endpoint),
    sqs: localClientTarget(sqsEmulator.endpoint),
  };
  const dynamo = new DynamoDBClient(targets.dynamo);
  const documents = DynamoDBDocumentClient.from(dynamo);
  const sqs = new SQSClient(localSqsClientConfig(sqsEmulator.endpoint));

  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, `${prefix}-${name}`])) as Record<
    TableName,
    string
  >;
  const [, queues] = await Promise.all([
    createTables(dynamo, tables),
    createQueues(sqs, { queue: `${prefix}-events`, deadLetterQueue: `${prefix}-events-dlq` }),
  ]);
  const environment: Record<string, string> = {
    [ENV.eventsQueueUrl]: queues.queueUrl,
    [ENV.deadLetterQueueUrl]: queues.deadLetterQueueUrl,
    ...Object.fromEntries(TABLE_NAMES.map((name) => [tableEnvName(name), tables[name]])),
  };

  const clients: { destroy(): void }[] = [dynamo, sqs];
  return {
    tables,
    queues,
    endpoints: { dynamo: dynamoEmulator.endpoint, sqs: sqsEmulator.endpoint },
    targets,
    dynamo,
    documents,
    sqs,
    environment,
    ingest: (options = {}) => {
      const built = createIngestClients({ registry: targets.dynamo, queue: options.queue ?? targets.sqs });
      clients.push(built.registry, built.queue);
      return createIngestHandler({
        ...ingestDependencies(loadIngestConfig({ ...environment, ...options.environment }), built),
        logger: testLogger('ingest', options.logLevel),
      });
    },
    persist: (options = {}) => {
      const built = {
        dynamo: options.dynamo ?? createPersistClient(targets.dynamo),
        deadLetters: createDeadLetterClient(options.deadLetters ?? targets.sqs),
      };
      clients.push(built.dynamo, built.deadLetters);
      return createPersistHandler({
        ...persistDependencies(loadPersistConfig(environment), built),
        metrics: options.metrics ?? new Metrics(PERSIST_METRICS.options),
        logger: testLogger('persist', options.logLevel),
      });
    },
    stop: async () => {
      for (const client of clients) client.destroy();
      await Promise.all([dynamoEmulator.stop(), sqsEmulator.stop()]);
    },
  };
};
