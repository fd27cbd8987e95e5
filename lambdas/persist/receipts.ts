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
import type { EventRecord, QueuedEvent } from './ports.js';

// A receipt stays far below DynamoDB's 400 KB item limit (about 90 bytes an entry) whatever the batch size.
const MAX_ENTRIES = 500;

export interface ReceivedEvent {
  readonly event: QueuedEvent;
  /** The row the event is logged under. */
  readonly record: Pick<EventRecord, 'pk' | 'sk'>;
}

const digestOf = (entries: readonly ReceiptEntry[]): string => {
  const hash = createHash('sha256');
  for (const entry of entries) hash.update(`${entry.pk}\n${entry.sk}\n${entry.received_at}\n`);
  return hash.digest('hex').slice(0, 16);
};

/**
 * The receipts listing the given events, each entry once. Their expiry is that of the latest row they list, so that
 * a receipt outlives none of its rows by more than a minute and is kept for ever when they are.
 */
export const receiptsOf = (received: readonly ReceivedEvent[], retentionDays: number): Receipt[] => {
  const groups = new Map<string, { account: string; day: string; minute: number; entries: ReceiptEntry[] }>();
  const seen = new Set<string>();
  for (const { event, record } of received) {
    const entry = { pk: record.pk, sk: record.sk, received_at: event.receivedAt };
    const identity = `${event.account}\n${entry.pk}\n${entry.sk}\n${entry.received_at}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const minute = receiptMinute(event.receivedAt);
    const day = utcDay(Math.floor(minute / 1000));
    const key = `${event.account}\n${minute}`;
    const group = groups.get(key) ?? { account: event.account, day, minute, entries: [] };
    group.entries.push(entry);
    groups.set(key, group);
  }
  const receipts: Receipt[] = [];
  for (const { account, day, minute, entries } of groups.values()) {
    entries.sort((a, b) => a.received_at - b.received_at || (a.pk + a.sk < b.pk + b.sk ? -1 : 1));
    for (let start = 0; start < entries.length; start += MAX_ENTRIES) {
      const events = entries.slice(start, start + MAX_ENTRIES);
      const latest = events.at(-1)?.received_at ?? minute;
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
