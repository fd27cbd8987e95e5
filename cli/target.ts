// Finds the stack a command works on: the local one by default, a deployed one by its CloudFormation outputs, or tables named by hand.

import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MEDIA_OUTPUTS } from '../lib/definitions/media.js';
import { TABLE_NAMES, type TableName, tableOutputName } from '../lib/definitions/tables.js';
import { splitWebhookUrls, WEBHOOK_URLS_OUTPUT } from '../lib/definitions/webhook-urls.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localSqsClientConfig } from '../local/clients.js';
import { readDevToken } from '../local/dev-token.js';
import { isRunning, type LocalStackRecord, readStackRecord, stackFilePath } from '../local/discovery.js';
import { localEndpoints, readLocalSettings } from '../local/settings.js';
import { TargetError, UsageError } from './errors.js';
import { type MediaBucket, s3MediaBucket } from './media.js';
import {
  type DeadLetterQueues,
  type EventsQueue,
  type QueuePair,
  type RedriveQueue,
  type SqsEventsQueueOptions,
  sqsDeadLetterQueues,
  sqsEventsQueue,
} from './queue.js';

export type TableNames = Readonly<Partial<Record<TableName, string>>>;

export interface Target {
  /** Where the data lives, for messages; it never holds a secret. */
  readonly label: string;
  readonly documents: DynamoDBDocumentClient;
  /** Physical names; a deployed target named only by --table may lack some. */
  readonly tables: TableNames;
  readonly webhookUrl: string | undefined;
  /** Every webhook URL of a deployed stack, from its `WebhookUrls` output; absent when the target does not say. */
  readonly webhookUrls?: readonly string[];
  /** The local development token; a deployed stack's tokens are Aircall's and never known here. */
  readonly webhookToken: string | undefined;
  /** The local DynamoDB endpoint, named in the message when nothing answers there. */
  readonly localEndpoint: string | undefined;
  /** How the local stack was looked for, told when nothing answers. */
  readonly localLookup?: string;
  /** The media archive's bucket; absent when the target names none (a stack without it, or tables by hand). */
  readonly media?: MediaBucket;
  /** The queue persist reads events from; absent when the target names none (tables by hand). */
  readonly eventsQueue?: EventsQueue;
  /** The dead-letter queues and the queues they go back to, for `redrive`; absent when the target names none. */
  readonly deadLetters?: DeadLetterQueues;
  /** Releases the clients' sockets so the process can end. */
  close(): void;
}

/** What the user asked for on the command line. */
export interface TargetOptions {
  readonly stack?: string;
  readonly region?: string;
  /** `--table calls=<name>` overrides. */
  readonly tables: TableNames;
}

export type ResolveTarget = (options: TargetOptions) => Promise<Target>;

export { tableOutputName };

/** Parses repeated `--table <logical>=<physical>` values. */
export const parseTableOverrides = (values: readonly string[]): TableNames => {
  const tables: Partial<Record<TableName, string>> = {};
  for (const value of values) {
    const [name, physical, ...rest] = value.split('=');
    const known = TABLE_NAMES.find((t) => t === name);
    if (known === undefined || physical === undefined || physical === '' || rest.length > 0) {
      throw new UsageError(`--table takes <table>=<name> with <table> one of ${TABLE_NAMES.join(', ')}`);
    }
    tables[known] = physical;
  }
  return tables;
};

const documentClient = (config: DynamoDBClientConfig): DynamoDBDocumentClient =>
  // Attributes the summaries leave out are simply absent; undefined values never reach a request.
  DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });

export interface LocalMediaOptions {
  readonly bucket: string;
  /** The embedded S3's endpoint. */
  readonly s3Endpoint: string;
  readonly deadLetterQueueUrl?: string;
}

export interface LocalEventsQueueOptions {
  /** Its URL as the stack recorded it, or its name to look the URL up by. */
  readonly queue: SqsEventsQueueOptions['queue'];
  /** The embedded SQS's endpoint. */
  readonly sqsEndpoint: string;
}

export interface LocalDeadLetterOptions {
  readonly pairs: Readonly<Partial<Record<RedriveQueue, QueuePair>>>;
  /** The embedded SQS's endpoint. */
  readonly sqsEndpoint: string;
}

