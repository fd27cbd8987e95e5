// Receipts: the event log's listing of what was received when, kept in the events table beside the rows it lists.
// One receipt per account, UTC day and minute of receipt in each persist batch, instead of an index entry per event.

/** Every receipt's partition key starts with this; an event row's (`<resource>#<id>`) never does. */
export const RECEIPT_PK_PREFIX = 'received#';

/** True for a receipt's partition key, false for an event row's. */
export const isReceiptKey = (pk: string): boolean => pk.startsWith(RECEIPT_PK_PREFIX);
