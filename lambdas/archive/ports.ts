// What the archive use case needs from the call table, the media host, the object store and Aircall's API, as
// interfaces its tests fake.

import type { Readable } from 'node:stream';
import type { MediaJob, MediaKind } from '../../lib/definitions/media.js';

/** What `<kind>_archive` holds on a call once its file is in the bucket. */
export interface MediaArchive {
  /** The object key, from mediaObjectKey. */
  readonly key: string;
  readonly bytes: number;
  readonly content_type: string;
  /** SHA-256 of the bytes, hex. */
  readonly sha256: string;
  /** UNIX seconds, as the calls table's other `*_at` attributes. */
  readonly archived_at: number;
}

/**
 * What a claim on a call's file found: only `claimed` is worth downloading. A claim is a lease held on the call item
 * while one job downloads the file, so that a second job of the same file (a duplicate delivery, a re-signed link)
 * does not download it again meanwhile.
 */
export type ClaimOutcome =
  | 'claimed'
  /** The file is recorded on the call already. */
  | 'archived'
  /** Another job holds a lease that has not run out: that job archives the file, or is retried by its queue. */
  | 'busy'
  /** No call item with that id: nothing to record the archive on. */
  | 'missing'
  /** The item belongs to another account than the job's. */
  | 'foreign';

/** What became of the guarded write of an archive. */
export type RecordOutcome = 'recorded' | 'already-archived' | 'missing' | 'foreign';

/** The file of a call a job names, without the link. */
export type MediaFileRef = Pick<MediaJob, 'account' | 'callId' | 'kind'>;

/** A lease: taken at `nowSeconds`, held until `untilSeconds` (UNIX seconds), by `holder`. */
export interface Lease {
  readonly nowSeconds: number;
  readonly untilSeconds: number;
  /**
   * The job taking it (its queue message id): a lease its own holder finds again is its to take back, since only a
   * job that died in its attempt comes back to a lease it took.
   */
  readonly holder: string;
}

export interface CallArchiveStore {
  /**
   * Takes the file's lease if the item exists, belongs to `file.account`, has no archive of that kind and no lease
   * that is still running; no other attribute is touched.
   */
  claim(file: MediaFileRef, lease: Lease): Promise<ClaimOutcome>;
  /**
   * Sets `<kind>_archive` and drops the lease, only if the item exists, belongs to `file.account` and has no archive
   * of that kind yet; no other attribute is touched.
   */
  record(file: MediaFileRef, archive: MediaArchive): Promise<RecordOutcome>;
  /** Drops the lease this job took, unless another job has taken it since. */
  release(file: MediaFileRef, lease: Lease): Promise<void>;
}

/** A download in progress: its body is read once, by the object store. */
export interface MediaDownload {
  /** Errors with a named ArchiveError (errors.ts) if a limit or a timeout strikes mid-body. */
  readonly body: Readable;
  /** Lower case, no parameters. */
  readonly contentType: string;
}

export interface MediaSource {
  /** Starts a GET of an untrusted link; rejects with a named ArchiveError. */
  download(url: string): Promise<MediaDownload>;
}

/** A downloaded file on local disk, until it is stored. */
export interface ScratchFile {
  /** A new stream of the whole file, from its start. */
  open(): Readable;
  /** Deletes the file; nothing is left behind. */
  remove(): Promise<void>;
}

export interface Scratch {
  /** Writes the stream to a new file; rejects with the stream's error, leaving no file behind. */
  write(body: Readable): Promise<ScratchFile>;
}

export interface ObjectUpload {
  readonly key: string;
  readonly contentType: string;
  /** Streamed, never held whole. */
  readonly body: Readable;
  /** The body's length, known before the upload starts. */
  readonly bytes: number;
  /** The body's SHA-256 (hex), kept on the object as its `sha256` metadata. */
  readonly sha256: string;
}

export interface ObjectStore {
  /** Resolves once the whole body is stored; rejects with the body's error if it broke off. */
  put(upload: ObjectUpload): Promise<void>;
}

/** What `GET /v1/calls/:id` says of a call's files: their freshly signed links, or null when it has none. */
export type CallLinks = Readonly<Partial<Record<MediaKind, string | null>>>;

export type CallLookup =
  | { readonly status: 'found'; readonly call: CallLinks }
  /** 404: Aircall no longer has the call (or it is another company's). */
  | { readonly status: 'not-found' }
  /** This deployment holds no Aircall credentials for the account. */
  | { readonly status: 'no-credentials' }
  /** 401 or 403: the credentials held for the account were refused. */
  | { readonly status: 'refused' };

export interface AircallCalls {
  /** Reads the call; throws only what a retry may mend (timeouts, 429 after waiting, 5xx, the network). */
  getCall(account: string, callId: string): Promise<CallLookup>;
}

/** A job no retry can archive: it goes to the media dead-letter queue with this message as its reason. */
export class UnarchivableMediaError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnarchivableMediaError';
  }
}
