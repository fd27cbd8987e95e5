// Starts the emulators, provisions uniquely named tables and queues, and points the handlers' environment at them.

import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../lib/definitions/pipeline.js';
import { TABLE_NAMES, type TableName, tableEnvName } from '../../lib/definitions/tables.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localSqsClientConfig,
  startDynamo,
  startSqs,
} from '../../local/emulators.js';
import { createQueues, createTables, type ProvisionedQueues } from '../../local/provision.js';

export interface TestStack {
  /** Physical names, unique to this stack. */
  readonly tables: Readonly<Record<TableName, string>>;
  readonly queues: ProvisionedQueues;
  readonly endpoints: { readonly dynamo: string; readonly sqs: string };
  /** Clients for the test itself, built with explicit endpoints rather than from the environment. */
  readonly dynamo: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The environment a handler imported now would read. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the emulators and restores the environment as it was. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Further variables for the handlers, e.g. a log level. */
  readonly env?: Readonly<Record<string, string>>;
}

const setEnv = (values: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> => {
  const previous: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) {
    previous[name] = process.env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return previous;
};

/**
 * Runs `fn` with some variables changed, for a second handler instance with other settings. The SDK reads
 * endpoints, credentials and retry settings at a client's first request, not when it is built, so the change
 * must last until the instance has sent something: import and invoke it inside `fn`.
 */
export const withEnv = async <T>(
  values: Readonly<Record<string, string | undefined>>,
  fn: () => Promise<T>,
): Promise<T> => {
  const previous = setEnv(values);
  try {
    return await fn();
  } finally {
    setEnv(previous);
  }
};

export const startStack = async (options: StackOptions = {}): Promise<TestStack> => {
  const [dynamoEmulator, sqsEmulator] = await Promise.all([startDynamo({ port: 0 }), startSqs({ port: 0 })]);
  const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: dynamoEmulator.endpoint });
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

  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEmulator.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsEmulator.endpoint,
    [ENV.eventsQueueUrl]: queues.queueUrl,
    ...Object.fromEntries(TABLE_NAMES.map((name) => [tableEnvName(name), tables[name]])),
    ...options.env,
  };
  // A session token or profile from the developer's shell would be sent along with the dummy keys.
  const previous = setEnv({ ...env, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined });

  return {
    tables,
    queues,
    endpoints: { dynamo: dynamoEmulator.endpoint, sqs: sqsEmulator.endpoint },
    dynamo,
    documents,
    sqs,
    env,
    stop: async () => {
      setEnv(previous);
      dynamo.destroy();
      sqs.destroy();
      await Promise.all([dynamoEmulator.stop(), sqsEmulator.stop()]);
    },
  };
};
