// The archive use case: one media job's file downloaded from Aircall's link to scratch disk, stored in the bucket with
// its SHA-256, then recorded on its call.

import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import { archiveAttribute, type MediaJob, mediaObjectKey } from '../../lib/definitions/media.js';
import { ArchiveError, MediaForbiddenError, MediaTooLargeError } from './errors.js';
import { isExpired } from './media-link.js';
import {
  type AircallCalls,
  type CallArchiveStore,
  type MediaArchive,
  type MediaDownload,
  type MediaSource,
  type ObjectStore,
  type Scratch,
  type ScratchFile,
  UnarchivableMediaError,
} from './ports.js';

export interface ArchiveDeps {
  readonly calls: CallArchiveStore;
  readonly media: MediaSource;
  readonly objects: ObjectStore;
  /** Where a download is kept until it is stored: its length and SHA-256 are known before the upload starts. */
  readonly scratch: Scratch;
  readonly aircall: AircallCalls;
  /**
   * Seconds a job holds the lease on the file it downloads: longer than one attempt may run, so that a lease never
   * runs out under a live download, and shorter than the queue's retry delay, so that the retry of a job that died
   * finds it run out.
   */
  readonly leaseSeconds: number;
  /** Largest file archived, in bytes; the media source checks it too, this holds whatever source is given. */
  readonly maxBytes: number;
  /** Epoch milliseconds: tells an expired link before it is tried, and stamps `archived_at`. */
  readonly now: () => number;
}

export type ArchiveOutcome =
  | { readonly status: 'archived'; readonly archive: MediaArchive; readonly refreshed: boolean }
  /** Already recorded on the call, before this job or by a concurrent one: nothing was recorded again. */
  | { readonly status: 'already-archived'; readonly downloaded: boolean }
  /** Another job of the same file holds its lease: nothing was downloaded, and that job sees the file through. */
  | { readonly status: 'in-progress' };

/** A link with its query string, which is a credential, left out: what a message or a log line may show. */
export const linkForLog = (url: string): string => {
  if (!URL.canParse(url)) return '(not a URL)';
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
};

const describe = (job: MediaJob): string => `the ${job.kind} of call ${job.callId}`;

/** A failure of the download that no retry of this job can mend becomes an UnarchivableMediaError. */
const classify = (error: unknown, job: MediaJob): unknown =>
  error instanceof ArchiveError && !error.retriable
    ? new UnarchivableMediaError(`${describe(job)} cannot be downloaded: ${error.message}`, { cause: error })
    : error;

/** The link `GET /v1/calls/:id` signs anew, or an UnarchivableMediaError saying why there is none. */
const freshLink = async (job: MediaJob, deps: ArchiveDeps, why: string): Promise<string> => {
  const lookup = await deps.aircall.getCall(job.account, job.callId);
  switch (lookup.status) {
    case 'no-credentials':
      throw new UnarchivableMediaError(
        `${why}, and no Aircall credentials are configured for account ${job.account} to refresh it`,
      );
    case 'refused':
      throw new UnarchivableMediaError(
        `${why}, and Aircall refused the credentials of account ${job.account} when asked for a fresh link`,
      );
    case 'not-found':
      throw new UnarchivableMediaError(`${why}, and Aircall no longer has call ${job.callId}`);
    case 'found': {
      const link = lookup.call[job.kind];
      if (typeof link !== 'string' || link === '')
        throw new UnarchivableMediaError(`${why}, and call ${job.callId} no longer has a ${job.kind}`);
      return link;
    }
  }
};

/** Starts a download, with a failure no retry can mend classified as such. */
const downloadOnce = async (url: string, job: MediaJob, deps: ArchiveDeps): Promise<MediaDownload> => {
  try {
    return await deps.media.download(url);
  } catch (error) {
    throw classify(error, job);
  }
};

/** Starts the download, refreshing the link once when it has expired or is refused. */
const startDownload = async (
  job: MediaJob,
  deps: ArchiveDeps,
): Promise<{ readonly download: MediaDownload; readonly refreshed: boolean }> => {
  if (isExpired(job.url, deps.now())) {
    const url = await freshLink(job, deps, `the link to ${describe(job)} has expired`);
    return { download: await downloadOnce(url, job, deps), refreshed: true };
  }
  try {
    return { download: await deps.media.download(job.url), refreshed: false };
  } catch (error) {
    // A 403 on a link that is not past its expiry is still what a re-signed link cures (a clock apart, a revoked key).
    if (!(error instanceof MediaForbiddenError)) throw classify(error, job);
    const url = await freshLink(job, deps, `the link to ${describe(job)} was refused (${error.message})`);
    return { download: await downloadOnce(url, job, deps), refreshed: true };
  }
};

