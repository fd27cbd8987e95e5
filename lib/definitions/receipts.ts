// Receipts: the event log's listing of what was received when, kept in the events table beside the rows it lists.
// One receipt per account, UTC day and minute of receipt in each persist batch, instead of an index entry per event:
// a batch of 25 events of one company costs 2 or 3 write units of receipts, where an index costs 25.

import { accountDay } from './tables.js';

/** Every receipt's partition key starts with this; an event row's (`<resource>#<id>`) never does. */
export const RECEIPT_PK_PREFIX = 'received#';

/** True for a receipt's partition key, false for an event row's. */
export const isReceiptKey = (pk: string): boolean => pk.startsWith(RECEIPT_PK_PREFIX);

/** The partition of an account's receipts of one UTC day, e.g. `received#acme#2026-12-01`. */
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
