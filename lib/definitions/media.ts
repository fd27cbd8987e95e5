// The media archive's contracts: where a call's recording or voicemail is kept, what a media job says, the defaults.

/** The two files of a call that Aircall links to and that expire. */
export const MEDIA_KINDS = ['recording', 'voicemail'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/**
 * A recording's or voicemail's link as the call's plain attribute holds it: without its query. The signature expires
 * minutes after the event, and a signed link is a third of a call item; the whole link stays in the call's data.
 */
export const unsignedLink = <T>(value: T): T | string => {
  if (typeof value !== 'string' || !URL.canParse(value)) return value;
  const query = value.indexOf('?');
  return query === -1 ? value : value.slice(0, query);
};

/** The call attribute that records a file's archive, e.g. `recording_archive`. */
export const archiveAttribute = (kind: MediaKind): `${MediaKind}_archive` => `${kind}_archive`;

// Extensions by content type; anything else is kept under `.bin` with its content type on the object.
const EXTENSIONS: Readonly<Record<string, string>> = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/ogg': 'ogg',
  'audio/webm': 'webm',
  'audio/mp4': 'm4a',
};

/** The file extension for a content type (parameters and case ignored). */
export const mediaExtension = (contentType: string): string => {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return Object.hasOwn(EXTENSIONS, type) ? (EXTENSIONS[type] ?? 'bin') : 'bin';
};

/**
 * The object key of a call's file: `<account>/calls/<call id>/<kind>.<ext>`. The account is the stack's own name
 * for the company, percent-encoded so that no name can reach into another account's prefix.
 */
export const mediaObjectKey = (
  account: string,
  callId: number | string,
  kind: MediaKind,
  contentType: string,
): string => {
  const id = String(callId);
  if (!/^\d{1,20}$/.test(id)) throw new Error(`a call id is digits, got "${id}"`);
  if (account === '') throw new Error('an account name is not empty');
  return `${encodeURIComponent(account)}/calls/${id}/${kind}.${mediaExtension(contentType)}`;
};

/** A media job: one file of one call to archive, from the link the event carried. */
export interface MediaJob {
  readonly account: string;
  /** Aircall's call id, as the digits it was sent with. */
  readonly callId: string;
  readonly kind: MediaKind;
  /** The presigned link as the event carried it: untrusted input. */
  readonly url: string;
}

const isMediaKind = (value: unknown): value is MediaKind =>
  typeof value === 'string' && (MEDIA_KINDS as readonly string[]).includes(value);

/** Parses a queued media job, or throws naming what is wrong (never quoting the link, which is a credential). */
export const parseMediaJob = (body: string): MediaJob => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new Error('media job is not JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('media job is not an object');
  const { account, callId, kind, url } = parsed as Record<string, unknown>;
  if (typeof account !== 'string' || account === '') throw new Error('media job has no account');
  if (typeof callId !== 'string' || !/^\d{1,20}$/.test(callId)) throw new Error('media job has no call id');
  if (!isMediaKind(kind)) throw new Error('media job kind is neither recording nor voicemail');
  if (typeof url !== 'string' || !URL.canParse(url)) throw new Error('media job has no link');
  return { account, callId, kind, url };
};

/** The stack outputs that name the media archive's resources, read by the CLI of a deployed stack. */
export const MEDIA_OUTPUTS = {
  bucket: 'MediaBucketName',
  queue: 'MediaQueueUrl',
  deadLetterQueue: 'MediaDeadLetterQueueUrl',
} as const;

/**
 * The attribute a running archive job holds on the call while it downloads a file, e.g. `recording_archive_lease`:
 * UNIX seconds until which no other job of the same file starts a download.
 */
export const archiveLeaseAttribute = (kind: MediaKind): `${MediaKind}_archive_lease` =>
  `${kind}_archive_lease`;

/** Who holds that lease: the queue message of the job, so that the job itself, redelivered, may take it back. */
export const archiveLeaseHolderAttribute = (kind: MediaKind): `${MediaKind}_archive_lease_holder` =>
  `${kind}_archive_lease_holder`;
