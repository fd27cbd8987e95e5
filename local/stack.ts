// The whole pipeline on one machine: embedded DynamoDB, SQS and S3 built from the shared definitions, the real
// ingest handler behind a local HTTP API, and the real persist handler fed like the Lambda event source.
// Every handler is built by its factory with clients of this stack's emulators, so two stacks can share a process.

import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWebhookRegistry } from '../lambdas/guardian/dynamo-registry.js';
import type { AccountReport } from '../lambdas/guardian/guardian.js';
import { loadIngestConfig } from '../lambdas/ingest/config.js';
import { createIngestClients, createIngestHandler, ingestDependencies } from '../lambdas/ingest/handler.js';
import { loadPersistConfig } from '../lambdas/persist/config.js';
import {
  createDeadLetterClient,
  createPersistClient,
  createPersistHandler,
  persistDependencies,
} from '../lambdas/persist/handler.js';
import { DynamoStoredState, SqsEventSink } from '../lambdas/reconcile/adapters.js';
import type { GapRepair } from '../lambdas/reconcile/gap.js';
import { DynamoAccountStore } from '../lambdas/shared/accounts.js';
import type { AircallCredentials } from '../lambdas/shared/aircall/aircall.js';
import { MEDIA_QUEUE } from '../lib/definitions/archive.js';
import { PERSIST_METRICS } from '../lib/definitions/metrics.js';
import { ENV, EVENTS_QUEUE, PERSIST } from '../lib/definitions/pipeline.js';
import { TABLE_NAMES, tableEnvName } from '../lib/definitions/tables.js';
import { startLocalArchive } from './archive.js';
import { localClientTarget, localSqsClientConfig } from './clients.js';
import { prepareDataDir } from './data-dir.js';
import { devToken } from './dev-token.js';
import { isRunning, readStackRecord, removeStackRecord, writeStackRecord } from './discovery.js';
import { startDynamo, startSqs } from './emulators.js';
import { startEventSource } from './event-source.js';
import { type RunningGuardian, startLocalGuardian } from './guardian-loop.js';
import { startGateway } from './http-gateway.js';
import { DiscardedMetrics } from './metrics.js';
import {
  createBucket,
  createQueues,
  createTables,
  type ProvisionedQueues,
  registerToken,
  removeOtherLocalTokens,
} from './provision.js';
import {
  type LocalEndpoints,
  type LocalGuardianSettings,
  type LocalSettings,
  localEndpoints,
} from './settings.js';
import { type LinkedSimulator, type LinkedSimulatorBehaviour, linkSimulator } from './simulator-link.js';

export interface LocalStackOptions {
  readonly settings: LocalSettings;
  /**
   * Seconds a failed record stays invisible before it is retried. Defaults to the deployed queue's value;
   * a smaller one makes the retries and the dead-letter path quick to watch locally.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Level of the handlers' logs. @default 'INFO' */
  readonly logLevel?: LogLevel;
  /** Receives errors the pipeline recovered from by leaving records in the queue. */
  readonly onError?: (error: unknown) => void;
  /** Starts the Aircall simulator, subscribes the stack to it and lets it send traffic. */
  readonly simulator?: {
    readonly port: number;
    readonly eventsPerSecond: number;
    readonly behaviour?: LinkedSimulatorBehaviour;
  };
  /**
   * Runs the guardian on an interval against these credentials. With the simulator and no credentials of its
   * own, the guardian watches the simulated company.
   */
  readonly guardian?: LocalGuardianSettings;
  /** The guardian's interval when it watches the simulator. */
  readonly simulatorGuardianIntervalMs?: number;
  readonly onGuardianReport?: (report: AccountReport) => void;
  /**
   * Whether recordings and voicemails are archived, as the `archiveMedia` configuration key says for a deployed
   * stack. Off, persist sends no media job and no archive runs. @default true
   */
  readonly archiveMedia?: boolean;
  /**
   * Where the handlers' clients (ingest, persist, archive) reach DynamoDB and SQS/S3, given the
   * emulators' own endpoints: a proxy in front of them, such as one that injects faults. The stack's own
   * provisioning and its event sources keep to the emulators. @default the emulators' endpoints
   */
  readonly handlerEndpoints?: (emulators: {
    readonly dynamodb: string;
    readonly sqs: string;
  }) => Promise<{ readonly dynamodb?: string; readonly sqs?: string }>;
  /** Each gap repair after a guardian pass that found or read a gap. */
  readonly onGapRepair?: (repair: GapRepair) => void;
}

