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
  /**
   * The layout's revision, when it is not the first: a table whose keys or indexes change in a way DynamoDB cannot
   * update in place (CloudFormation changes one index per update, and none's projection) is built anew under a
   * construct id of its own, and `migrate` copies the older table's items into it.
   */
  readonly revision?: number;
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

/** The summary attributes of a call item, plain and queryable; its full latest data sits beside them in `data_z`. */
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
  'recording',
  'voicemail',
  'asset',
  'tags',
  'archived',
  'last_event',
  'last_event_at',
] as const;

/**
 * The partition of an account's UTC day in the day-keyed indexes, e.g. `acme#2026-12-01`: one account's day is
 * one Query, and another account's items are never read.
 */
export const accountDay = (account: string, day: string): string => `${account}#${day}`;

/**
 * A calls index ordered by `started_at`. Keys only: an entry is written when the call enters the index or its keys
 * move, never when its status or duration changes, where projecting the summary would rewrite every index of the
 * call at every event. A listing reads the summaries from the table by key (BatchGetItem: half a read unit a call,
 * a tenth of a write's price).
 */
const byStartedAt = (indexName: string, partitionKey: KeyAttribute): IndexDefinition => ({
  indexName,
  partitionKey,
  sortKey: { name: 'started_at', type: 'N' },
  projection: { type: 'KEYS_ONLY' },
});

export const TABLES: Readonly<Record<TableName, TableDefinition>> = {
  calls: {
    name: 'calls',
    revision: 2,
    partitionKey: { name: 'id', type: 'N' },
    indexes: [
      byStartedAt('by_user', { name: 'user_id', type: 'N' }),
      byStartedAt('by_number', { name: 'number_id', type: 'N' }),
      // One partition per account and UTC day (`account_day` = `acme#2026-12-01`): a time-range listing is one
      // Query per day it spans.
      byStartedAt('by_account_day', { name: 'account_day', type: 'S' }),
      // Sparse: only missed calls carry `account_missed_day`, so this index holds nothing else.
      byStartedAt('missed_by_account_day', { name: 'account_missed_day', type: 'S' }),
    ],
  },
  events: {
    name: 'events',
    revision: 2,
    // pk = `<resource>#<id>` (e.g. `call#780836699`), sk = `<timestamp>#<lifecycle rank>#<event>#<digest>`.
    // Receipts share the table under `#received#<account>#<day>` (lib/definitions/receipts.ts): they list what was
    // received when, where an index would have cost a write per event.
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    indexes: [],
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

/**
 * A table's name in the local stack: its logical name, with `-v<revision>` from its second revision on, so that a
 * data directory kept from an older layout keeps its tables beside the new ones, for `migrate` to copy from.
 */
export const localTableName = (name: TableName): string => {
  const { revision } = TABLES[name];
  return revision === undefined ? name : `${name}-v${revision}`;
};
