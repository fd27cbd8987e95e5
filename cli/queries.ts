// Reads calls, call histories, users and numbers from the tables: plain functions over a document client, no printing.

import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { MediaArchive } from '../lambdas/archive/ports.js';
import { archiveAttribute, type MediaKind } from '../lib/definitions/media.js';
import { decodeItem } from '../lib/definitions/payload.js';
import { receiptMinute, receiptPartition, receiptTime } from '../lib/definitions/receipts.js';
import { accountDay, CALL_SUMMARY_ATTRIBUTES } from '../lib/definitions/tables.js';
import { batchGetInOrder } from './batch-get.js';
import { type TimeRange, utcDays } from './time.js';

export type Item = Record<string, unknown>;

/** Which calls a listing covers; `missed` narrows any of them to missed calls. */
export type CallSelection =
  | { readonly by: 'user'; readonly id: number }
  | { readonly by: 'number'; readonly id: number }
  | { readonly by: 'all' };

export interface CallQuery {
  readonly selection: CallSelection;
  readonly range: TimeRange;
  readonly missed: boolean;
  /** At most this many calls; undefined for all of them. */
  readonly limit: number | undefined;
  readonly newestFirst: boolean;
}

/** Whose calls a listing reads: the accounts whose day partitions are queried, and the one a user's must belong to. */
export interface CallScope {
  /** Every account of a day-keyed listing: one, with --account, or every account the stack has seen. */
  readonly accounts: readonly string[];
  /** With --account: the calls of a user or a number are kept only when they are this account's. */
  readonly only?: string;
}

// Partitions queried at once (accounts times days): enough to hide round trips, few enough to stay far from
// throttling, however many companies a stack serves.
const QUERIES_AT_ONCE = 16;

const decoded = (item: Item): Item => decodeItem(item) as Item;

export const getCall = async (
  client: DynamoDBDocumentClient,
  callsTable: string,
  id: number,
): Promise<Item | undefined> => {
  const { Item: item } = await client.send(new GetCommand({ TableName: callsTable, Key: { id } }));
  return item === undefined ? undefined : decoded(item);
};

/** What a listing shows of each call: the summary, never the data (a listing reads no more than it prints). */
const LISTED_ATTRIBUTES = ['id', ...CALL_SUMMARY_ATTRIBUTES, 'account_missed_day'] as const;

/** The summaries of the calls an index listed, in the index's order: its entries hold keys only. */
const callSummaries = (client: DynamoDBDocumentClient, callsTable: string, entries: readonly Item[]) =>
  batchGetInOrder(
    client,
    callsTable,
    entries.map((entry) => ({ id: entry.id })),
    (item) => String(item.id),
    LISTED_ATTRIBUTES,
  );

interface IndexQuery {
  readonly table: string;
  readonly index: string;
  readonly partition: { readonly name: string; readonly value: string | number };
  readonly range: TimeRange;
  readonly newestFirst: boolean;
  readonly limit: number | undefined;
  /** Kept calls only, once read; DynamoDB's own Limit is then unusable, as it counts entries before keeping. */
  readonly keep?: (call: Item) => boolean;
}

/** The calls of one index partition between two `started_at` values, every page of it, up to the limit. */
const queryStartedBetween = async (client: DynamoDBDocumentClient, query: IndexQuery): Promise<Item[]> => {
  const input: QueryCommandInput = {
    TableName: query.table,
    IndexName: query.index,
    KeyConditionExpression: '#pk = :pk AND #started BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': query.partition.name, '#started': 'started_at' },
    ExpressionAttributeValues: {
      ':pk': query.partition.value,
      ':from': query.range.from,
      ':to': query.range.to,
    },
    ScanIndexForward: !query.newestFirst,
    ...(query.limit === undefined || query.keep !== undefined ? {} : { Limit: query.limit }),
  };
  const calls: Item[] = [];
  for await (const page of paginateQuery({ client }, input)) {
    const summaries = await callSummaries(client, query.table, page.Items ?? []);
    const keep = query.keep;
    calls.push(...(keep === undefined ? summaries : summaries.filter(keep)));
    if (query.limit !== undefined && calls.length >= query.limit) return calls.slice(0, query.limit);
  }
  return calls;
};

