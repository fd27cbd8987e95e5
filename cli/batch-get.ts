// Reads items by key, a hundred to a BatchGetItem, asking again for what DynamoDB leaves unprocessed.

import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;

// BatchGetItem takes 100 keys at most.
const BATCH_KEYS = 100;
// Unprocessed keys mean the table is throttling: a few backed-off retries, then the read fails rather than hangs.
const UNPROCESSED_ATTEMPTS = 8;

const backOff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)));

/**
 * The stored items of the given keys, by `keyOf`; absent ones are not in the map. `projection` names the attributes
 * to read; all of them when absent.
 */
export const batchGetByKey = async (
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Item[],
  keyOf: (item: Item) => string,
  projection?: readonly string[],
): Promise<Map<string, Item>> => {
  const found = new Map<string, Item>();
  // Placeholders for every name: `status`, `duration` and `name` are reserved words.
  const names =
    projection === undefined ? undefined : Object.fromEntries(projection.map((a, i) => [`#a${i}`, a]));
  for (let start = 0; start < keys.length; start += BATCH_KEYS) {
    let pending: Item[] = keys.slice(start, start + BATCH_KEYS);
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt === UNPROCESSED_ATTEMPTS)
        throw new Error(`DynamoDB left ${pending.length} keys of ${table} unprocessed ${attempt} times`);
      if (attempt > 0) await backOff(attempt);
      const { Responses = {}, UnprocessedKeys = {} } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ...(names === undefined
                ? {}
                : { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }),
            },
          },
        }),
      );
      for (const item of Responses[table] ?? []) found.set(keyOf(item), item);
      pending = (UnprocessedKeys[table]?.Keys as Item[] | undefined) ?? [];
    }
  }
  return found;
};

/** The stored items of the given keys, in the order of the keys; absent ones are left out. */
export const batchGetInOrder = async (
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Item[],
  keyOf: (item: Item) => string,
  projection?: readonly string[],
): Promise<Item[]> => {
  const found = await batchGetByKey(client, table, keys, keyOf, projection);
  return keys.flatMap((key) => {
    const item = found.get(keyOf(key));
    return item === undefined ? [] : [item];
  });
};
