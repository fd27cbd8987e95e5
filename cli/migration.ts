// Copies a first-layout calls or events table into the second layout's: a parallel Scan, each page upgraded, compared
// with what the destination holds, and written under guards that keep whatever newer state persist wrote there since
// the deploy; the event rows copied are listed by receipts first. What is there already costs a read, not a write.

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ReceiptLog } from '../lambdas/persist/ports.js';
import { batchGetByKey } from './batch-get.js';
import { type CallPart, callParts, partApplies, partUpdate } from './call-merge.js';
import {
  type CopiedRow,
  type Item,
  isExpired,
  receiptsOfRows,
  receivedEvent,
  upgradeCall,
  upgradeEventRow,
} from './upgrade.js';

export type MigratedTable = 'calls' | 'events';

/** An item not copied, named by its key; the reason is DynamoDB's or the upgrade's, never the item's content. */
export interface FailedItem {
  readonly table: MigratedTable;
  readonly key: string;
  readonly reason: string;
}

export interface CallsTally {
  scanned: number;
  /** Put whole, or merged part by part into the item persist wrote since the deploy. */
  written: number;
  /** Already in the destination at that state or a newer one: nothing of it written. */
  kept: number;
  failed: number;
}

export interface EventsTally {
  scanned: number;
  written: number;
  /** Already in the destination: persist's copy of the same event, or an earlier run's. */
  present: number;
  /** Past their `expires_at`: not copied. */
  expired: number;
  failed: number;
  /** Receipts written: they list the rows written, and only those. */
  receipts: number;
}

export interface CopyOptions {
  readonly client: DynamoDBDocumentClient;
  readonly from: string;
  readonly to: string;
  readonly segments: number;
  /** Reads the source and the destination and writes nothing: the counts are then what a run would write. */
  readonly dryRun: boolean;
  /** After each page of the scan, the items scanned so far. */
  readonly onScanned: (scanned: number) => void;
  readonly onFailure: (failure: FailedItem) => void;
  /** Makes each account copied known in the accounts table, where listings of every account find it. */
  readonly accounts?: { ensure(accounts: Iterable<string>): Promise<void> };
}

/** The accounts of the items about to be written. */
const accountsOf = (items: readonly Item[]): string[] =>
  items.flatMap((item) => (typeof item.account === 'string' ? [item.account] : []));

export interface EventsCopyOptions extends CopyOptions {
  /** Rows whose `expires_at` is before this (epoch seconds) are skipped. */
  readonly nowSeconds: number;
  readonly receipts: ReceiptLog;
}

type Outcome = 'written' | 'kept' | 'present' | 'failed';

// Writes in flight per segment: with the default four segments, a hundred at once, which an on-demand table takes.
const WRITES_AT_ONCE = 25;
// DynamoDB's messages name limits and placeholders, not values; cut short all the same.
const REASON_CHARS = 200;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

const reasonOf = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, REASON_CHARS);

/**
 * Runs `each` on every page of a parallel Scan, each segment's pages in turn. The first error stops every segment
 * before its next page and is thrown once all have stopped, so that no write goes on behind a run that failed.
 */