const startedAt = (call: Item): number => (typeof call.started_at === 'number' ? call.started_at : 0);

/**
 * One Query per account and UTC day, a window of days at a time. Days are disjoint in time, so concatenating them
 * keeps the order; the accounts of one day are merged by `started_at`.
 */
const queryByDay = async (
  client: DynamoDBDocumentClient,
  base: Omit<IndexQuery, 'partition'> & {
    readonly partitionName: string;
    readonly accounts: readonly string[];
  },
): Promise<Item[]> => {
  const days = utcDays(base.range);
  if (base.newestFirst) days.reverse();
  const direction = base.newestFirst ? -1 : 1;
  const calls: Item[] = [];
  const accountsAtOnce = Math.min(QUERIES_AT_ONCE, Math.max(1, base.accounts.length));
  const daysAtOnce = Math.max(1, Math.floor(QUERIES_AT_ONCE / accountsAtOnce));
  for (let i = 0; i < days.length; i += daysAtOnce) {
    const remaining = base.limit === undefined ? undefined : base.limit - calls.length;
    const window = await Promise.all(
      days.slice(i, i + daysAtOnce).map(async (day) => {
        const perAccount: Item[] = [];
        for (let a = 0; a < base.accounts.length; a += accountsAtOnce) {
          const pages = await Promise.all(
            base.accounts.slice(a, a + accountsAtOnce).map((account) =>
              queryStartedBetween(client, {
                ...base,
                limit: remaining,
                partition: { name: base.partitionName, value: accountDay(account, day) },
              }),
            ),
          );
          perAccount.push(...pages.flat());
        }
        return perAccount.sort(
          (a, b) => direction * (startedAt(a) - startedAt(b) || Number(a.id) - Number(b.id)),
        );
      }),
    );
    calls.push(...window.flat());
    if (base.limit !== undefined && calls.length >= base.limit) return calls.slice(0, base.limit);
  }
  return calls;
};

const isMissed = (call: Item): boolean => call.account_missed_day !== undefined;

/**
 * Calls started within the range, oldest first unless asked otherwise. A range listing is one Query per account and
 * day (index by_account_day, or missed_by_account_day for missed calls); a user's or number's listing is one Query
 * of its index, its missed calls and its account's kept here once read, as those indexes hold keys only.
 */
export const listCalls = (
  client: DynamoDBDocumentClient,
  callsTable: string,
  query: CallQuery,
  scope: CallScope,
): Promise<Item[]> => {
  const { selection, range, limit, newestFirst } = query;
  const common = { table: callsTable, range, limit, newestFirst };
  if (selection.by === 'all') {
    return queryByDay(client, {
      ...common,
      accounts: scope.accounts,
      ...(query.missed
        ? { index: 'missed_by_account_day', partitionName: 'account_missed_day' }
        : { index: 'by_account_day', partitionName: 'account_day' }),
    });
  }
  const { only } = scope;
  const keeps = [
    ...(query.missed ? [isMissed] : []),
    ...(only === undefined ? [] : [(call: Item) => call.account === only]),
  ];
  const name = `${selection.by}_id`;
  return queryStartedBetween(client, {
    ...common,
    index: `by_${selection.by}`,
    partition: { name, value: selection.id },
    ...(keeps.length === 0 ? {} : { keep: (call: Item) => keeps.every((keep) => keep(call)) }),
  });
};

/** Every account the stack has seen events of: the keys of the accounts table, by name. */
export const listAccounts = async (
  client: DynamoDBDocumentClient,
  accountsTable: string,
): Promise<string[]> => {
  const accounts: string[] = [];
  const input = {
    TableName: accountsTable,
    ProjectionExpression: '#a',
    ExpressionAttributeNames: { '#a': 'account' },
  };
  for await (const page of paginateScan({ client }, input))
    for (const item of page.Items ?? []) if (typeof item.account === 'string') accounts.push(item.account);
  return accounts.sort();
};

