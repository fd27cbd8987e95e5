// Queue and consumer settings as plain data, shared by the CDK stack and the local stack so the two cannot drift.

export interface PersistSettings {
  /** Lambda timeout of the persist function. */
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Records handed to one invocation. */
  readonly batchSize: number;
  /** How long the event source waits to fill a batch. */
  readonly maxBatchingWindowSeconds: number;
  /**
   * Concurrent invocations at most: the ceiling on write pressure against the tables. The function reserves as
   * many, so that other functions of the account never take them and a poll is never throttled.
   */
  readonly maxConcurrency: number;
}

export interface QueueSettings {
  /** At least six times the consumer's timeout, as AWS recommends for Lambda event sources. */
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  readonly maxMessageSizeBytes: number;
  /**
   * Receives before a message moves to the dead-letter queue. A failed receive comes back after the visibility
   * timeout, so receives times visibility is how long an outage may last before its messages leave the queue.
   */
  readonly maxReceiveCount: number;
  readonly deadLetterRetentionSeconds: number;
}

const HOUR = 60 * 60;
const DAY = 24 * HOUR;

/**
 * The least outage of what a consumer depends on (DynamoDB, S3, a media host, Lambda capacity) that leaves its
 * messages waiting in their queue: receives times visibility timeout is at least this, for the events and media queues.
 */
export const OUTAGE_TOLERANCE_SECONDS = 2 * HOUR;

export const PERSIST: PersistSettings = {
  timeoutSeconds: 30,
  // Persist waits on DynamoDB far more than it computes (about 0.3 ms of CPU an event: parse, digest, compress,
  // sign), and a batch of 25 at the payload cap is under 2 MB: 256 MB bills half the GB-seconds of 512 for a batch
  // whose length is its round trips.
  memorySize: 256,
  batchSize: 25,
  maxBatchingWindowSeconds: 1,
  // Reserved as well: an account-wide Lambda throttle (another function's flood) never takes persist's five.
  maxConcurrency: 5,
};

export const EVENTS_QUEUE: QueueSettings = {
  // Six persist timeouts (3 minutes): a record failed in an outage is tried again within 3 minutes of its end.
  visibilityTimeoutSeconds: 6 * PERSIST.timeoutSeconds,
  // Four days: a persist that receives nothing at all (a broken deployment, its event source disabled) over a long
  // weekend loses nothing. Below the dead-letter queue's 14 days, since a dead letter keeps its first enqueue time.
  retentionSeconds: 4 * DAY,
  // The SQS maximum. A webhook body larger than this cannot be enqueued and is answered 413.
  maxMessageSizeBytes: 1_048_576,
  // 40 receives 3 minutes apart: two hours of DynamoDB throttling or outage leave the events waiting in the queue,
  // not in the dead-letter queue. An event no retry can store is sent there by persist on its first receive.
  maxReceiveCount: 40,
  // The SQS maximum, so an operator has two weeks to inspect and redrive.
  deadLetterRetentionSeconds: 14 * DAY,
};

/** Message attributes the ingest function sets on every enqueued event. */
export const MESSAGE_ATTRIBUTES = {
  account: 'account',
  receivedAt: 'received_at',
  /**
   * The id of the request that brought the event (API Gateway's request id): carried from ingest through the queue
   * into persist's logs, and on to the media job and the archive's logs, so one event can be followed end to end.
   */
  correlationId: 'correlation_id',
} as const;

/**
 * Message attributes persist adds when it moves a record to the dead-letter queue itself, on a failure retrying
 * cannot mend: why (short text, never the payload) and when (epoch milliseconds).
 */
export const DEAD_LETTER_ATTRIBUTES = {
  failureReason: 'failure_reason',
  failedAt: 'failed_at',
} as const;

/**
 * Seconds an event's `timestamp` may be ahead of its receive time and still order the state: beyond it, the event
 * is ordered by its receive time, so that a timestamp from the future cannot outrank the events after it.
 */
export const DEFAULT_TIMESTAMP_MARGIN_SECONDS = 300;

/**
 * The cap on an event's `data` (`maxPayloadBytes`): larger, as JSON text or as DynamoDB encodes it, is answered 413.
 * A call item holds its data, the summary attributes copied out of it and up to eight inline insights (each at
 * most 16,000 bytes of JSON, so at most twice that encoded), which together stay inside DynamoDB's 400 KB item only
 * while the cap is at most 64 KiB: it may be lowered, never raised (test/unit/item-size.test.ts builds the worst).
 */
export const PAYLOAD_CAP = {
  defaultBytes: 65_536,
  /** The largest event Aircall sends is about 4.5 KB; a cap below this would refuse real events. */
  minBytes: 8_192,
  maxBytes: 65_536,
} as const;

/** Environment variable names the handlers read. */
export const ENV = {
  eventsQueueUrl: 'EVENTS_QUEUE_URL',
  eventRetentionDays: 'EVENT_RETENTION_DAYS',
  /** Persist's margin for timestamps ahead of the receive time, in seconds. */
  timestampMarginSeconds: 'TIMESTAMP_MARGIN_SECONDS',
  /** Where persist sends a record it can never store, at once rather than after every retry. */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  tokenCacheSeconds: 'TOKEN_CACHE_SECONDS',
  /**
   * The one path ingest answers, set only behind a function URL, which routes nothing: any other path is answered
   * 404 there, as the HTTP API answers it. Unset, the HTTP API routes (its rawPath may carry a custom domain's
   * mapping key, so ingest does not check it again).
   */
  webhookRoutePath: 'WEBHOOK_ROUTE_PATH',
  /** Ingest's cap on an event's `data`, in bytes: larger is answered 413. */
  maxPayloadBytes: 'MAX_PAYLOAD_BYTES',
  /** Name or ARN of the Secrets Manager secret holding the Aircall credentials; never the credentials. */
  aircallSecretId: 'AIRCALL_SECRET_ID',
  /** Every webhook URL of this stack, as registered at Aircall, comma-separated: the API's own and any custom domain. */
  webhookUrls: 'WEBHOOK_URLS',
  aircallApiUrl: 'AIRCALL_API_URL',
  /** Where persist sends a media job for each recording or voicemail not archived yet; absent, none is sent. */
  mediaQueueUrl: 'MEDIA_QUEUE_URL',
} as const;

/** The Aircall Public API, unless told otherwise (the simulator, in development and tests). */
export const AIRCALL_API_URL = 'https://api.aircall.io/v1';

/** The guardian's settings. */
export const GUARDIAN = {
  /**
   * A pass re-enables webhooks and then reads the gaps they left: at 120 requests a minute, about 4 minutes read
   * some 24,000 calls; what is left is read by the next pass, from its cursor. Below the 5-minute schedule, and one
   * pass at a time (reserved concurrency 1).
   */
  timeoutSeconds: 270,
  memorySize: 256,
  /** Spacing of Aircall API calls: 120 a minute is the documented limit per company. */
  minRequestIntervalMs: 500,
  /** How long a read of the credentials secret is reused. */
  secretCacheSeconds: 300,
  /** Complete listings in a row that must lack a webhook before the guardian removes its registry row. */
  removeAfterMissingPasses: 3,
} as const;
