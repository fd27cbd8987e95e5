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

/** Where a call's file stands before any download: only `open` is worth downloading. */
export type ArchiveState =
  | { readonly state: 'open' }
  | { readonly state: 'archived'; readonly archive: MediaArchive }
  /** No call item with that id: nothing to record the archive on. */
  | { readonly state: 'missing' }
  /** The item belongs to another account than the job's. */
  | { readonly state: 'foreign' };

/** What became of the guarded write of an archive. */
export type RecordOutcome = 'recorded' | 'already-archived' | 'missing' | 'foreign';

/** The file of a call a job names, without the link. */
export type MediaFileRef = Pick<MediaJob, 'account' | 'callId' | 'kind'>;

export interface CallArchiveStore {
  /** Reads the call's owner and its `<kind>_archive`. */
  read(file: MediaFileRef): Promise<ArchiveState>;
  /**
   * Sets `<kind>_archive` only if the item exists, belongs to `file.account` and has no archive of that kind yet;
   * no other attribute is touched.
   */
  record(file: MediaFileRef, archive: MediaArchive): Promise<RecordOutcome>;
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

export interface ObjectUpload {
  readonly key: string;
  readonly contentType: string;
  /** Streamed, never held whole. */
  readonly body: Readable;
  /** The body's SHA-256 (hex), known once it has ended: the store keeps it beside the object. */
  readonly sha256: () => string;
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
