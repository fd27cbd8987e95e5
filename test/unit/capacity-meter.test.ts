// The capacity meter in front of dynalite: the write units it bills for each kind of write, table and indexes.

import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CapacityMeter, type MeterTotals, startCapacityMeter } from '../../bench/capacity-meter.js';
import type { TableDefinition } from '../../lib/definitions/tables.js';
import { localClientTarget } from '../../local/clients.js';
import { type RunningEmulator, startDynamo } from '../../local/emulators.js';
import { toCreateTableInput } from '../../local/provision.js';

/**
 * A table of the test's own, so that the figures do not move with the project's layout: one index projecting
 * `status`, and one sparse.
 */
const CALLS: TableDefinition = {
  name: 'calls',
  partitionKey: { name: 'id', type: 'N' },
  indexes: [
    {
      indexName: 'by_user',
      partitionKey: { name: 'user_id', type: 'N' },
      sortKey: { name: 'started_at', type: 'N' },
      projection: { type: 'INCLUDE', nonKeyAttributes: ['status'] },
    },
    {
      indexName: 'missed',
      partitionKey: { name: 'missed_day', type: 'S' },
      sortKey: { name: 'started_at', type: 'N' },
      projection: { type: 'KEYS_ONLY' },
    },
  ],
};
const TABLE = 'meter-calls';

/** 1.5 KB of an attribute no index projects. */
const BULK = 'x'.repeat(1500);

const call = (id: number, extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  id: { N: String(id) },
  user_id: { N: '7' },
  started_at: { N: '1760000000' },
  status: { S: 'ringing' },
  ...extra,
});

