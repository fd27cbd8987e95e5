// The persist use case: log the event once, then bring its resource's state up to date.

import { eventDigest } from '../shared/digest.js';
import { mediaJobsOf, probeArchives } from './media-jobs.js';
import type { EventLog, MediaJob, MediaJobQueue, QueuedEvent, StateStore, StateTarget } from './ports.js';
import { toEventRecord, toStateWrites } from './records.js';

export interface PersistDeps {
  readonly events: EventLog;
  readonly state: StateStore;
  /** Days an event-log row is kept; 0 keeps it for ever. */
  readonly retentionDays: number;
  /** Seconds a timestamp may be ahead of the receive time and still order the state. */
  readonly timestampMarginSeconds: number;
  /** Where recordings and voicemails go to be archived; absent, none is. */
  readonly mediaJobs?: MediaJobQueue;
}

export interface PersistOutcome {
  /** False when the same event was already logged: a duplicate delivery. */
  readonly logged: boolean;
  /** State writes applied. */
  readonly applied: number;
  /** State writes that met newer state of the same account. */
  readonly stale: number;
  /** State writes refused because the item belongs to another account. */
  readonly foreign: number;
  /** The items of those refused writes. */
  readonly refused: readonly StateTarget[];
  /** Write units the store reported for this event's writes; undefined when it reported none. */
  readonly writeUnits?: number;
  /** Recordings and voicemails handed to the archive. */
  readonly mediaJobs: number;
}

const addUnits = (total: number | undefined, units: number | undefined): number | undefined =>
  units === undefined ? total : (total ?? 0) + units;

/**
 * Idempotent: the log write is conditional and every state write is guarded, so running it again
 * for the same event (a duplicate, or a retry after a partial failure) changes nothing. The event is
 * logged under the account it came from even when its state writes are refused: the log records what
 * was received.
 */
export const persistEvent = async (
  event: QueuedEvent,
  deps: PersistDeps,
  // A caller that has hashed the event already (the handler, for the batch's receipts) passes the digest on.
  digest: string = eventDigest(event.envelope, event.account),
): Promise<PersistOutcome> => {
  const appended = await deps.events.append(toEventRecord(event, digest, deps.retentionDays));
  let writeUnits = appended.writeUnits;
  let applied = 0;
  let stale = 0;
  const refused: StateTarget[] = [];
  const jobs: MediaJob[] = [];
  for (const planned of toStateWrites(event, digest, deps.timestampMarginSeconds)) {
    const write = deps.mediaJobs === undefined ? planned : probeArchives(planned);
    const result = await deps.state.apply(write);
    if (deps.mediaJobs !== undefined) jobs.push(...mediaJobsOf(write, result));
    writeUnits = addUnits(writeUnits, result.writeUnits);
    if (result.outcome === 'applied') applied += 1;
    else if (result.outcome === 'stale') stale += 1;
    else refused.push({ table: write.table, id: write.id });
  }
  // After the call is written, so that the archive finds it; a failure here fails the event, whose retry sends again.
  if (jobs.length > 0) await deps.mediaJobs?.send(jobs, event.correlationId);
  return {
    logged: appended.stored,
    applied,
    stale,
    foreign: refused.length,
    refused,
    ...(writeUnits === undefined ? {} : { writeUnits }),
    mediaJobs: jobs.length,
  };
};
