// The persist use case: log the event once, then bring its resource's state up to date.

import { eventDigest } from './digest.js';
import type { EventLog, QueuedEvent, StateStore } from './ports.js';
import { toEventRecord, toStateWrites } from './records.js';

export interface PersistDeps {
  readonly events: EventLog;
  readonly state: StateStore;
  /** Days an event-log row is kept; 0 keeps it for ever. */
  readonly retentionDays: number;
  /** Seconds a timestamp may be ahead of the receive time and still order the state. */
  readonly timestampMarginSeconds: number;
}

export interface PersistOutcome {
  /** False when the same event was already logged: a duplicate delivery. */
  readonly logged: boolean;
  /** State writes applied; the others met newer state. */
  readonly applied: number;
  readonly skipped: number;
}

/**
 * Idempotent: the log write is conditional and every state write is guarded, so running it again
 * for the same event (a duplicate, or a retry after a partial failure) changes nothing.
 */
export const persistEvent = async (event: QueuedEvent, deps: PersistDeps): Promise<PersistOutcome> => {
  const digest = eventDigest(event.envelope);
  const logged = await deps.events.append(toEventRecord(event, digest, deps.retentionDays));
  let applied = 0;
  let skipped = 0;
  for (const write of toStateWrites(event, digest, deps.timestampMarginSeconds)) {
    if (await deps.state.apply(write)) applied += 1;
    else skipped += 1;
  }
  return { logged, applied, skipped };
};
