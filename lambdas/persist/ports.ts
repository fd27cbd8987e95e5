// What the persist use case needs from storage, and what its handler needs from the dead-letter queue, as
// interfaces its tests fake.

import type { ExactInteger } from '../../lib/definitions/json.js';
import type { MediaJob, MediaKind } from '../../lib/definitions/media.js';
import type { Receipt } from '../../lib/definitions/receipts.js';
import type { StateTableName } from '../../lib/definitions/tables.js';
import type { AircallEnvelope } from '../shared/envelope.js';

/** A value DynamoDB can store as an attribute. */
export type StoredValue =
  | string
  | number
  | ExactInteger
  | boolean
  | Uint8Array
  | StoredValue[]
  | { [key: string]: StoredValue }
  | null;

export interface QueuedEvent {
  readonly envelope: AircallEnvelope;
  readonly account: string;
  /** Epoch milliseconds when ingest accepted the request. */
  readonly receivedAt: number;
  /** The id of the request that brought it, for the logs; absent on what reconcile or a replay queued. */
  readonly correlationId?: string;
}

/** One row of the event log: keys plus plain attributes. */
export interface EventRecord {
  readonly pk: string;
  readonly sk: string;
  readonly attributes: Readonly<Record<string, StoredValue>>;
}

/**
 * A guarded upsert: applied only when the item is absent or belongs to `account`, and the order key stored at
 * `guard` is absent or lower than `orderKey`, so that neither another account nor an older or repeated event
 * ever replaces the state.
 */
/** An Aircall id: a number, or the exact digits of one beyond 2^53, which DynamoDB keys exactly. */
export type ItemId = number | ExactInteger;

export interface StateWrite {
  readonly table: StateTableName;
  readonly id: ItemId;
  /** The account the event came from: the only one that may create or change the item. */
  readonly account: string;
  /** Attribute path of the stored order key, e.g. `['order_key']` or `['transcription', 'order_key']`. */
  readonly guard: readonly string[];
  readonly orderKey: string;
  readonly set: Readonly<Record<string, StoredValue>>;
  readonly remove: readonly string[];
  /**
   * Attributes the caller wants to know the item holds, whatever the outcome: after an applied write, or as they
   * stood when the write was stale. Absent, the store reads nothing back.
   */
  readonly probe?: readonly string[];
  /** A call's recording and voicemail links as sent, signed: not stored plain, but what the archive downloads. */
  readonly media?: Readonly<Partial<Record<MediaKind, string>>>;
}

/** Where a state item of one table stands. */
export interface StateTarget {
  readonly table: StateTableName;
  readonly id: ItemId;
}

/** What became of a state write: stored, beaten by newer state, or refused because another account owns the item. */
export type StateOutcome = 'applied' | 'stale' | 'foreign';

/** Write units are those the store reported; undefined when it reported none (a refused write reports none). */
export interface StateResult {
  readonly outcome: StateOutcome;
  readonly writeUnits?: number;
  /** Of the write's `probe` attributes, those the item holds; absent when the write asked for none. */
  readonly present?: readonly string[];
}

export interface AppendResult {
  /** False when a row with the same keys was already there: a duplicate delivery. */
  readonly stored: boolean;
  readonly writeUnits?: number;
}

export interface EventLog {
  /** Stores the record unless one with the same keys exists. */
  append(record: EventRecord): Promise<AppendResult>;
}

export interface StateStore {
  /** Applies the write if the item is the account's and its guard holds, and says what happened. */
  apply(write: StateWrite): Promise<StateResult>;
}

/**
 * The store refused a write for good (an item too large, a key too long, a number out of range): the same write
 * will be refused on every retry. The message says why, never with the payload.
 */
export class RejectedWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RejectedWriteError';
  }
}

/** Where persist hands a recording or voicemail to the archive. */
export interface MediaJobQueue {
  /** Resolves once every job is queued; rejects otherwise, so that the event is retried. */
  send(jobs: readonly MediaJob[], correlationId?: string): Promise<void>;
}

export type { DeadLetter, DeadLetterQueue, LetterAttribute } from '../shared/dead-letters.js';
export type { AircallEnvelope, MediaJob };

/** Where a batch's receipts are kept: what lists the events received in a time range. */
export interface ReceiptLog {
  /** Resolves once every receipt is stored; rejects otherwise, and then the batch is retried. */
  write(receipts: readonly Receipt[]): Promise<void>;
}