export interface Activity {
  /** Answers of the webhook endpoint, by status code. */
  readonly answers: Record<number, number>;
  readonly persisted: number;
  readonly failed: number;
  /** Media jobs the archive completed (archived, or found done), and those it handed back for a retry. */
  readonly archived: number;
  readonly archiveFailed: number;
}

export interface LocalStack {
  readonly webhookUrl: string;
  /** The development token: `LOCAL_WEBHOOK_TOKEN`, or the random one kept in DATA_DIR. */
  readonly token: string;
  /** Rows of other development tokens, from earlier starts, removed from the registry at this start. */
  readonly revokedTokens: number;
  readonly endpoints: LocalEndpoints;
  readonly queues: ProvisionedQueues;
  /** The media bucket on the embedded S3, and the media job queue and its dead-letter queue. */
  readonly media: { readonly bucket: string; readonly queues: ProvisionedQueues };
  /** What the queues held at start, kept on disk by the embedded SQS since the last run. */
  readonly queuedAtStart: { readonly queue: number; readonly deadLetterQueue: number };
  /** Of those, the messages the last run had received and not yet acknowledged, made visible again at start. */
  readonly released: number;
  readonly activity: Activity;
  /** The simulator, when started with one. */
  readonly simulator?: LinkedSimulator;
  /** The local guardian, when it has credentials. */
  readonly guardian?: RunningGuardian;
  /** Messages each queue holds right now, in flight included. */
  depth(): { queue: number; deadLetterQueue: number };
  /** Media jobs the media queue and its dead-letter queue hold right now, in flight included. */
  mediaDepth(): { queue: number; deadLetterQueue: number };
  /** Stops taking requests, finishes the batches in hand and stops the emulators. */
  stop(): Promise<void>;
}

/** The handlers' environment as the deployed stack sets it, read through the handlers' own config parsers. */
const handlerEnvironment = (
  settings: LocalSettings,
  queues: ProvisionedQueues,
  mediaQueues: ProvisionedQueues | undefined,
): Record<string, string> => ({
  [ENV.eventsQueueUrl]: queues.queueUrl,
  [ENV.deadLetterQueueUrl]: queues.deadLetterQueueUrl,
  ...(mediaQueues === undefined ? {} : { [ENV.mediaQueueUrl]: mediaQueues.queueUrl }),
  [ENV.eventRetentionDays]: String(settings.eventRetentionDays),
  ...Object.fromEntries(TABLE_NAMES.map((name) => [tableEnvName(name), settings.tables[name]])),
});

const portOf = (url: string): number => Number(new URL(url).port);

/** SDK clients hold sockets until destroyed. */
const destroy = (client: { destroy(): void }): void => client.destroy();

/** Runs `fn` the first time only; later calls get the first call's promise. */
const once = (fn: () => Promise<void>): (() => Promise<void>) => {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn();
    return running;
  };
};