export interface LocalTargetOptions {
  readonly dynamoEndpoint: string;
  readonly tables: TableNames;
  readonly webhookUrl?: string;
  readonly webhookToken?: string;
  readonly lookup?: string;
  readonly media?: LocalMediaOptions;
  readonly eventsQueue?: LocalEventsQueueOptions;
  readonly deadLetters?: LocalDeadLetterOptions;
}

/** The bucket on the embedded S3, which knows buckets by path only (`http://127.0.0.1:9324/<bucket>/<key>`). */
const localMediaBucket = (media: LocalMediaOptions): MediaBucket =>
  s3MediaBucket({
    name: media.bucket,
    deadLetterQueueUrl: media.deadLetterQueueUrl,
    client: {
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: media.s3Endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
    },
  });

/** A target on the embedded emulators at a known endpoint. */
export const localTarget = (options: LocalTargetOptions): Target => {
  const documents = documentClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: options.dynamoEndpoint,
    // A refused connection will not heal within a retry's backoff; say so at once.
    maxAttempts: 1,
  });
  const media = options.media === undefined ? undefined : localMediaBucket(options.media);
  const eventsQueue =
    options.eventsQueue === undefined
      ? undefined
      : sqsEventsQueue({
          queue: options.eventsQueue.queue,
          client: { ...localSqsClientConfig(options.eventsQueue.sqsEndpoint), maxAttempts: 1 },
          where: options.eventsQueue.sqsEndpoint,
        });
  const deadLetters =
    options.deadLetters === undefined
      ? undefined
      : sqsDeadLetterQueues({
          pairs: options.deadLetters.pairs,
          // fauxqs answers no StartMessageMoveTask.
          moveTasks: false,
          client: { ...localSqsClientConfig(options.deadLetters.sqsEndpoint), maxAttempts: 1 },
          where: options.deadLetters.sqsEndpoint,
        });
  return {
    label: `local stack at ${options.dynamoEndpoint}`,
    documents,
    tables: options.tables,
    webhookUrl: options.webhookUrl,
    webhookToken: options.webhookToken,
    localEndpoint: options.dynamoEndpoint,
    ...(options.lookup === undefined ? {} : { localLookup: options.lookup }),
    ...(media === undefined ? {} : { media }),
    ...(eventsQueue === undefined ? {} : { eventsQueue }),
    ...(deadLetters === undefined ? {} : { deadLetters }),
    close: () => {
      documents.destroy();
      media?.close();
      eventsQueue?.close();
      deadLetters?.close();
    },
  };
};

const isUrl = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The queue pairs a record names; as with the events queue, a record written by hand may lack some. */
const recordedPairs = (record: LocalStackRecord): Partial<Record<RedriveQueue, QueuePair>> => {
  const pairs: Partial<Record<RedriveQueue, QueuePair>> = {};
  const { queues, media } = record;
  if (isUrl(queues?.queueUrl) && isUrl(queues.deadLetterQueueUrl))
    pairs.events = { queue: { url: queues.queueUrl }, deadLetterQueue: { url: queues.deadLetterQueueUrl } };
  if (isUrl(media?.queueUrl) && isUrl(media.deadLetterQueueUrl))
    pairs.media = { queue: { url: media.queueUrl }, deadLetterQueue: { url: media.deadLetterQueueUrl } };
  return pairs;
};

/**
 * The local stack as `npm start` recorded it in DATA_DIR, so one started on other ports is found without
 * repeating its variables; without a record, the ports the variables (or their defaults) name.
 */
