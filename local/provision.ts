// Creates the local tables and queues from the shared definitions: the one code path the local stack and the tests use.

import {
  type AttributeDefinition,
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  PutItemCommand,
  ResourceInUseException,
  ScanCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { hashToken } from '../lambdas/shared/token.js';
import { EVENTS_QUEUE, type QueueSettings } from '../lib/definitions/pipeline.js';
import {
  type IndexDefinition,
  type KeyAttribute,
  TABLE_NAMES,
  TABLES,
  type TableDefinition,
  type TableName,
} from '../lib/definitions/tables.js';

const keySchema = (partitionKey: KeyAttribute, sortKey: KeyAttribute | undefined): KeySchemaElement[] => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
];

const toGlobalSecondaryIndex = (index: IndexDefinition): GlobalSecondaryIndex => ({
  IndexName: index.indexName,
  KeySchema: keySchema(index.partitionKey, index.sortKey),
  Projection:
    index.projection.type === 'INCLUDE'
      ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.nonKeyAttributes] }
      : { ProjectionType: index.projection.type },
});

/** Every key attribute of the table and its indexes, once each; two keys naming one attribute must agree on its type. */
const attributeDefinitions = (definition: TableDefinition): AttributeDefinition[] => {
  const keys = [
    definition.partitionKey,
    definition.sortKey,
    ...definition.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const types = new Map<string, KeyAttribute['type']>();
  for (const key of keys) {
    if (key === undefined) continue;
    const known = types.get(key.name);
    if (known !== undefined && known !== key.type) {
      throw new Error(
        `Table ${definition.name}: attribute ${key.name} is keyed both as ${known} and as ${key.type}`,
      );
    }
    types.set(key.name, key.type);
  }
  return [...types].map(([name, type]) => ({ AttributeName: name, AttributeType: type }));
};

/** The CreateTable request for one definition; pure, so a test can hold it against the synthesized template. */
export const toCreateTableInput = (
  definition: TableDefinition,
  physicalName: string,
): CreateTableCommandInput => ({
  TableName: physicalName,
  KeySchema: keySchema(definition.partitionKey, definition.sortKey),
  AttributeDefinitions: attributeDefinitions(definition),
  BillingMode: 'PAY_PER_REQUEST',
  ...(definition.indexes.length > 0
    ? { GlobalSecondaryIndexes: definition.indexes.map(toGlobalSecondaryIndex) }
    : {}),
});

export interface ProvisionedTables {
  /** Tables created by this call. */
  readonly created: readonly TableName[];
  /** Tables that were there already and were left as they were, data included. */
  readonly existing: readonly TableName[];
}

const isNamed = (error: unknown, name: string): boolean => error instanceof Error && error.name === name;

/** Turns on expiry of the definition's TTL attribute, where the emulator supports it. */
const enableTimeToLive = async (
  client: DynamoDBClient,
  tableName: string,
  attribute: string,
): Promise<void> => {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite implements DescribeTimeToLive but not UpdateTimeToLive. Locally the rows then simply never
    // expire, which costs disk and nothing else; the deployed table gets its TTL from the stack.
    if (!isNamed(error, 'UnknownOperationException')) throw error;
  }
};

const createTable = async (
  client: DynamoDBClient,
  definition: TableDefinition,
  tableName: string,
): Promise<boolean> => {
  try {
    await client.send(new CreateTableCommand(toCreateTableInput(definition, tableName)));
  } catch (error) {
    // Already there from an earlier start: kept as it is, so a restart keeps the data.
    if (error instanceof ResourceInUseException || isNamed(error, 'ResourceInUseException')) return false;
    throw error;
  }
  // Real DynamoDB takes seconds to make a table ACTIVE, and a TTL update before that is refused.
  await waitUntilTableExists({ client, minDelay: 1, maxWaitTime: 120 }, { TableName: tableName });
  if (definition.timeToLiveAttribute !== undefined) {
    await enableTimeToLive(client, tableName, definition.timeToLiveAttribute);
  }
  return true;
};

/** Creates every table of TABLES under the given physical names, skipping those that exist. */
export const createTables = async (
  client: DynamoDBClient,
  names: Readonly<Record<TableName, string>>,
): Promise<ProvisionedTables> => {
  const outcomes = await Promise.all(
    TABLE_NAMES.map(async (name) => ({
      name,
      created: await createTable(client, TABLES[name], names[name]),
    })),
  );
  return {
    created: outcomes.filter((o) => o.created).map((o) => o.name),
    existing: outcomes.filter((o) => !o.created).map((o) => o.name),
  };
};

export interface QueueNames {
  readonly queue: string;
  readonly deadLetterQueue: string;
}

