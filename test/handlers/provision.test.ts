// Local provisioning against the emulators: tables and queues exactly as the shared definitions say, idempotently.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../lambdas/shared/token.js';
import { EVENTS_QUEUE } from '../../lib/definitions/pipeline.js';
import { type KeyAttribute, TABLE_NAMES, TABLES } from '../../lib/definitions/tables.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/clients.js';
import { startDynamo } from '../../local/emulators.js';
import { createQueues, createTables, registerToken, toCreateTableInput } from '../../local/provision.js';
import { startStack, type TestStack } from '../support/stack.js';
import { getItem, scanTable } from '../support/tables.js';

const expectedKeys = (partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
];

describe('local provisioning', () => {
  let stack: TestStack;

  const queueAttributes = async (queueUrl: string) =>
    (await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })))
      .Attributes ?? {};

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each(TABLE_NAMES)('creates the %s table with exactly the keys and indexes of TABLES', async (name) => {
    const definition = TABLES[name];

    const { Table } = await stack.dynamo.send(new DescribeTableCommand({ TableName: stack.tables[name] }));

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual(expectedKeys(definition.partitionKey, definition.sortKey));
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema,
      projection: index.Projection?.ProjectionType,
      included: [...(index.Projection?.NonKeyAttributes ?? [])].sort(),
    }));
    expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      [...definition.indexes]
        .sort((a, b) => a.indexName.localeCompare(b.indexName))
        .map((index) => ({
          name: index.indexName,
          keys: expectedKeys(index.partitionKey, index.sortKey),
          projection: index.projection.type,
          included: index.projection.type === 'INCLUDE' ? [...index.projection.nonKeyAttributes].sort() : [],
        })),
    );
    const keyAttributes = [
      definition.partitionKey,
      definition.sortKey,
      ...definition.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ];
    const expectedAttributes = new Map(keyAttributes.flatMap((k) => (k ? [[k.name, k.type] as const] : [])));
    expect(
      Object.fromEntries((Table?.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType])),
    ).toEqual(Object.fromEntries(expectedAttributes));
    expect(Table?.AttributeDefinitions).toHaveLength(expectedAttributes.size);
  });

  it('defines an attribute once when several indexes key on it', () => {
    const input = toCreateTableInput(TABLES.calls, 'calls');

    const names = (input.AttributeDefinitions ?? []).map((a) => a.AttributeName);

    expect(names.filter((n) => n === 'started_at')).toHaveLength(1);
    expect(new Set(names)).toEqual(
      new Set(['id', 'user_id', 'number_id', 'account_day', 'account_missed_day', 'started_at']),
    );
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('refuses a definition that keys one attribute as two types', () => {
    const broken = {
      ...TABLES.events,
      indexes: [
        {
          indexName: 'clash',
          partitionKey: { name: 'pk', type: 'N' as const },
          projection: { type: 'KEYS_ONLY' as const },
        },
      ],
    };

    expect(() => toCreateTableInput(broken, 'events')).toThrow(/pk is keyed both as S and as N/);
  });

  it('gives the events queue the redrive, size, visibility and retention of EVENTS_QUEUE', async () => {
    const attributes = await queueAttributes(stack.queues.queueUrl);

    expect(attributes.VisibilityTimeout).toBe(String(EVENTS_QUEUE.visibilityTimeoutSeconds));
    expect(attributes.MaximumMessageSize).toBe(String(EVENTS_QUEUE.maxMessageSizeBytes));
    expect(attributes.MessageRetentionPeriod).toBe(String(EVENTS_QUEUE.retentionSeconds));
    const redrive = JSON.parse(attributes.RedrivePolicy ?? '{}') as Record<string, unknown>;
    expect(redrive.deadLetterTargetArn).toBe(stack.queues.deadLetterQueueArn);
    expect(Number(redrive.maxReceiveCount)).toBe(EVENTS_QUEUE.maxReceiveCount);
  });

  it('keeps dead letters for the retention of EVENTS_QUEUE', async () => {
    const attributes = await queueAttributes(stack.queues.deadLetterQueueUrl);

    expect(attributes.MessageRetentionPeriod).toBe(String(EVENTS_QUEUE.deadLetterRetentionSeconds));
    expect(attributes.MaximumMessageSize).toBe(String(EVENTS_QUEUE.maxMessageSizeBytes));
    expect(attributes.QueueArn).toBe(stack.queues.deadLetterQueueArn);
  });

  it('leaves existing tables and their data alone when run again', async () => {
    const item = { id: 1, status: 'done' };
    await stack.documents.send(new PutCommand({ TableName: stack.tables.calls, Item: item }));

    const outcome = await createTables(stack.dynamo, stack.tables);

    expect(outcome.created).toEqual([]);
    expect([...outcome.existing].sort()).toEqual([...TABLE_NAMES].sort());
    expect(await getItem(stack.documents, stack.tables.calls, { id: 1 })).toEqual(item);
  });

  it('keeps tables and their data across a restart of an on-disk DynamoDB', async () => {
    const path = await mkdtemp(join(tmpdir(), 'dynalite-'));
    const item = { token_hash: 'abc', account: 'acme-eu' };
    const withDynamo = async <T>(
      fn: (client: DynamoDBClient, documents: DynamoDBDocumentClient) => Promise<T>,
    ): Promise<T> => {
      const dynamo = await startDynamo({ port: 0, path });
      const client = new DynamoDBClient({
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: dynamo.endpoint,
      });
      try {
        return await fn(client, DynamoDBDocumentClient.from(client));
      } finally {
        client.destroy();
        await dynamo.stop();
      }
    };
    try {
      const first = await withDynamo(async (client, documents) => {
        const outcome = await createTables(client, stack.tables);
        await documents.send(new PutCommand({ TableName: stack.tables.webhooks, Item: item }));
        return outcome;
      });
      const second = await withDynamo(async (client, documents) => ({
        outcome: await createTables(client, stack.tables),
        stored: await getItem(documents, stack.tables.webhooks, { token_hash: 'abc' }),
      }));

      expect(first.created).toHaveLength(TABLE_NAMES.length);
      expect(second.outcome.created).toEqual([]);
      expect(second.stored).toEqual(item);
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  });

  it('returns the same queues when run again', async () => {
    const names = {
      queue: stack.queues.queueArn.split(':').at(-1) ?? '',
      deadLetterQueue: stack.queues.deadLetterQueueArn.split(':').at(-1) ?? '',
    };

    expect(await createQueues(stack.sqs, names)).toEqual(stack.queues);
  });

  it('brings queues kept from a run with other settings to this run’s settings, rather than failing', async () => {
    const names = { queue: `resettle-${Date.now()}`, deadLetterQueue: `resettle-dlq-${Date.now()}` };
    const before = await createQueues(stack.sqs, names, { ...EVENTS_QUEUE, maxReceiveCount: 5 });
    const after = await createQueues(stack.sqs, names, EVENTS_QUEUE);

    expect(after).toEqual(before);
    const { Attributes } = await stack.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: after.queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount).toBe(EVENTS_QUEUE.maxReceiveCount);
  });

  it('registers a token as its SHA-256 only, with the account and an optional webhook id', async () => {
    const token = 'tok-register-5e1c9a';

    const tokenHash = await registerToken(stack.dynamo, stack.tables.webhooks, token, 'acme-us', {
      webhookId: 'wh-42',
    });

    expect(tokenHash).toBe(hashToken(token));
    const items = await scanTable(stack.documents, stack.tables.webhooks);
    expect(items).toEqual([
      { token_hash: tokenHash, account: 'acme-us', webhook_id: 'wh-42', source: 'local' },
    ]);
    expect(JSON.stringify(items)).not.toContain(token);
  });
});