export const findLocalStack = async (
  env: Readonly<Record<string, string | undefined>>,
  tables: TableNames,
): Promise<Target> => {
  const settings = readLocalSettings(env);
  const path = stackFilePath(settings.dataDir);
  const record = await readStackRecord(settings.dataDir);
  if (record !== undefined && isRunning(record.pid)) {
    return localTarget({
      dynamoEndpoint: record.endpoints.dynamodb,
      tables: { ...record.tables, ...tables },
      webhookUrl: record.endpoints.webhookUrl,
      webhookToken: record.token,
      lookup: `read ${path}, written by the stack of pid ${record.pid} started at ${record.startedAt}`,
      // A stack older than the media archive records no bucket, and has none.
      ...(record.media === undefined || typeof record.endpoints.s3 !== 'string'
        ? {}
        : {
            media: {
              bucket: record.media.bucket,
              s3Endpoint: record.endpoints.s3,
              deadLetterQueueUrl: record.media.deadLetterQueueUrl,
            },
          }),
      // The record's type promises both, but a record is a file: one written by hand or by an older stack may lack them.
      ...(typeof record.queues?.queueUrl !== 'string' || typeof record.endpoints.sqs !== 'string'
        ? {}
        : { eventsQueue: { queue: { url: record.queues.queueUrl }, sqsEndpoint: record.endpoints.sqs } }),
      ...(typeof record.endpoints.sqs !== 'string'
        ? {}
        : { deadLetters: { pairs: recordedPairs(record), sqsEndpoint: record.endpoints.sqs } }),
    });
  }
  const endpoints = localEndpoints(settings);
  const found =
    record === undefined
      ? `found no ${path} (DATA_DIR is ${settings.dataDir})`
      : `${path} was left by pid ${record.pid}, which is not running`;
  return localTarget({
    dynamoEndpoint: endpoints.dynamodb,
    tables: { ...settings.tables, ...tables },
    webhookUrl: endpoints.webhookUrl,
    // Without a record, the token the stack would use: the variable's, or the one it keeps in DATA_DIR.
    webhookToken: settings.token ?? (await readDevToken(settings.dataDir)),
    lookup: `${found}, so tried the ports PORT and DYNAMODB_PORT name, or their defaults`,
    media: { bucket: settings.media.bucket, s3Endpoint: endpoints.s3 },
    // Without a record only the queue's name is known: fauxqs makes its URL, found by GetQueueUrl on first use.
    eventsQueue: { queue: { name: settings.queues.queue }, sqsEndpoint: endpoints.sqs },
    deadLetters: {
      pairs: {
        events: {
          queue: { name: settings.queues.queue },
          deadLetterQueue: { name: settings.queues.deadLetterQueue },
        },
        media: {
          queue: { name: settings.media.queue },
          deadLetterQueue: { name: settings.media.deadLetterQueue },
        },
      },
      sqsEndpoint: endpoints.sqs,
    },
  });
};

export interface StackOutputs {
  readonly tables: TableNames;
  readonly webhookUrl: string | undefined;
  readonly webhookUrls?: readonly string[];
  readonly mediaBucket?: string;
  readonly mediaDeadLetterQueueUrl?: string;
  readonly eventsQueueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly mediaQueueUrl?: string;
}

/** The output the stack publishes its events queue's URL under. */
export const EVENTS_QUEUE_OUTPUT = 'EventsQueueUrl';
/** The output the stack publishes the events' dead-letter queue's URL under. */
export const DEAD_LETTER_QUEUE_OUTPUT = 'DeadLetterQueueUrl';

/** The tables, URLs and media bucket a deployed stack publishes as outputs, --table overrides taking precedence. */
export const fromStackOutputs = (outputs: readonly Output[], overrides: TableNames): StackOutputs => {
  const value = (key: string): string | undefined => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const tables: Partial<Record<TableName, string>> = {};
  for (const table of TABLE_NAMES) {
    const name = overrides[table] ?? value(tableOutputName(table));
    if (name !== undefined) tables[table] = name;
  }
  const urls = value(WEBHOOK_URLS_OUTPUT);
  const mediaBucket = value(MEDIA_OUTPUTS.bucket);
  const mediaDeadLetterQueueUrl = value(MEDIA_OUTPUTS.deadLetterQueue);
  const eventsQueueUrl = value(EVENTS_QUEUE_OUTPUT);
  const deadLetterQueueUrl = value(DEAD_LETTER_QUEUE_OUTPUT);
  const mediaQueueUrl = value(MEDIA_OUTPUTS.queue);
  return {
    tables,
    webhookUrl: value('WebhookUrl'),
    ...(urls === undefined ? {} : { webhookUrls: splitWebhookUrls(urls) }),
    ...(mediaBucket === undefined ? {} : { mediaBucket }),
    ...(mediaDeadLetterQueueUrl === undefined ? {} : { mediaDeadLetterQueueUrl }),
    ...(eventsQueueUrl === undefined ? {} : { eventsQueueUrl }),
    ...(deadLetterQueueUrl === undefined ? {} : { deadLetterQueueUrl }),
    ...(mediaQueueUrl === undefined ? {} : { mediaQueueUrl }),
  };
};

