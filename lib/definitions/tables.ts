// The DynamoDB tables as plain data: the single definition that both the CDK stack and the local stack build from.
// Nothing here imports aws-cdk-lib, so the local runtime and the tests can read it without synthesizing anything.

export type KeyType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

export type Projection =
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'ALL' }
  | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly projection: Projection;
}

export interface TableDefinition {
  /** Logical name, also the suffix of the environment variable that carries the physical name. */
  readonly name: TableName;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute holding an expiry in epoch seconds, when the table has one. */
  readonly timeToLiveAttribute?: string;
}

export type TableName = 'calls' | 'events' | 'users' | 'numbers' | 'contacts' | 'webhooks' | 'accounts';

/** The tables that hold the current state of one resource each: persist updates them and never appends. */
export const STATE_TABLES = ['calls', 'users', 'numbers', 'contacts'] as const satisfies readonly TableName[];

export type StateTableName = (typeof STATE_TABLES)[number];

/** One value per state table, e.g. its physical name or an in-memory fake of it. */
export const perStateTable = <T>(make: (name: StateTableName) => T): Record<StateTableName, T> =>
  Object.fromEntries(STATE_TABLES.map((name) => [name, make(name)])) as Record<StateTableName, T>;

/**
 * Summary attributes a call listing needs. Projected into the calls indexes so that a listing
 * is one Query, while the large `data` map stays out of every index (index writes are billed by size).
 */
export const CALL_SUMMARY_ATTRIBUTES = [
  'account',
  'direction',
  'status',
  'started_at',
  'answered_at',
  'ended_at',
  'duration',
  'missed_call_reason',
  'user_id',
  'number_id',
  'contact_id',
  'raw_digits',
  'last_event',
  'last_event_at',
] as const;

const byStartedAt = (
  indexName: string,
  partitionKey: KeyAttribute,
  summary: readonly string[] = CALL_SUMMARY_ATTRIBUTES,
): IndexDefinition => ({
  indexName,
  partitionKey,
  sortKey: { name: 'started_at', type: 'N' },
  projection: {
    type: 'INCLUDE',
    nonKeyAttributes: summary.filter((a) => a !== partitionKey.name && a !== 'started_at'),
  },
});

export const TABLES: Readonly<Record<TableName, TableDefinition>> = {
  calls: {
    name: 'calls',
    partitionKey: { name: 'id', type: 'N' },
    indexes: [
      byStartedAt('by_user', { name: 'user_id', type: 'N' }),
      byStartedAt('by_number', { name: 'number_id', type: 'N' }),
      // One partition per UTC day: a time-range listing is one Query per day it spans.
      byStartedAt('by_day', { name: 'started_day', type: 'S' }),
      // Sparse: only missed calls carry `missed_day`, so this index holds nothing else.
      byStartedAt('missed_by_day', { name: 'missed_day', type: 'S' }),
    ],
  },
  events: {
    name: 'events',
    // pk = `<resource>#<id>` (e.g. `call#780836699`), sk = `<timestamp>#<lifecycle rank>#<event>#<digest>`.
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [
      {
        // Everything received on a UTC day, in order of arrival: the replay index. It carries
        // only what a listing shows; a replay reads the payloads from the table by key.
        indexName: 'by_received_day',
        partitionKey: { name: 'received_day', type: 'S' },
        sortKey: { name: 'received_at', type: 'N' },
        projection: { type: 'INCLUDE', nonKeyAttributes: ['account', 'resource', 'event', 'timestamp'] },
      },
    ],
    timeToLiveAttribute: 'expires_at',
  },
  users: { name: 'users', partitionKey: { name: 'id', type: 'N' }, indexes: [] },
  numbers: { name: 'numbers', partitionKey: { name: 'id', type: 'N' }, indexes: [] },
  contacts: { name: 'contacts', partitionKey: { name: 'id', type: 'N' }, indexes: [] },
  webhooks: {
    name: 'webhooks',
    // The SHA-256 (hex) of the webhook's token: the token itself is never stored.
    partitionKey: { name: 'token_hash', type: 'S' },
    indexes: [],
  },
  accounts: {
    name: 'accounts',
    // One item per Aircall account: when its events last arrived, and where its reconcile stands.
    partitionKey: { name: 'account', type: 'S' },
    indexes: [],
  },
};

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** The stack output that carries a table's physical name, e.g. `CallsTableName`: a contract the CLI reads. */
export const tableOutputName = (name: TableName): string =>
  `${name.charAt(0).toUpperCase()}${name.slice(1)}TableName`;

/** The environment variable through which a handler learns a table's physical name, e.g. `CALLS_TABLE`. */
export const tableEnvName = (name: TableName): string => `${name.toUpperCase()}_TABLE`;
