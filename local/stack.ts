// The whole pipeline on one machine: embedded DynamoDB and SQS built from the shared definitions, the real
// ingest handler behind a local HTTP API, and the real persist handler fed like the Lambda event source.

import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AircallCredentials } from '../lambdas/guardian/aircall.js';
import { DynamoWebhookRegistry } from '../lambdas/guardian/dynamo-registry.js';
import type { AccountReport } from '../lambdas/guardian/guardian.js';
import { DEFAULT_CONFIG } from '../lib/config.js';
import { ENV, EVENTS_QUEUE, PERSIST } from '../lib/definitions/pipeline.js';
import { TABLE_NAMES, tableEnvName } from '../lib/definitions/tables.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClientConfig, startDynamo, startSqs } from './emulators.js';
import { startEventSource } from './event-source.js';
import { type RunningGuardian, startLocalGuardian } from './guardian-loop.js';
import { startGateway } from './http-gateway.js';
import { createQueues, createTables, type ProvisionedQueues, registerToken } from './provision.js';
import { restoreSnapshot, saveSnapshot } from './queue-snapshot.js';
import { type LocalSettings, localEndpoints } from './settings.js';
import { type LinkedSimulator, linkSimulator } from './simulator-link.js';

export interface LocalGuardianSettings {
  readonly credentials: AircallCredentials;
  readonly apiUrl: string;
  /** The URL Aircall delivers to; the local webhook URL unless a tunnel fronts it. */
  readonly stackUrl?: string;
  readonly intervalMs: number;
}

export interface LocalStackOptions {
  readonly settings: LocalSettings;
  /**
   * Seconds a failed record stays invisible before it is retried. Defaults to the deployed queue's value;
   * a smaller one makes the retries and the dead-letter path quick to watch locally.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** How often the queues are written to disk, besides at a clean stop. */
  readonly snapshotIntervalMs?: number;
  /** Receives errors the pipeline recovered from by leaving records in the queue. */
  readonly onError?: (error: unknown) => void;
  /** Starts the Aircall simulator, subscribes the stack to it and lets it send traffic. */
  readonly simulator?: { readonly port: number; readonly eventsPerSecond: number };
  /**
   * Runs the guardian on an interval against these credentials. With the simulator and no credentials of its
   * own, the guardian watches the simulated company.
   */
  readonly guardian?: LocalGuardianSettings;
  /** The guardian's interval when it watches the simulator. */
  readonly simulatorGuardianIntervalMs?: number;
  readonly onGuardianReport?: (report: AccountReport) => void;
}

export interface Activity {
  /** Answers of the webhook endpoint, by status code. */
  readonly answers: Record<number, number>;
  readonly persisted: number;
  readonly failed: number;
}

export interface LocalStack {
  readonly webhookUrl: string;
  readonly endpoints: ReturnType<typeof localEndpoints>;
  readonly queues: ProvisionedQueues;
  /** Messages restored from the previous run's snapshot. */
  readonly restored: number;
  readonly activity: Activity;
  /** The simulator, when started with one. */
  readonly simulator?: LinkedSimulator;
  /** The local guardian, when it has credentials. */
  readonly guardian?: RunningGuardian;
  /** Messages each queue holds right now, in flight included. */
  depth(): { queue: number; deadLetterQueue: number };
  /** Stops taking requests, finishes the batches in hand, saves the queues and stops the emulators. */
  stop(): Promise<void>;
}

// The handlers build their clients from the environment when first imported, once per process.
let handlerEndpoints: string | undefined;

const setHandlerEnvironment = (
  settings: LocalSettings,
  queueUrl: string,
  endpoints: { dynamodb: string; sqs: string },
) => {
  const key = `${endpoints.dynamodb} ${endpoints.sqs} ${queueUrl}`;
  if (handlerEndpoints !== undefined && handlerEndpoints !== key) {
    throw new Error('One local stack per process: the handlers are already bound to other endpoints');
  }
  handlerEndpoints = key;
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    [ENV.eventsQueueUrl]: queueUrl,
    [ENV.eventRetentionDays]:
      process.env[ENV.eventRetentionDays] ?? String(DEFAULT_CONFIG.eventRetentionDays),
    ...Object.fromEntries(TABLE_NAMES.map((name) => [tableEnvName(name), settings.tables[name]])),
  });
};