describe('startCapacityMeter', () => {
  let dynamo: RunningEmulator;
  let meter: CapacityMeter;
  let client: DynamoDBClient;
  let direct: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamo({ port: 0 });
    direct = new DynamoDBClient(localClientTarget(dynamo.endpoint));
    await direct.send(new CreateTableCommand(toCreateTableInput(CALLS, TABLE)));
    await waitUntilTableExists({ client: direct, minDelay: 1, maxWaitTime: 30 }, { TableName: TABLE });
    meter = await startCapacityMeter({
      upstream: dynamo.endpoint,
      tables: { [TABLE]: 'calls' },
      definitions: { calls: CALLS },
    });
    client = new DynamoDBClient(localClientTarget(meter.endpoint));
  });

  afterAll(async () => {
    client.destroy();
    direct.destroy();
    await meter.stop();
    await dynamo.stop();
  });

  beforeEach(() => {
    meter.reset();
  });

  /** Puts an item straight to the emulator, unmetered, as the state a test starts from. */
  const seed = async (item: Record<string, AttributeValue>): Promise<void> => {
    await direct.send(new PutItemCommand({ TableName: TABLE, Item: item }));
  };

  /** An update through the meter; `status` and `data` are reserved words, written `#status` and `#data`. */
  const update = (id: number, expression: string, values?: Record<string, AttributeValue>) => {
    const names = ['status', 'data'].filter((name) => expression.includes(`#${name}`));
    return client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: { N: String(id) } },
        UpdateExpression: expression,
        ...(names.length === 0
          ? {}
          : { ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])) }),
        ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
      }),
    );
  };

  const units = (totals: MeterTotals) => {
    const calls = totals.tables.calls;
    if (calls === undefined) throw new Error('the meter has no totals for the calls table');
    return calls;
  };

  it('bills a new 1.5 KB item 2 units, and its one index entry 1', async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: call(1, { data: { S: BULK } }) }));

    expect(units(meter.totals())).toEqual({ base: 2, indexes: { by_user: 1, missed: 0 } });
    expect(meter.totals()).toMatchObject({ writes: 1, failedConditions: 0, unmetered: 0 });
  });

  it('bills an update that makes the item smaller on the larger item before it', async () => {
    await seed(call(2, { data: { S: BULK } }));

    await update(2, 'REMOVE #data');

    expect(units(meter.totals())).toEqual({ base: 2, indexes: { by_user: 0, missed: 0 } });
  });

  it('bills no index for an update of an attribute no index projects', async () => {
    await seed(call(3));

    await update(3, 'SET note = :note', { ':note': { S: 'called back' } });

    expect(units(meter.totals())).toEqual({ base: 1, indexes: { by_user: 0, missed: 0 } });
  });

  it('bills one write of the entry when a projected value changes under the same keys', async () => {
    await seed(call(4));

    await update(4, 'SET #status = :status', { ':status': { S: 'answered' } });

    expect(units(meter.totals())).toEqual({ base: 1, indexes: { by_user: 1, missed: 0 } });
  });

  it('bills a delete and a put in the index whose key the update moves', async () => {
    await seed(call(5));

    await update(5, 'SET user_id = :user', { ':user': { N: '8' } });

    expect(units(meter.totals())).toEqual({ base: 1, indexes: { by_user: 2, missed: 0 } });
  });

  it('bills a sparse index once when the item gains its key, and once when it loses it', async () => {
    await seed(call(6));

    await update(6, 'SET missed_day = :day', { ':day': { S: '2026-12-01' } });
    expect(units(meter.totals()).indexes).toEqual({ by_user: 0, missed: 1 });

    await update(6, 'REMOVE missed_day');
    expect(units(meter.totals()).indexes).toEqual({ by_user: 0, missed: 2 });
  });

  it('compares the numbers of a put that replaces an item as the table stores them', async () => {
    await seed(call(13));

    // The same item, its index keys written another way: nothing moves in the index.
    const rewritten = call(13, { user_id: { N: '07' }, started_at: { N: '1.76e9' } });
    await client.send(new PutItemCommand({ TableName: TABLE, Item: rewritten }));

    expect(units(meter.totals())).toEqual({ base: 1, indexes: { by_user: 0, missed: 0 } });
  });

  it('bills a put refused by its condition on the larger of the stored item and the one it would have written', async () => {
    await seed(call(7));

    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: call(7, { data: { S: BULK.repeat(2) } }),
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    // 3 KB would have been written; the stored item is unchanged, so no index entry is.
    expect(units(meter.totals())).toEqual({ base: 3, indexes: { by_user: 0, missed: 0 } });
    expect(meter.totals()).toMatchObject({ writes: 1, failedConditions: 1 });
    const { Item } = await direct.send(new GetItemCommand({ TableName: TABLE, Key: { id: { N: '7' } } }));
    expect(Item).toEqual(call(7));
  });

  it('bills an update refused by its condition on the item the update would have made', async () => {
    await seed(call(8));

    await expect(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { N: '8' } },
          UpdateExpression: 'SET #data = :data',
          ConditionExpression: '#status = :ended',
          ExpressionAttributeNames: { '#data': 'data', '#status': 'status' },
          ExpressionAttributeValues: { ':data': { S: BULK }, ':ended': { S: 'ended' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });

    expect(units(meter.totals())).toEqual({ base: 2, indexes: { by_user: 0, missed: 0 } });
    expect(meter.totals()).toMatchObject({ writes: 1, failedConditions: 1, unmetered: 0 });
  });

  it('bills each put of a BatchWriteItem as a write of its own', async () => {
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: call(9, { data: { S: BULK } }) } },
            { PutRequest: { Item: call(10, { data: { S: BULK } }) } },
          ],
        },
      }),
    );

    expect(units(meter.totals())).toEqual({ base: 4, indexes: { by_user: 2, missed: 0 } });
    expect(meter.totals()).toMatchObject({ writes: 2, failedConditions: 0 });
  });

  it('sizes concurrent writes to one item each against the item the write before it left', async () => {
    // Four 600-byte attributes added at once: 0.6, 1.2, 1.8 and 2.4 KB after each, in whatever order they land.
    await Promise.all(
      [0, 1, 2, 3].map((i) => update(11, `SET a${i} = :bulk`, { ':bulk': { S: 'y'.repeat(600) } })),
    );

    expect(units(meter.totals()).base).toBe(1 + 2 + 2 + 3);
    expect(meter.totals()).toMatchObject({ writes: 4, unmetered: 0 });
  });

  it('forwards writes unmetered while paused', async () => {
    meter.pause();
    await client.send(new PutItemCommand({ TableName: TABLE, Item: call(12) }));
    meter.resume();

    expect(meter.totals()).toMatchObject({ writes: 0, tables: { calls: { base: 0 } } });
    const { Item } = await direct.send(new GetItemCommand({ TableName: TABLE, Key: { id: { N: '12' } } }));
    expect(Item).toEqual(call(12));
  });
});