const releaseInFlight = async (
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<number> => {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const entries = receiptHandles
      .slice(i, i + 10)
      .map((handle, j) => ({ Id: String(j), ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const { Failed = [] } = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0)
      throw new Error(`could not release ${Failed.length} messages: ${Failed[0]?.Message}`);
  }
  return receiptHandles.length;
};

export const startLocalStack = async (options: LocalStackOptions): Promise<LocalStack> => {
  const { settings } = options;
  await prepareDataDir(settings.dataDir);
  // Two stacks on one DATA_DIR would share its database files; the second one is refused before it opens them.
  const running = await readStackRecord(settings.dataDir);
  if (running !== undefined && running.pid !== process.pid && isRunning(running.pid)) {
    throw new Error(
      `DATA_DIR ${settings.dataDir} is in use by the local stack of pid ${running.pid} (${running.endpoints.webhookUrl}): stop it, or start with another DATA_DIR`,
    );
  }
  const resources = new AsyncDisposableStack();
  try {
    const dynamoEmulator = await startDynamo({
      port: settings.dynamoPort,
      host: settings.host,
      path: join(settings.dataDir, 'dynamodb'),
    });
    resources.defer(() => dynamoEmulator.stop());
    const sqsEmulator = await startSqs({
      port: settings.sqsPort,
      host: settings.host,
      path: join(settings.dataDir, 'sqs'),
    });
    resources.defer(() => sqsEmulator.stop());

    const routed =
      (await options.handlerEndpoints?.({
        dynamodb: dynamoEmulator.endpoint,
        sqs: sqsEmulator.endpoint,
      })) ?? {};
    const dynamoTarget = localClientTarget(routed.dynamodb ?? dynamoEmulator.endpoint);
    const sqsTarget = localClientTarget(routed.sqs ?? sqsEmulator.endpoint);
    const dynamo = resources.adopt(new DynamoDBClient(localClientTarget(dynamoEmulator.endpoint)), destroy);
    const sqs = resources.adopt(new SQSClient(localSqsClientConfig(sqsEmulator.endpoint)), destroy);

    await createTables(dynamo, settings.tables);
    const queueSettings = {
      ...EVENTS_QUEUE,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? EVENTS_QUEUE.visibilityTimeoutSeconds,
    };
    const queues = await createQueues(sqs, settings.queues, queueSettings);
    const mediaQueueSettings = {
      ...MEDIA_QUEUE,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? MEDIA_QUEUE.visibilityTimeoutSeconds,
    };
    const mediaQueues = await createQueues(sqs, settings.media, mediaQueueSettings);
    const s3 = resources.adopt(
      new S3Client({ ...localClientTarget(sqsEmulator.endpoint), forcePathStyle: true }),
      destroy,
    );
    await createBucket(s3, settings.media.bucket);
    const depthOf = (names: { readonly queue: string; readonly deadLetterQueue: string }) => () => ({
      queue: sqsEmulator.depth(names.queue) ?? 0,
      deadLetterQueue: sqsEmulator.depth(names.deadLetterQueue) ?? 0,
    });
    const depth = depthOf(settings.queues);
    const mediaDepth = depthOf(settings.media);
    const queuedAtStart = depth();
    // The previous run's consumers are gone with its process: what they had in hand is released now, rather than
    // after the visibility timeout, as if each of their invocations had failed.
    const released =
      (await releaseInFlight(sqs, queues.queueUrl, sqsEmulator.inFlight(settings.queues.queue))) +
      (await releaseInFlight(sqs, mediaQueues.queueUrl, sqsEmulator.inFlight(settings.media.queue)));
    const token = settings.token ?? (await devToken(settings.dataDir));
    const tokenHash = await registerToken(dynamo, settings.tables.webhooks, token, settings.account);
    const revokedTokens = await removeOtherLocalTokens(dynamo, settings.tables.webhooks, tokenHash);

    const archiveMedia = options.archiveMedia ?? true;
    const environment = handlerEnvironment(settings, queues, archiveMedia ? mediaQueues : undefined);
    const logger = (serviceName: string) =>
      new Logger({ serviceName, ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }) });
    const ingestClients = createIngestClients({ registry: dynamoTarget, queue: sqsTarget });
    resources.adopt(ingestClients.registry, destroy);
    resources.adopt(ingestClients.queue, destroy);
    const ingest = createIngestHandler({
      ...ingestDependencies(loadIngestConfig(environment), ingestClients),
      logger: logger('ingest'),
    });
    const persistClients = {
      dynamo: resources.adopt(createPersistClient(dynamoTarget), destroy),
      deadLetters: resources.adopt(createDeadLetterClient(sqsTarget), destroy),
    };
    const persist = createPersistHandler({
      ...persistDependencies(loadPersistConfig(environment), persistClients),
      metrics: new DiscardedMetrics(PERSIST_METRICS.options),
      logger: logger('persist'),
    });

    const answers: Record<number, number> = {};
    const activity = { answers, persisted: 0, failed: 0, archived: 0, archiveFailed: 0 };
    const source = startEventSource({
      client: sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      handler: persist,
      functionName: 'persist',
      batchSize: PERSIST.batchSize,
      maxBatchingWindowMs: PERSIST.maxBatchingWindowSeconds * 1000,
      maxConcurrency: PERSIST.maxConcurrency,
      visibilityTimeoutSeconds: queueSettings.visibilityTimeoutSeconds,
      onBatch: (handled, failed) => {
        activity.persisted += handled - failed;
        activity.failed += failed;
      },
      ...(options.onError ? { onError: options.onError } : {}),
    });
    resources.defer(() => source.stop());
    const gateway = await startGateway({
      port: settings.port,
      host: settings.host,
      extraHosts: settings.webhookHosts,
      routePath: settings.webhookPath,
      handler: ingest,
      onResponse: (status) => {
        answers[status] = (answers[status] ?? 0) + 1;
      },
    });
    const stopGateway = once(() => gateway.stop());
    resources.defer(stopGateway);

    const documents = DynamoDBDocumentClient.from(dynamo, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const registry = new DynamoWebhookRegistry(documents, settings.tables.webhooks);
    const endpoints: LocalEndpoints = {
      ...localEndpoints(settings),
      webhookUrl: `${gateway.url}${settings.webhookPath}`,
      dynamodb: dynamoEmulator.endpoint,
      sqs: sqsEmulator.endpoint,
      s3: sqsEmulator.endpoint,
    };
    const simulator =
      options.simulator === undefined
        ? undefined
        : await linkSimulator({
            ...options.simulator,
            host: settings.host,
            webhookUrl: endpoints.webhookUrl,
            registry,
          });
    if (simulator !== undefined) resources.defer(() => simulator.stop());
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
            // Both, so that a webhook at one is never counted absent by a pass that knows only the other.
            stackUrls: [
              ...new Set([guardianSettings.stackUrl ?? endpoints.webhookUrl, endpoints.webhookUrl]),
            ],
            registry,
            gapRepair: {
              accounts: new DynamoAccountStore(documents, settings.tables.accounts),
              stored: new DynamoStoredState(documents, settings.tables),
              sink: new SqsEventSink(sqs, queues.queueUrl),
              ...(options.onGapRepair ? { onRepair: options.onGapRepair } : {}),
            },
            ...(options.onGuardianReport ? { onReport: options.onGuardianReport } : {}),
            ...(options.onError ? { onError: options.onError } : {}),
          });
    if (guardian !== undefined) resources.defer(() => guardian.stop());

    // Every account the stack holds credentials for can have its expired links refreshed, the simulated one too.
    const credentials: AircallCredentials[] = [
      ...(guardianSettings === undefined ? [] : [guardianSettings.credentials]),
      ...(simulator === undefined || guardianSettings?.credentials.account === simulator.credentials.account
        ? []
        : [simulator.credentials]),
    ];
    const archive = archiveMedia
      ? startLocalArchive({
          settings,
          sqs,
          targets: { dynamo: dynamoTarget, sqs: sqsTarget },
          queues: mediaQueues,
          visibilityTimeoutSeconds: mediaQueueSettings.visibilityTimeoutSeconds,
          extraOrigins: simulator === undefined ? [] : [simulator.simulator.url],
          credentials,
          apiUrl: guardianSettings?.apiUrl,
          logger: logger('archive'),
          onBatch: (handled, failed) => {
            activity.archived += handled - failed;
            activity.archiveFailed += failed;
          },
          ...(options.onError ? { onError: options.onError } : {}),
        })
      : undefined;
    if (archive !== undefined) resources.defer(() => archive.stop());

    await writeStackRecord(settings.dataDir, {
      pid: process.pid,
      runtime: process.version,
      startedAt: new Date().toISOString(),
      host: settings.host,
      endpoints,
      ports: {
        webhook: gateway.port,
        dynamodb: portOf(dynamoEmulator.endpoint),
        sqs: portOf(sqsEmulator.endpoint),
        ...(simulator === undefined ? {} : { simulator: portOf(simulator.simulator.apiUrl) }),
      },
      account: settings.account,
      token,
      tables: settings.tables,
      queues: { queueUrl: queues.queueUrl, deadLetterQueueUrl: queues.deadLetterQueueUrl },
      media: {
        bucket: settings.media.bucket,
        queueUrl: mediaQueues.queueUrl,
        deadLetterQueueUrl: mediaQueues.deadLetterQueueUrl,
      },
      queuedAtStart,
      released,
      ...(simulator === undefined ? {} : { simulatorApiUrl: simulator.simulator.apiUrl }),
    });

    // Undone first: the record goes only once the gateway answers no more, so the CLI never misses a live stack.
    resources.defer(async () => {
      await stopGateway();
      await removeStackRecord(settings.dataDir);
    });
    // From here the stack owns everything started above; a failure before this point undoes it all.
    const owned = resources.move();

    return {
      webhookUrl: endpoints.webhookUrl,
      token,
      revokedTokens,
      endpoints,
      ...(simulator === undefined ? {} : { simulator }),
      ...(guardian === undefined ? {} : { guardian }),
      queues,
      media: { bucket: settings.media.bucket, queues: mediaQueues },
      queuedAtStart,
      released,
      activity,
      depth,
      mediaDepth,
      // Everything in the reverse order it started, each step run even when one before it fails.
      stop: () => owned.disposeAsync(),
    };
  } catch (error) {
    await resources.disposeAsync();
    throw error;
  }
};