/** Every item of one events partition in sort-key order: timestamp, then lifecycle, then content. */
const queryEvents = async (
  client: DynamoDBDocumentClient,
  eventsTable: string,
  pk: string,
): Promise<Item[]> => {
  const items: Item[] = [];
  const input = {
    TableName: eventsTable,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
  };
  for await (const page of paginateQuery({ client }, input)) items.push(...(page.Items ?? []).map(decoded));
  return items;
};

export interface CallHistory {
  /** The events of the call's own account, in order. */
  readonly events: Item[];
  /** Events other accounts sent for the same id: never the call's, so not shown as its history. */
  readonly fromOtherAccounts: number;
}

/**
 * A call's events in order; undefined when neither events nor the call are stored. Only the account that owns the
 * call item speaks for it: another account's events for the same id (a forgery, or a misrouted webhook) are counted
 * and left out.
 */
export const callHistory = async (
  client: DynamoDBDocumentClient,
  tables: { readonly calls: string; readonly events: string },
  id: number,
): Promise<CallHistory | undefined> => {
  const [events, call] = await Promise.all([
    queryEvents(client, tables.events, `call#${id}`),
    getCall(client, tables.calls, id),
  ]);
  // A call whose events have all expired is known but has no history left to show.
  if (events.length === 0) return call === undefined ? undefined : { events, fromOtherAccounts: 0 };
  const owner = call?.account;
  if (typeof owner !== 'string') return { events, fromOtherAccounts: 0 };
  const own = events.filter((event) => event.account === owner);
  return { events: own, fromOtherAccounts: events.length - own.length };
};

const byNameThenId = (a: Item, b: Item): number => {
  const nameA = typeof a.name === 'string' ? a.name : undefined;
  const nameB = typeof b.name === 'string' ? b.name : undefined;
  if (nameA !== nameB) {
    if (nameA === undefined) return 1;
    if (nameB === undefined) return -1;
    return nameA.localeCompare(nameB);
  }
  return Number(a.id) - Number(b.id);
};

/** Every item of a small state table, only the named attributes, and without deleted ones unless asked. */
const scanAttributes = async (
  client: DynamoDBDocumentClient,
  table: string,
  attributes: readonly string[],
  includeDeleted: boolean,
): Promise<Item[]> => {
  // Placeholders for every name: `name` is a reserved word, and others may become one.
  const names = Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a]));
  const items: Item[] = [];
  const input = {
    TableName: table,
    ProjectionExpression: Object.keys(names).join(', '),
    ExpressionAttributeNames: names,
  };
  for await (const page of paginateScan({ client }, input)) items.push(...(page.Items ?? []));
  const listed = includeDeleted ? items : items.filter((item) => item.deleted !== true);
  return listed.sort(byNameThenId);
};

export const USER_ATTRIBUTES = [
  'id',
  'name',
  'email',
  'available',
  'availability_status',
  'last_event',
  'last_event_at',
  'deleted',
  'account',
] as const;

export const NUMBER_ATTRIBUTES = [
  'id',
  'name',
  'digits',
  'country',
  'open',
  'availability_status',
  'last_event',
  'last_event_at',
  'deleted',
  'account',
] as const;

/** Agents with their current availability, by name. */
export const listUsers = (client: DynamoDBDocumentClient, usersTable: string, includeDeleted = false) =>
  scanAttributes(client, usersTable, USER_ATTRIBUTES, includeDeleted);

/** Numbers, open or closed, by name. */
export const listNumbers = (client: DynamoDBDocumentClient, numbersTable: string, includeDeleted = false) =>
  scanAttributes(client, numbersTable, NUMBER_ATTRIBUTES, includeDeleted);