const scanPages = async (
  client: DynamoDBDocumentClient,
  table: string,
  segments: number,
  each: (items: Item[]) => Promise<void>,
): Promise<void> => {
  let stopped = false;
  const results = await Promise.allSettled(
    Array.from({ length: segments }, async (_, segment) => {
      try {
        const pages = paginateScan(
          { client },
          { TableName: table, Segment: segment, TotalSegments: segments },
        );
        for await (const page of pages) {
          if (stopped) return;
          await each(page.Items ?? []);
        }
      } catch (error) {
        stopped = true;
        throw error;
      }
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
};

/** Maps the items a few at a time: a page is up to 1 MB of items, too many to send at once. */
const mapInChunks = async <T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += WRITES_AT_ONCE)
    results.push(...(await Promise.all(items.slice(start, start + WRITES_AT_ONCE).map(each))));
  return results;
};

/** Upgrades each item, reporting those that cannot be; undefined in their place. */
const upgradeEach = (
  items: readonly Item[],
  upgrade: (item: Item) => Item,
  fail: (item: Item, error: unknown) => void,
): (Item | undefined)[] =>
  items.map((item) => {
    try {
      return upgrade(item);
    } catch (error) {
      fail(item, error);
      return undefined;
    }
  });

const callKey = (item: Item): string => `id ${String(item.id)}`;

/**
 * What writing a call changes, given the destination's item as read: all of it when there is none, else the parts
 * that beat what is there (call-merge.ts). A dry run stops here; a run sends them, each under its guard.
 */
const callPlan = (call: Item, stored: Item | undefined): { put: boolean; parts: CallPart[] } => {
  if (stored === undefined) return { put: true, parts: [] };
  const { account } = call;
  if (typeof account !== 'string') return { put: false, parts: [] };
  return { put: false, parts: callParts(call).filter((part) => partApplies(part, account, stored)) };
};

/** Sends the parts, each under its guard; true when one was applied. */
const mergeCall = async (
  client: DynamoDBDocumentClient,
  table: string,
  call: Item,
  parts: readonly CallPart[],
): Promise<boolean> => {
  const { account } = call;
  if (typeof account !== 'string') return false;
  let merged = false;
  for (const part of parts) {
    try {
      await client.send(
        new UpdateCommand({ TableName: table, Key: { id: call.id }, ...partUpdate(part, account) }),
      );
      merged = true;
    } catch (error) {
      // Persist wrote newer since the read: what is there stays.
      if (!isConditionFailure(error)) throw error;
    }
  }
  return merged;
};

/**
 * Puts a call the destination lacked when read, or merges the parts of one it held. The guards are those of the
 * plan, so that persist writing the call between the read and the write is never overwritten: a put that finds the
 * call there is merged part by part instead.
 */
const writeCall = async (
  client: DynamoDBDocumentClient,
  table: string,
  call: Item,
  plan: { put: boolean; parts: CallPart[] },
): Promise<Outcome> => {
  if (plan.put) {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: call,
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
      return 'written';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return (await mergeCall(client, table, call, callParts(call))) ? 'written' : 'kept';
  }
  return (await mergeCall(client, table, call, plan.parts)) ? 'written' : 'kept';
};

export const copyCalls = async (options: CopyOptions): Promise<CallsTally> => {
  const { client, to } = options;
  const tally: CallsTally = { scanned: 0, written: 0, kept: 0, failed: 0 };
  const fail = (item: Item, error: unknown): void => {
    tally.failed += 1;
    options.onFailure({ table: 'calls', key: callKey(item), reason: reasonOf(error) });
  };
  await scanPages(client, options.from, options.segments, async (items) => {
    tally.scanned += items.length;
    options.onScanned(tally.scanned);
    const calls = upgradeEach(items, upgradeCall, fail).filter((call) => call !== undefined);
    if (!options.dryRun) await options.accounts?.ensure(accountsOf(calls));
    // Read first: a call already copied costs a read, not a refused write, and a dry run predicts from the same plan.
    const stored = await batchGetByKey(
      client,
      to,
      calls.map((call) => ({ id: call.id })),
      callKey,
    );
    const outcomes = await mapInChunks(calls, async (call): Promise<Outcome> => {
      const current = stored.get(callKey(call));
      // Another account wrote the id since the deploy: copying is refused as persist would refuse it, and the owner
      // must hear of it, not find the call counted as kept.
      if (current !== undefined && current.account !== call.account) {
        fail(
          call,
          new Error(
            `the new table's item belongs to account ${String(current.account)}, not ${String(call.account)}`,
          ),
        );
        return 'failed';
      }
      const plan = callPlan(call, current);
      if (!plan.put && plan.parts.length === 0) return 'kept';
      if (options.dryRun) return 'written';
      return writeCall(client, to, call, plan).catch((error: unknown): Outcome => {
        fail(call, error);
        return 'failed';
      });
    });
    for (const outcome of outcomes) {
      if (outcome === 'written') tally.written += 1;
      else if (outcome === 'kept') tally.kept += 1;
    }
  });
  return tally;
};

const rowKey = (item: Item): string => `pk ${String(item.pk)} sk ${String(item.sk)}`;

const putRow = async (client: DynamoDBDocumentClient, table: string, row: Item): Promise<Outcome> => {
  try {
    await client.send(
      new PutCommand({
        TableName: table,
        Item: row,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk' },
      }),
    );
    return 'written';
  } catch (error) {
    if (isConditionFailure(error)) return 'present';
    throw error;
  }
};

const copiedRow = (row: Item): CopiedRow[] => {
  const received = receivedEvent(row);
  if (received === undefined) return [];
  return [{ received, expiresAt: typeof row.expires_at === 'number' ? row.expires_at : undefined }];
};

/**
 * Copies a page of rows: those the destination holds are left alone (persist or an earlier run wrote them, and
 * listed them first); the others are listed by receipts, then put. Receipts first, as persist writes them: a
 * receipt whose row is not there yet is skipped by its readers, while a row no receipt lists is in no listing.
 */
export const copyEvents = async (options: EventsCopyOptions): Promise<EventsTally> => {
  const { client, to } = options;
  const tally: EventsTally = { scanned: 0, written: 0, present: 0, expired: 0, failed: 0, receipts: 0 };
  const fail = (item: Item, error: unknown): void => {
    tally.failed += 1;
    options.onFailure({ table: 'events', key: rowKey(item), reason: reasonOf(error) });
  };
  await scanPages(client, options.from, options.segments, async (items) => {
    tally.scanned += items.length;
    options.onScanned(tally.scanned);
    const live = items.filter((item) => !isExpired(item, options.nowSeconds));
    tally.expired += items.length - live.length;
    const rows = upgradeEach(live, upgradeEventRow, fail).filter((row) => row !== undefined);
    if (!options.dryRun) await options.accounts?.ensure(accountsOf(rows));
    const stored = await batchGetByKey(
      client,
      to,
      rows.map(({ pk, sk }) => ({ pk, sk })),
      rowKey,
      ['pk', 'sk'],
    );
    const absent = rows.filter((row) => !stored.has(rowKey(row)));
    tally.present += rows.length - absent.length;
    const receipts = receiptsOfRows(absent.flatMap(copiedRow));
    if (!options.dryRun) await options.receipts.write(receipts);
    tally.receipts += receipts.length;
    const outcomes = options.dryRun
      ? absent.map((): Outcome => 'written')
      : await mapInChunks(absent, (row) =>
          putRow(client, to, row).catch((error: unknown): Outcome => {
            fail(row, error);
            return 'failed';
          }),
        );
    for (const outcome of outcomes) {
      if (outcome === 'written') tally.written += 1;
      else if (outcome === 'present') tally.present += 1;
    }
  });
  return tally;
};
