// Reads calls, call histories, users and numbers from the tables: plain functions over a document client, no printing.

import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  paginateScan,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { MediaArchive } from '../lambdas/archive/ports.js';
import { archiveAttribute, type MediaKind } from '../lib/definitions/media.js';
import { decodeItem } from '../lib/definitions/payload.js';
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

// Day partitions queried at once: enough to hide round trips, few enough to stay far from throttling.
const DAY_WINDOW = 8;

const decoded = (item: Item): Item => decodeItem(item) as Item;

export const getCall = async (
  client: DynamoDBDocumentClient,
  callsTable: string,
  id: number,
): Promise<Item | undefined> => {
  const { Item: item } = await client.send(new GetCommand({ TableName: callsTable, Key: { id } }));
  return item === undefined ? undefined : decoded(item);
};

interface IndexQuery {
  readonly table: string;
  readonly index: string;
  readonly partition: { readonly name: string; readonly value: string | number };
  readonly range: TimeRange;
  readonly newestFirst: boolean;
  readonly limit: number | undefined;
  /** Kept items only; a filter makes DynamoDB's own Limit unusable, as it counts items before filtering. */
  readonly keep?: (item: Item) => boolean;
}

/** One index partition between two `started_at` values, every page of it, up to the limit. */
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
  const items: Item[] = [];
  for await (const page of paginateQuery({ client }, input)) {
    const keep = query.keep;
    items.push(...(keep === undefined ? (page.Items ?? []) : (page.Items ?? []).filter(keep)));
    if (query.limit !== undefined && items.length >= query.limit) return items.slice(0, query.limit);
  }
  return items;
};

/** One Query per UTC day, a window of days at a time; days are disjoint in time, so concatenating them keeps the order. */
const queryByDay = async (
  client: DynamoDBDocumentClient,
  base: Omit<IndexQuery, 'partition'> & { readonly partitionName: string },
): Promise<Item[]> => {
  const days = utcDays(base.range);
  if (base.newestFirst) days.reverse();
  const items: Item[] = [];
  for (let i = 0; i < days.length; i += DAY_WINDOW) {
    const remaining = base.limit === undefined ? undefined : base.limit - items.length;
    const pages = await Promise.all(
      days.slice(i, i + DAY_WINDOW).map((day) =>
        queryStartedBetween(client, {
          ...base,
          limit: remaining,
          partition: { name: base.partitionName, value: day },
        }),
      ),
    );
    items.push(...pages.flat());
    if (base.limit !== undefined && items.length >= base.limit) return items.slice(0, base.limit);
  }
  return items;
};

/**
 * Calls started within the range, oldest first unless asked otherwise. Missed calls of one user or
 * number are read from the sparse missed index and filtered by owner here: that index alone knows
 * which calls persist counted as missed.
 */
export const listCalls = (
  client: DynamoDBDocumentClient,
  callsTable: string,
  query: CallQuery,
): Promise<Item[]> => {
  const { selection, range, limit, newestFirst } = query;
  const common = { table: callsTable, range, limit, newestFirst };
  if (query.missed) {
    const owner = selection.by === 'all' ? undefined : { name: `${selection.by}_id`, id: selection.id };
    return queryByDay(client, {
      ...common,
      index: 'missed_by_day',
      partitionName: 'missed_day',
      ...(owner === undefined ? {} : { keep: (item: Item) => item[owner.name] === owner.id }),
    });
  }
  if (selection.by === 'all') {
    return queryByDay(client, { ...common, index: 'by_day', partitionName: 'started_day' });
  }
  const name = `${selection.by}_id`;
  return queryStartedBetween(client, {
    ...common,
    index: `by_${selection.by}`,
    partition: { name, value: selection.id },
  });
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

/**
 * The events received in [fromMs, toMs] on one UTC day, in order of arrival, a page at a time: their keys, account
 * and receive time, as the `by_received_day` index holds them (it projects no payload).
 */
export async function* receivedOnDay(
  client: DynamoDBDocumentClient,
  eventsTable: string,
  day: string,
  range: { readonly fromMs: number; readonly toMs: number },
): AsyncGenerator<Item[]> {
  const input: QueryCommandInput = {
    TableName: eventsTable,
    IndexName: 'by_received_day',
    KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
    ProjectionExpression: '#pk, #sk, #account, #at',
    ExpressionAttributeNames: {
      '#day': 'received_day',
      '#at': 'received_at',
      '#pk': 'pk',
      '#sk': 'sk',
      '#account': 'account',
    },
    ExpressionAttributeValues: { ':day': day, ':from': range.fromMs, ':to': range.toMs },
  };
  for await (const page of paginateQuery({ client }, input)) yield page.Items ?? [];
}

// BatchGetItem takes 100 keys at most.
const BATCH_KEYS = 100;

/** Whole events rows by key, in no particular order, keys DynamoDB left unprocessed asked again; absent rows are left out. */
export const eventRows = async (
  client: DynamoDBDocumentClient,
  eventsTable: string,
  keys: readonly EventKey[],
): Promise<Item[]> => {
  const rows: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_KEYS) {
    let pending: Record<string, unknown>[] = keys
      .slice(start, start + BATCH_KEYS)
      .map(({ pk, sk }) => ({ pk, sk }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      // Unprocessed keys mean the table is throttling: back off before asking again.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)));
      const { Responses = {}, UnprocessedKeys = {} } = await client.send(
        new BatchGetCommand({ RequestItems: { [eventsTable]: { Keys: pending } } }),
      );
      rows.push(...(Responses[eventsTable] ?? []));
      pending = (UnprocessedKeys[eventsTable]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  }
  return rows;
};
