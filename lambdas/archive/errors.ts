// The named errors of the archive: each says whether retrying the same link later can help.

export abstract class ArchiveError extends Error {
  /** True when the same request, tried again later, may succeed; false when only a fresh link or a fix can. */
  abstract readonly retriable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The allow-list configuration is malformed; the message names every bad entry. */
export class InvalidAllowListError extends Error {
  readonly invalidEntries: readonly string[];

  constructor(message: string, invalidEntries: readonly string[]) {
    super(message);
    this.name = 'InvalidAllowListError';
    this.invalidEntries = invalidEntries;
  }
}

/** A link (or a redirect's Location) refused before any connection: scheme, host, or the address it resolves to. */
export class MediaLinkRefusedError extends ArchiveError {
  readonly retriable = false;
}

/** 403 on a link that is not known to be expired: a fresh link (GET /v1/calls/:id) is the cure, not a retry. */
export class MediaForbiddenError extends ArchiveError {
  readonly retriable = false;
}

/** 403 on a link whose X-Amz-Date + X-Amz-Expires is past: fetch a freshly signed link. */
export class MediaLinkExpiredError extends MediaForbiddenError {}

/**
 * 404. Not retriable with the same link: Aircall may take a while to produce a file, but a presigned link lapses
 * within the hour, so the caller retries with a fresh link on its own schedule.
 */
export class MediaNotFoundError extends ArchiveError {
  readonly retriable = false;
}

/** Larger than the configured limit, by content-length or by the bytes actually streamed. */
export class MediaTooLargeError extends ArchiveError {
  readonly retriable = false;
}

/** A content type outside the accepted list (or none at all). */
export class UnexpectedMediaTypeError extends ArchiveError {
  readonly retriable = false;
}

export class TooManyRedirectsError extends ArchiveError {
  readonly retriable = false;
}

/** The connect or the total timeout elapsed. */
export class MediaTimeoutError extends ArchiveError {
  readonly retriable = true;
  readonly phase: 'connect' | 'total';

  constructor(phase: 'connect' | 'total', message: string) {
    super(message);
    this.phase = phase;
  }
}

/** Any other non-2xx status, a DNS failure, or a dropped connection: worth trying again. */
export class MediaUnavailableError extends ArchiveError {
  readonly retriable = true;
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}
