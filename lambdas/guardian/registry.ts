// The token registry as the guardian sees it: one row per webhook of this stack, keyed by the token's SHA-256.

export interface RegisteredWebhook {
  readonly tokenHash: string;
  readonly account: string;
  /** Absent on rows registered by hand (such as the local development token), which the guardian leaves alone. */
  readonly webhookId?: string;
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

export interface WebhookRegistry {
  /** Writes what Aircall says of a webhook, keeping the row's re-enable history. */
  upsert(snapshot: WebhookSnapshot): Promise<void>;
  recordReenable(tokenHash: string, record: ReenableRecord): Promise<void>;
  /** Every row of one account. */
  listAccount(account: string): Promise<RegisteredWebhook[]>;
  /**
   * Removes a row unless it was written at or after `syncedBefore`: a webhook registered while a pass was
   * running is not in that pass's listing, and must survive it. Without `syncedBefore` the row goes whatever
   * its age. Resolves false when the row was kept.
   */
  remove(tokenHash: string, syncedBefore?: number): Promise<boolean>;
}
