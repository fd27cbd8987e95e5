// Finds the tables of the first layout that a local data directory kept beside the second's, for `migrate` to copy.

import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_NAMES, TABLES, type TableName } from '../lib/definitions/tables.js';
import { localClientTarget } from './clients.js';

/** A table of the first layout found locally: which table it is an older layout of, and its name. */
export interface LegacyTable {
  readonly table: TableName;
  readonly name: string;
}

// The local stack named every table by its logical name until a table's second revision took `<name>-v2`.
const REVISED_TABLES = TABLE_NAMES.filter((name) => TABLES[name].revision !== undefined);

const exists = async (client: DynamoDBClient, name: string): Promise<boolean> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
    throw error;
  }
};

/**
 * The first-layout tables (`calls`, `events`) present in the local DynamoDB beside the tables now in use, in the
 * order of TABLES. `settings` is the local settings, or a CLI target, whose --table overrides name the tables in use.
 */
export const legacyTables = async (
  client: DynamoDBClient,
  settings: { readonly tables: Readonly<Partial<Record<TableName, string>>> },
): Promise<LegacyTable[]> => {
  const candidates = REVISED_TABLES.filter((table) => settings.tables[table] !== table);
  const found = await Promise.all(
    candidates.map(async (table) => ((await exists(client, table)) ? [{ table, name: table }] : [])),
  );
  return found.flat();
};

/** The same, through a client of its own on the local DynamoDB's endpoint: what `npm start` asks once started. */
export const legacyTablesAt = async (
  endpoint: string,
  settings: { readonly tables: Readonly<Partial<Record<TableName, string>>> },
): Promise<LegacyTable[]> => {
  const client = new DynamoDBClient(localClientTarget(endpoint));
  try {
    return await legacyTables(client, settings);
  } finally {
    client.destroy();
  }
};
