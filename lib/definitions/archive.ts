// The archive's settings as plain data: the consumer, its queue, the media bucket's lifecycle and the config bounds.
import type { QueueSettings } from './pipeline.js';

export interface ArchiveSettings {
  /** Lambda timeout of the archive function: one large recording streamed from Aircall into S3. */
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Media jobs handed to one invocation: few, since each may take minutes. */
  readonly batchSize: number;
  /** Concurrent invocations at most, unless configured (`archiveConcurrency`): the ceiling on downloads at once. */
  readonly maxConcurrency: number;
}

/** The variables only the archive reads; the table, secret and API URL use the names the other functions use. */
export const ARCHIVE_ENV = {
  mediaBucket: 'MEDIA_BUCKET',
  /** Where a job no retry can archive goes at once, with its `failure_reason`. */
  mediaDeadLetterQueueUrl: 'MEDIA_DEAD_LETTER_QUEUE_URL',
  /** Comma-separated `scheme://host[:port]` origins (`*.host` for subdomains); absent: Aircall's media hosts. */
  allowedOrigins: 'MEDIA_ALLOWED_ORIGINS',
  mediaMaxBytes: 'MEDIA_MAX_BYTES',
} as const;

const DAY = 24 * 60 * 60;

export const ARCHIVE: ArchiveSettings = {
  timeoutSeconds: 300,
  memorySize: 512,
  batchSize: 2,
  // Reserved as well (as `archiveConcurrency` when configured): an account-wide Lambda throttle never takes them.
  maxConcurrency: 2,
};

export const MEDIA_QUEUE: QueueSettings = {
  // Six archive timeouts (30 minutes).
  visibilityTimeoutSeconds: 6 * ARCHIVE.timeoutSeconds,
  // Longer than a weekend outage; an expired link is refreshed through the Public API, so old jobs stay useful.
  retentionSeconds: 4 * DAY,
  // A media job is an account, a call id, a kind and one presigned link: a few kilobytes at most.
  maxMessageSizeBytes: 262_144,
  // 8 receives 30 minutes apart: four hours of an S3 or media-host outage leave the jobs waiting in the queue. A job
  // no retry can archive (a 404, a file too large, an expired link without credentials) is dead-lettered at once.
  maxReceiveCount: 8,
  // The SQS maximum, so an operator has two weeks to inspect and redrive.
  deadLetterRetentionSeconds: 14 * DAY,
};

export const MEDIA_BUCKET = {
  /**
   * Days an overwritten or deleted recording stays restorable as a noncurrent version: long enough to notice a bad
   * archive run or a mistaken delete and restore it, short enough not to pay for every superseded copy forever.
   */
  noncurrentVersionExpirationDays: 30,
  /** An upload the archive gave up on (a timeout mid-stream) leaves parts that are billed until aborted. */
  abortIncompleteMultipartUploadDays: 1,
  /** Days the server access logs are kept: a year of who read or changed which recording. */
  accessLogExpirationDays: 365,
} as const;

/** Bounds of `maxMediaBytes`, the largest recording or voicemail the archive downloads. */
export const MEDIA_SIZE_CAP = {
  /** About nine hours of a 128 kbit/s MP3: no real call is longer. */
  defaultBytes: 512 * 1024 * 1024,
  minBytes: 1024 * 1024,
  /** Beyond this a download cannot be trusted to finish within the archive's timeout. */
  maxBytes: 2 * 1024 * 1024 * 1024,
} as const;

/**
 * Bounds of `archiveConcurrency`: few enough to stay well inside Aircall's limits. The least is 2, not 1, because
 * an SQS event source's maximum concurrency cannot be set below 2.
 */
export const ARCHIVE_CONCURRENCY = { min: 2, max: 10 } as const;

// `scheme://host[:port]`, optionally `*.host`: the shape the archive's allow-list parser accepts, which stays the
// authority on each entry (it also refuses numeric-looking names and single-label wildcards) when the Lambda starts.
const ORIGIN = /^https?:\/\/(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

/** Whether a text has the shape of an allow-list origin (no path, no credentials, no comma or space). */
export const isOriginLike = (text: string): boolean => ORIGIN.test(text);
