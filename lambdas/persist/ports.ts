// What the persist use case needs from storage, as interfaces its tests fake.

import type { ExactInteger } from '../../lib/definitions/json.js';
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
}

/** One row of the event log: keys plus plain attributes. */
export interface EventRecord {
  readonly pk: string;
  readonly sk: string;
  readonly attributes: Readonly<Record<string, StoredValue>>;
}

/**
 * A guarded upsert: applied only when the order key stored at `guard` is absent or lower than
 * `orderKey`, so that an older or repeated event never replaces newer state.
 */
export interface StateWrite {
  readonly table: StateTableName;
  readonly id: number;
  /** Attribute path of the stored order key, e.g. `['order_key']` or `['transcription', 'order_key']`. */
  readonly guard: readonly string[];
  readonly orderKey: string;
  readonly set: Readonly<Record<string, StoredValue>>;
  readonly remove: readonly string[];
}

export interface EventLog {
  /** Stores the record unless one with the same keys exists; resolves false for a duplicate. */
  append(record: EventRecord): Promise<boolean>;
}

export interface StateStore {
  /** Applies the write if its guard holds; resolves false when newer state is already stored. */
  apply(write: StateWrite): Promise<boolean>;
}

export type { AircallEnvelope };