export const startLocalStack = async (options: LocalStackOptions): Promise<LocalStack> => {
  const { settings } = options;
  const dynamoEmulator = await startDynamo({
    port: settings.dynamoPort,
    path: join(settings.dataDir, 'dynamodb'),
  });
  const sqsEmulator = await startSqs({ port: settings.sqsPort }).catch(async (error: unknown) => {
    await dynamoEmulator.stop();
    throw error;
  });
  const endpoints = {
    ...localEndpoints(settings),
    dynamodb: dynamoEmulator.endpoint,
    sqs: sqsEmulator.endpoint,
  };

  const dynamo = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: endpoints.dynamodb,
  });
  const sqs = new SQSClient(localSqsClientConfig(endpoints.sqs));
  const snapshotPath = join(settings.dataDir, 'queues.json');

  await createTables(dynamo, settings.tables);
  const queueSettings = {
    ...EVENTS_QUEUE,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? EVENTS_QUEUE.visibilityTimeoutSeconds,
  };
  const queues = await createQueues(sqs, settings.queues, queueSettings);
  const restored = await restoreSnapshot(snapshotPath, sqs, {
    [settings.queues.queue]: queues.queueUrl,
    [settings.queues.deadLetterQueue]: queues.deadLetterQueueUrl,
  });
  await registerToken(dynamo, settings.tables.webhooks, settings.token, settings.account);

  setHandlerEnvironment(settings, queues.queueUrl, endpoints);
  const ingest = await import('../lambdas/ingest/handler.js');
  const persist = await import('../lambdas/persist/handler.js');

  const answers: Record<number, number> = {};
  const activity = { answers, persisted: 0, failed: 0 };
  const gateway = await startGateway({
    port: settings.port,
    routePath: settings.webhookPath,
    handler: ingest.handler,
    onResponse: (status) => {
      answers[status] = (answers[status] ?? 0) + 1;
    },
  });
  const source = startEventSource({
    client: sqs,
    queueUrl: queues.queueUrl,
    queueArn: queues.queueArn,
    handler: persist.handler,
    functionName: 'persist',
    batchSize: PERSIST.batchSize,
    maxBatchingWindowMs: PERSIST.maxBatchingWindowSeconds * 1000,
    maxConcurrency: PERSIST.maxConcurrency,
    onBatch: (handled, failed) => {
      activity.persisted += handled - failed;
      activity.failed += failed;
    },
    ...(options.onError ? { onError: options.onError } : {}),
  });

  const registry = new DynamoWebhookRegistry(DynamoDBDocumentClient.from(dynamo), settings.tables.webhooks);
  const webhookUrl = `http://127.0.0.1:${gateway.port}${settings.webhookPath}`;
  const simulator =
    options.simulator === undefined
      ? undefined
      : await linkSimulator({ ...options.simulator, webhookUrl, registry });
  const guardianSettings: LocalGuardianSettings | undefined =
    options.guardian ??
    (simulator === undefined
      ? undefined
      : {
          credentials: simulator.credentials,
          apiUrl: simulator.simulator.apiUrl,
          intervalMs: options.simulatorGuardianIntervalMs ?? 30_000,
        });
  const guardian =
    guardianSettings === undefined
      ? undefined
      : startLocalGuardian({
          ...guardianSettings,
          stackUrl: guardianSettings.stackUrl ?? webhookUrl,
          registry,
          ...(options.onGuardianReport ? { onReport: options.onGuardianReport } : {}),
          ...(options.onError ? { onError: options.onError } : {}),
        });

  const held = () => ({
    [settings.queues.queue]: sqsEmulator.held(settings.queues.queue) ?? [],
    [settings.queues.deadLetterQueue]: sqsEmulator.held(settings.queues.deadLetterQueue) ?? [],
  });
  // Saves run one after another and read the queues when they start, so the last save is always the newest.
  let saving: Promise<void> = Promise.resolve();
  const snapshot = (): Promise<void> => {
    // A failed save is reported to its caller and does not block the next one.
    saving = saving.catch(() => undefined).then(() => saveSnapshot(snapshotPath, held()));
    return saving;
  };
  await snapshot();
  const timer = setInterval(() => {
    snapshot().catch((error: unknown) => options.onError?.(error));
  }, options.snapshotIntervalMs ?? 1000);

  return {
    webhookUrl,
    endpoints: { ...endpoints, webhookUrl },
    ...(simulator === undefined ? {} : { simulator }),
    ...(guardian === undefined ? {} : { guardian }),
    queues,
    restored,
    activity,
    depth: () => {
      const contents = held();
      return {
        queue: contents[settings.queues.queue]?.length ?? 0,
        deadLetterQueue: contents[settings.queues.deadLetterQueue]?.length ?? 0,
      };
    },
    stop: async () => {
      clearInterval(timer);
      await guardian?.stop();
      await simulator?.stop();
      // Order matters: no new request is answered 200 once the source stops, and the snapshot is taken
      // only after the last batch in hand has been acknowledged, so every accepted event is either stored
      // or saved for the next start.
      await gateway.stop();
      await source.stop();
      await snapshot();
      dynamo.destroy();
      sqs.destroy();
      await sqsEmulator.stop();
      await dynamoEmulator.stop();
    },
  };
};
