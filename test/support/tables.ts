// Reads and clears the tables the way a test needs: whole scans, single items, one partition in order, each item
// decoded as the CLI reads it (`data_z` back into `data`); `rawItem` gives an item as stored.

import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeItem } from '../../lib/definitions/payload.js';
import { isReceiptKey } from '../../lib/definitions/receipts.js';
import { TABLES, type TableName } from '../../lib/definitions/tables.js';

export type Item = Record<string, unknown>;

const decoded = (item: Item): Item => decodeItem(item) as Item;

/** Every item as stored. */
export const scanRaw = async (client: DynamoDBDocumentClient, tableName: string): Promise<Item[]> => {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
};

export const scanTable = async (client: DynamoDBDocumentClient, tableName: string): Promise<Item[]> =>
  (await scanRaw(client, tableName)).map(decoded);

/** The rows of the event log, without the receipts that share its table. */
export const scanEvents = async (client: DynamoDBDocumentClient, tableName: string): Promise<Item[]> =>
  (await scanTable(client, tableName)).filter((item) => !isReceiptKey(String(item.pk)));

/** The id an event row is logged under: its partition key without the resource, e.g. `780836699`. */
export const resourceIdOf = (row: Item): string => {
  const pk = String(row.pk);
  return pk.slice(pk.indexOf('#') + 1);
};

/** The receipts of the event log. */
export const scanReceipts = async (client: DynamoDBDocumentClient, tableName: string): Promise<Item[]> =>
  (await scanRaw(client, tableName)).filter((item) => isReceiptKey(String(item.pk)));

/** An item as stored. */
export const rawItem = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  key: Item,
): Promise<Item | undefined> =>
  (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

export const getItem = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  key: Item,
): Promise<Item | undefined> => {
  const item = await rawItem(client, tableName, key);
  return item === undefined ? undefined : decoded(item);
};

/** Every item of one partition, in sort-key order. */
export const queryPartition = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  partitionKey: { readonly name: string; readonly value: string | number },
): Promise<Item[]> => {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': partitionKey.name },
        ExpressionAttributeValues: { ':pk': partitionKey.value },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []).map(decoded));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
};

/** Deletes every item of a table, so each test starts from empty state. */
export const clearTable = async (
  client: DynamoDBDocumentClient,
  table: TableName,
  tableName: string,
): Promise<void> => {
  const { partitionKey, sortKey } = TABLES[table];
  const keys = (await scanRaw(client, tableName)).map((item) => ({
    [partitionKey.name]: item[partitionKey.name],
    ...(sortKey ? { [sortKey.name]: item[sortKey.name] } : {}),
  }));
  for (let i = 0; i < keys.length; i += 25) {
    const requests = keys.slice(i, i + 25).map((key) => ({ DeleteRequest: { Key: key } }));
    const { UnprocessedItems } = await client.send(
      new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
    );
    // The emulator never throttles; a leftover here would leave a test starting from a dirty table.
    if (Object.keys(UnprocessedItems ?? {}).length > 0) throw new Error(`could not clear ${tableName}`);
  }
};
