// The token registry as the guardian sees it: one row per webhook of this stack, keyed by the token's SHA-256.

/** `source` of the rows written from what Aircall said of a webhook: the only rows the guardian may remove. */
export const SYNCED_SOURCE = 'aircall';

export interface RegisteredWebhook {
  readonly tokenHash: string;
  readonly account: string;
  /** Absent on rows registered by hand (such as the local development token), which the guardian leaves alone. */
  readonly webhookId?: string;
  /** Who wrote the row: `aircall` when it was synced from Aircall; anything else was registered by hand. */
  readonly source?: string;
  /** Complete listings in a row that lacked the webhook; 0 once a listing shows it again. */
  readonly missingPasses: number;
}

export interface WebhookSnapshot {
  readonly tokenHash: string;
  readonly account: string;
  readonly webhookId: string;
  readonly url: string;
  readonly events: readonly string[];
  readonly active: boolean;
  /** Epoch milliseconds of the read this snapshot comes from. */
  readonly syncedAt: number;
}

export interface ReenableRecord {
  /** Epoch milliseconds of the attempt. */
  readonly at: number;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * What a pass read of a row before it acts on the row's absence. The write only happens while the row is still
 * a synced row (a `webhook_id`, source `aircall`) holding the same `missing_passes`, and was not written at or
 * after `syncedBefore`: a webhook registered, or seen by another pass, while this one ran is not in its listing
 * and must not lose ground for it.
 */
export interface AbsenceGuard {
  readonly missingPasses: number;
  /** Epoch milliseconds the pass started at. */
  readonly syncedBefore: number;
}

export interface WebhookRegistry {
  /**
   * Writes what Aircall says of a webhook, keeping the row's re-enable history; the webhook is seen, so its absence
   * count is 0. Resolves false, writing nothing, when the token's row was registered by hand (another `source`).
   */
  upsert(snapshot: WebhookSnapshot): Promise<boolean>;
  /** Adds a re-enable attempt to a synced row's history. */
  recordReenable(tokenHash: string, record: ReenableRecord): Promise<void>;
  /** Every row of one account. */
  listAccount(account: string): Promise<RegisteredWebhook[]>;
  /** Adds one complete listing to the row's absence count; false when the guard kept the row as it was. */
  countMissing(tokenHash: string, guard: AbsenceGuard, at: number): Promise<boolean>;
  /** Removes a synced row after its last allowed absence; false when the guard kept it. */
  removeMissing(tokenHash: string, guard: AbsenceGuard): Promise<boolean>;
  /** Removes a row whatever it holds: for a webhook just deleted at Aircall by a person. */
  remove(tokenHash: string): Promise<void>;
}
