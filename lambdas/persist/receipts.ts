// The receipts of a batch: which events it brought, grouped by account, UTC day and minute of receipt.

import { createHash } from 'node:crypto';
import { DAY_SECONDS, utcDay } from '../../lib/definitions/days.js';
import {
  type Receipt,
  type ReceiptEntry,
  receiptMinute,
  receiptPartition,
  receiptSortKey,
} from '../../lib/definitions/receipts.js';

// A receipt stays far below DynamoDB's 400 KB item limit (about 90 bytes an entry) whatever the batch size.
const MAX_ENTRIES = 500;

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
    for (let start = 0; start < entries.length; start += MAX_ENTRIES) {
      const events = entries.slice(start, start + MAX_ENTRIES);
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
