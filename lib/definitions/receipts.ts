// Receipts: the event log's listing of what was received when, kept in the events table beside the rows it lists.
// One receipt per account, UTC day and minute of receipt in each persist batch, instead of an index entry per event:
// a batch of 25 events of one company costs 2 or 3 write units of receipts, where an index costs 25.

import { createHash } from 'node:crypto';
import { DAY_SECONDS, utcDay } from './days.js';
import { accountDay } from './tables.js';

/**
 * Every receipt's partition key starts with this. An event row's (`<resource>#<id>`) never does: a resource is never
 * empty, so no row's key starts with `#`, whatever name an event gives its resource.
 */
export const RECEIPT_PK_PREFIX = '#received#';

/** True for a receipt's partition key, false for an event row's. */
export const isReceiptKey = (pk: string): boolean => pk.startsWith(RECEIPT_PK_PREFIX);

/** The partition of an account's receipts of one UTC day, e.g. `#received#acme#2026-12-01`. */
export const receiptPartition = (account: string, day: string): string =>
  `${RECEIPT_PK_PREFIX}${accountDay(account, day)}`;

export const MINUTE_MS = 60_000;

/** The start of the minute a receipt time falls in, in epoch milliseconds. */
export const receiptMinute = (receivedAtMs: number): number =>
  Math.floor(receivedAtMs / MINUTE_MS) * MINUTE_MS;

/** Epoch milliseconds, padded so that keys sort as times do. */
export const receiptTime = (epochMs: number): string => String(epochMs).padStart(13, '0');

/**
 * A receipt's sort key: the minute its events were received in, then a digest of what it lists, so that the retry
 * of a batch rewrites its own receipt and never another batch's of the same minute.
 */
export const receiptSortKey = (minuteMs: number, digest: string): string =>
  `${receiptTime(minuteMs)}#${digest}`;

/**
 * One event a receipt lists: the keys of its row in the events table, and when ingest received it (epoch
 * milliseconds). A list rather than a map: without a name on each value, 25 entries fit 2 write units, not 3.
 */
export type ReceiptEntry = readonly [pk: string, sk: string, receivedAt: number];

/** A receipt as stored. */
export interface Receipt {
  readonly pk: string;
  readonly sk: string;
  readonly account: string;
  /** Oldest received first. */
  readonly events: readonly ReceiptEntry[];
  /** When the rows it lists expire, in epoch seconds; absent when they are kept for ever. */
  readonly expires_at?: number;
}

// A receipt stays far below DynamoDB's 400 KB item limit, however long the keys it lists (up to 3 KB an entry).
const MAX_RECEIPT_BYTES = 200_000;

/** An event received: whose it is, the keys of its row in the log, and when ingest received it. */
export interface ReceivedEvent {
  readonly account: string;
  readonly pk: string;
  readonly sk: string;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
}

const digestOf = (entries: readonly ReceiptEntry[]): string => {
  const hash = createHash('sha256');
  for (const [pk, sk, receivedAt] of entries) hash.update(`${pk}\n${sk}\n${receivedAt}\n`);
  return hash.digest('hex').slice(0, 16);
};

const entryBytes = ([pk, sk]: ReceiptEntry): number => Buffer.byteLength(pk) + Buffer.byteLength(sk) + 16;

/** The entries cut into runs of at most MAX_RECEIPT_BYTES, in order. */
const bySize = (entries: readonly ReceiptEntry[]): ReceiptEntry[][] => {
  const runs: ReceiptEntry[][] = [];
  let run: ReceiptEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (run.length > 0 && bytes + size > MAX_RECEIPT_BYTES) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(entry);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
};

/**
 * The receipts listing the given events, each entry once. Their expiry is that of the latest row they list, so that
 * a receipt outlives none of its rows by more than a minute and is kept for ever when they are.
 */
export const receiptsOf = (received: readonly ReceivedEvent[], retentionDays: number): Receipt[] => {
  const groups = new Map<string, { account: string; day: string; minute: number; entries: ReceiptEntry[] }>();
  const seen = new Set<string>();
  for (const { account, pk, sk, receivedAt } of received) {
    const entry: ReceiptEntry = [pk, sk, receivedAt];
    const identity = `${account}\n${pk}\n${sk}\n${receivedAt}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const minute = receiptMinute(receivedAt);
    const day = utcDay(Math.floor(minute / 1000));
    const key = `${account}\n${minute}`;
    const group = groups.get(key) ?? { account, day, minute, entries: [] };
    group.entries.push(entry);
    groups.set(key, group);
  }
  const receipts: Receipt[] = [];
  for (const { account, day, minute, entries } of groups.values()) {
    entries.sort((a, b) => a[2] - b[2] || (a[0] + a[1] < b[0] + b[1] ? -1 : 1));
    for (const events of bySize(entries)) {
      const latest = events.at(-1)?.[2] ?? minute;
      receipts.push({
        pk: receiptPartition(account, day),
        sk: receiptSortKey(minute, digestOf(events)),
        account,
        events,
        ...(retentionDays > 0 ? { expires_at: Math.floor(latest / 1000) + retentionDays * DAY_SECONDS } : {}),
      });
    }
  }
  return receipts;
};