/**
 * Writes the body to scratch disk, hashing and counting it on the way; nothing holds the whole file. A body beyond
 * `maxBytes` is cut off there, and its file removed.
 */
const stage = async (
  job: MediaJob,
  download: MediaDownload,
  deps: ArchiveDeps,
): Promise<{ readonly file: ScratchFile; readonly bytes: number; readonly sha256: string }> => {
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > deps.maxBytes) callback(new MediaTooLargeError(`body exceeds ${deps.maxBytes} bytes`));
      else {
        hash.update(chunk);
        callback(null, chunk);
      }
    },
  });
  // An error on either side destroys both: the download's socket closes, and the scratch write sees the error.
  pipeline(download.body, hashing, () => {});
  try {
    const file = await deps.scratch.write(hashing);
    return { file, bytes, sha256: hash.digest('hex') };
  } catch (error) {
    hashing.destroy();
    throw classify(error, job);
  }
};

/** Stores the staged file under the job's key, and removes it from scratch disk whatever happens. */
const upload = async (job: MediaJob, download: MediaDownload, deps: ArchiveDeps) => {
  const { file, bytes, sha256 } = await stage(job, download, deps);
  const key = mediaObjectKey(job.account, job.callId, job.kind, download.contentType);
  try {
    await deps.objects.put({ key, contentType: download.contentType, body: file.open(), bytes, sha256 });
  } catch (error) {
    throw classify(error, job);
  } finally {
    await file.remove();
  }
  return { key, bytes, sha256 };
};

/**
 * Archives the file a job names, once: a call whose `<kind>_archive` is set is left alone, and so is one whose file
 * another job is downloading under its lease, so a redelivered job or a re-signed link downloads nothing. Throws
 * UnarchivableMediaError when no retry can help; anything else it throws (timeouts, 5xx, throttling) is worth
 * retrying.
 */
export const archiveMedia = async (
  job: MediaJob,
  deps: ArchiveDeps,
  /** Who this job is: its queue message id; a job without one holds its lease as no one else can. */
  holder: string = randomUUID(),
): Promise<ArchiveOutcome> => {
  const nowSeconds = Math.floor(deps.now() / 1000);
  const lease = { nowSeconds, untilSeconds: nowSeconds + deps.leaseSeconds, holder };
  const claim = await deps.calls.claim(job, lease);
  if (claim === 'archived') return { status: 'already-archived', downloaded: false };
  if (claim === 'busy') return { status: 'in-progress' };
  // Persist writes the call before it enqueues the job, so neither is a race that a retry would win.
  if (claim === 'missing') throw new UnarchivableMediaError(`call ${job.callId} is not in the calls table`);
  if (claim === 'foreign')
    throw new UnarchivableMediaError(`call ${job.callId} belongs to another account than ${job.account}`);

  try {
    return await archiveClaimed(job, deps);
  } catch (error) {
    // The lease goes with the attempt that failed: its retry, or another job of the file, may start at once.
    await deps.calls.release(job, lease).catch(() => undefined);
    throw error;
  }
};

/** Downloads, stores and records a file whose lease this job holds. */
const archiveClaimed = async (job: MediaJob, deps: ArchiveDeps): Promise<ArchiveOutcome> => {
  const { download, refreshed } = await startDownload(job, deps);
  const stored = await upload(job, download, deps);
  const archive: MediaArchive = {
    ...stored,
    content_type: download.contentType,
    archived_at: Math.floor(deps.now() / 1000),
  };
  const outcome = await deps.calls.record(job, archive);
  switch (outcome) {
    case 'recorded':
      return { status: 'archived', archive, refreshed };
    // A concurrent job of the same file won: the key is the same, so the object it recorded is the one stored.
    case 'already-archived':
      return { status: 'already-archived', downloaded: true };
    case 'missing':
      throw new UnarchivableMediaError(
        `call ${job.callId} left the calls table before its ${archiveAttribute(job.kind)} was recorded`,
      );
    case 'foreign':
      throw new UnarchivableMediaError(`call ${job.callId} belongs to another account than ${job.account}`);
  }
};