/** Where a call's recording or voicemail stands in the media archive. */
export type MediaFileState =
  | { readonly state: 'archived'; readonly archive: MediaArchive }
  /** Aircall's link is on the call, but no archive is recorded (yet). */
  | { readonly state: 'link-only' }
  /** Neither a link nor an archive: the call has no such file. */
  | { readonly state: 'absent' }
  /** `<kind>_archive` is there but not what the archive writes. */
  | { readonly state: 'unreadable' };

const isMediaArchive = (value: unknown): value is MediaArchive => {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Record<keyof MediaArchive, unknown>>;
  return (
    typeof record.key === 'string' &&
    record.key !== '' &&
    typeof record.bytes === 'number' &&
    Number.isSafeInteger(record.bytes) &&
    record.bytes >= 0 &&
    typeof record.content_type === 'string' &&
    typeof record.sha256 === 'string' &&
    /^[0-9a-f]{64}$/i.test(record.sha256) &&
    typeof record.archived_at === 'number'
  );
};

const hasValue = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/** The state of one of a call's files, from its link (`recording`) and its archive (`recording_archive`). */
export const mediaFile = (call: Item, kind: MediaKind): MediaFileState => {
  const archive = call[archiveAttribute(kind)];
  if (hasValue(archive))
    return isMediaArchive(archive) ? { state: 'archived', archive } : { state: 'unreadable' };
  return hasValue(call[kind]) ? { state: 'link-only' } : { state: 'absent' };
};

/** An events row's key. */
export interface EventKey {
  readonly pk: string;
  readonly sk: string;
}

/** An event a receipt lists: its row's keys, its account and when it was received. */
export interface ReceivedEntry extends EventKey {
  readonly account: string;
  /** Epoch milliseconds. */
  readonly received_at: number;
}

/** A receipt's entry: `[pk, sk, received_at]`. */
const isEntry = (value: unknown): value is [string, string, number] =>
  Array.isArray(value) &&
  typeof value[0] === 'string' &&
  typeof value[1] === 'string' &&
  typeof value[2] === 'number';

/**
 * The events one account received in [fromMs, toMs] on one UTC day, in order of arrival, a receipt page at a time:
 * one Query of the account's receipts of that day. An event listed twice (its batch was retried) is given once.
 */
export async function* receivedOnDay(
  client: DynamoDBDocumentClient,
  eventsTable: string,
  request: { readonly account: string; readonly day: string; readonly fromMs: number; readonly toMs: number },
): AsyncGenerator<ReceivedEntry[]> {
  const input: QueryCommandInput = {
    TableName: eventsTable,
    // A receipt is keyed by the minute its events arrived in: the first minute of the range holds its start.
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
    ExpressionAttributeValues: {
      ':pk': receiptPartition(request.account, request.day),
      ':from': receiptTime(receiptMinute(request.fromMs)),
      ':to': `${receiptTime(request.toMs)}~`,
    },
  };
  const seen = new Set<string>();
  for await (const page of paginateQuery({ client }, input)) {
    const entries: ReceivedEntry[] = [];
    for (const receipt of page.Items ?? []) {
      const listed: unknown[] = Array.isArray(receipt.events) ? receipt.events : [];
      for (const entry of listed) {
        if (!isEntry(entry)) continue;
        const [pk, sk, receivedAt] = entry;
        if (receivedAt < request.fromMs || receivedAt > request.toMs) continue;
        const key = `${pk}\u0000${sk}`;
        if (seen.has(key)) continue;
        seen.add(key);
        entries.push({ pk, sk, account: request.account, received_at: receivedAt });
      }
    }
    entries.sort((a, b) => a.received_at - b.received_at);
    yield entries;
  }
}

/** Whole events rows by key, in the order of the keys; absent rows (expired, or never stored) are left out. */
export const eventRows = (
  client: DynamoDBDocumentClient,
  eventsTable: string,
  keys: readonly EventKey[],
): Promise<Item[]> =>
  batchGetInOrder(
    client,
    eventsTable,
    keys.map(({ pk, sk }) => ({ pk, sk })),
    (item) => `${String(item.pk)}\u0000${String(item.sk)}`,
  );