/** The pairs whose both URLs a deployed stack publishes. */
const outputPairs = (outputs: StackOutputs): Partial<Record<RedriveQueue, QueuePair>> => {
  const pairs: Partial<Record<RedriveQueue, QueuePair>> = {};
  const { eventsQueueUrl, deadLetterQueueUrl, mediaQueueUrl, mediaDeadLetterQueueUrl } = outputs;
  if (eventsQueueUrl !== undefined && deadLetterQueueUrl !== undefined)
    pairs.events = { queue: { url: eventsQueueUrl }, deadLetterQueue: { url: deadLetterQueueUrl } };
  if (mediaQueueUrl !== undefined && mediaDeadLetterQueueUrl !== undefined)
    pairs.media = { queue: { url: mediaQueueUrl }, deadLetterQueue: { url: mediaDeadLetterQueueUrl } };
  return pairs;
};

const describeOutputs = async (stack: string, region: string | undefined): Promise<Output[]> => {
  const client = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const [found] = Stacks;
    if (found === undefined) throw new TargetError(`Stack ${stack} not found`);
    return found.Outputs ?? [];
  } catch (error) {
    if (error instanceof TargetError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TargetError(`Cannot describe stack ${stack}: ${reason}`, { cause: error });
  } finally {
    client.destroy();
  }
};

/**
 * Resolves the command line's target. A deployed stack is meant when --stack or --region is given;
 * credentials and, without --region, the region come from the AWS SDK's usual chain.
 */
export const resolveTarget =
  (env: Readonly<Record<string, string | undefined>>): ResolveTarget =>
  async (options) => {
    if (options.stack === undefined && options.region === undefined)
      return findLocalStack(env, options.tables);
    const outputs: StackOutputs =
      options.stack === undefined
        ? { tables: options.tables, webhookUrl: undefined }
        : fromStackOutputs(await describeOutputs(options.stack, options.region), options.tables);
    const { tables, webhookUrl, webhookUrls, mediaBucket, mediaDeadLetterQueueUrl, eventsQueueUrl } = outputs;
    const region = options.region === undefined ? {} : { region: options.region };
    const documents = documentClient(region);
    const media =
      mediaBucket === undefined
        ? undefined
        : s3MediaBucket({ name: mediaBucket, deadLetterQueueUrl: mediaDeadLetterQueueUrl, client: region });
    const eventsQueue =
      eventsQueueUrl === undefined
        ? undefined
        : sqsEventsQueue({ queue: { url: eventsQueueUrl }, client: region, where: `stack ${options.stack}` });
    const pairs = outputPairs(outputs);
    const deadLetters =
      Object.keys(pairs).length === 0
        ? undefined
        : sqsDeadLetterQueues({ pairs, moveTasks: true, client: region, where: `stack ${options.stack}` });
    return {
      label: options.stack === undefined ? `region ${options.region}` : `stack ${options.stack}`,
      documents,
      tables,
      webhookUrl,
      ...(webhookUrls === undefined ? {} : { webhookUrls }),
      webhookToken: undefined,
      localEndpoint: undefined,
      ...(media === undefined ? {} : { media }),
      ...(eventsQueue === undefined ? {} : { eventsQueue }),
      ...(deadLetters === undefined ? {} : { deadLetters }),
      close: () => {
        documents.destroy();
        media?.close();
        eventsQueue?.close();
        deadLetters?.close();
      },
    };
  };

/** The physical name of a table the command needs, or an error telling how to name it. */
export const requireTable = (target: Target, table: TableName): string => {
  const name = target.tables[table];
  if (name === undefined) {
    throw new TargetError(`No ${table} table known for ${target.label}: pass --table ${table}=<name>`);
  }
  return name;
};
