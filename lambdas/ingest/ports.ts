// What the ingest use case needs from the outside world, as interfaces its tests fake.

export interface RegisteredWebhook {
  /** The Aircall account (company) the webhook belongs to. */
  readonly account: string;
  /** The SHA-256 of the token, as stored in the registry. */
  readonly tokenHash: string;
}

export interface TokenRegistry {
  /** The webhook whose token hashes to `tokenHash`, or undefined when none does. */
  find(tokenHash: string): Promise<RegisteredWebhook | undefined>;
}

export interface QueuedWebhook {
  readonly body: string;
  readonly account: string;
  /** Epoch milliseconds when the request reached the stack. */
  readonly receivedAt: number;
  /** The request's id, for the logs downstream. */
  readonly correlationId?: string;
}

export interface EventQueue {
  /** Resolves once the message is durably stored; rejects after the adapter's bounded retries. */
  send(message: QueuedWebhook): Promise<void>;
}

export interface Clock {
  now(): number;
}