export interface ProvisionedQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/** The dead-letter queue's attributes: kept long enough for an operator to inspect and redrive. */
export const toDeadLetterQueueAttributes = (
  settings: QueueSettings = EVENTS_QUEUE,
): Record<string, string> => ({
  MessageRetentionPeriod: String(settings.deadLetterRetentionSeconds),
  MaximumMessageSize: String(settings.maxMessageSizeBytes),
});

/** The events queue's attributes, redriving to the dead-letter queue after the configured receives. */
export const toEventsQueueAttributes = (
  deadLetterQueueArn: string,
  settings: QueueSettings = EVENTS_QUEUE,
): Record<string, string> => ({
  VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
  MessageRetentionPeriod: String(settings.retentionSeconds),
  MaximumMessageSize: String(settings.maxMessageSizeBytes),
  RedrivePolicy: JSON.stringify({
    deadLetterTargetArn: deadLetterQueueArn,
    maxReceiveCount: settings.maxReceiveCount,
  }),
});

const createQueue = async (
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> => {
  // CreateQueue is idempotent for a queue that exists with the same attributes, so a restart needs no check. One
  // kept from a run with other settings (a DATA_DIR older than a change of receives or visibility) is refused
  // instead: it is brought to the settings of this run, keeping its messages.
  let url: string | undefined;
  try {
    ({ QueueUrl: url } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    ));
  } catch (error) {
    if (!(error instanceof Error && /QueueNameExists|QueueAlreadyExists/.test(error.name))) throw error;
    ({ QueueUrl: url } = await client.send(new GetQueueUrlCommand({ QueueName: name })));
    if (url !== undefined)
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (url === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`Queue ${name} has no QueueArn`);
  return { url, arn };
};

/** Creates the dead-letter queue, then the events queue that redrives to it. */
export const createQueues = async (
  client: SQSClient,
  names: QueueNames,
  settings: QueueSettings = EVENTS_QUEUE,
): Promise<ProvisionedQueues> => {
  const deadLetter = await createQueue(client, names.deadLetterQueue, toDeadLetterQueueAttributes(settings));
  const events = await createQueue(client, names.queue, toEventsQueueAttributes(deadLetter.arn, settings));
  return {
    queueUrl: events.url,
    queueArn: events.arn,
    deadLetterQueueUrl: deadLetter.url,
    deadLetterQueueArn: deadLetter.arn,
  };
};

/**
 * Creates the media bucket unless it exists. The embedded S3 keeps objects, their content type and metadata; the
 * deployed bucket's encryption, versioning, lifecycle and access logs are S3's own and have no local counterpart.
 */
export const createBucket = async (client: S3Client, name: string): Promise<void> => {
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    const code = error instanceof Error ? error.name : '';
    if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
  }
};

export interface RegisterTokenOptions {
  /** The Aircall webhook the token belongs to, when there is one. */
  readonly webhookId?: string;
}

/** Adds a token to the webhooks registry, stored as its SHA-256 like every registered token; returns that hash. */
export const registerToken = async (
  client: DynamoDBClient,
  tableName: string,
  token: string,
  account: string,
  options: RegisterTokenOptions = {},
): Promise<string> => {
  const tokenHash = hashToken(token);
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        token_hash: { S: tokenHash },
        account: { S: account },
        source: { S: 'local' },
        ...(options.webhookId !== undefined ? { webhook_id: { S: options.webhookId } } : {}),
      },
    }),
  );
  return tokenHash;
};

/**
 * Removes every row `registerToken` wrote (source `local`) but the one of `keepTokenHash`, and returns how many:
 * a token of an earlier start, such as the old well-known default, stops working when the stack starts with
 * another. Rows the guardian or the CLI wrote for Aircall webhooks have another source and stay.
 */
export const removeOtherLocalTokens = async (
  client: DynamoDBClient,
  tableName: string,
  keepTokenHash: string,
): Promise<number> => {
  const stale: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#source = :local AND token_hash <> :keep',
        ExpressionAttributeNames: { '#source': 'source' },
        ExpressionAttributeValues: { ':local': { S: 'local' }, ':keep': { S: keepTokenHash } },
        ProjectionExpression: 'token_hash',
        ConsistentRead: true,
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    for (const item of page.Items ?? []) if (item.token_hash?.S !== undefined) stale.push(item.token_hash.S);
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  let removed = 0;
  for (const tokenHash of stale) {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { token_hash: { S: tokenHash } },
          // Taken over by an Aircall webhook since the scan: it stays.
          ConditionExpression: '#source = :local',
          ExpressionAttributeNames: { '#source': 'source' },
          ExpressionAttributeValues: { ':local': { S: 'local' } },
        }),
      );
      removed += 1;
    } catch (error) {
      if (
        !(
          error instanceof ConditionalCheckFailedException ||
          isNamed(error, 'ConditionalCheckFailedException')
        )
      )
        throw error;
    }
  }
  return removed;
};
