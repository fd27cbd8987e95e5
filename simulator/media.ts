// Recordings and voicemails as Aircall serves them: presigned-style links the simulator signs and checks, and
// deterministic MP3 bytes streamed in bounded chunks.

import { createCipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type MediaKind = 'recording' | 'voicemail';
export const MEDIA_KINDS: readonly MediaKind[] = ['recording', 'voicemail'];

export interface MediaFile {
  readonly account: string;
  readonly callId: number | string;
  readonly kind: MediaKind;
}

/** What the simulator served of one file, over every GET of it. */
export interface MediaDownloads {
  /** GETs answered 200. */
  readonly downloads: number;
  /** GETs answered 403: expired link or wrong signature. */
  readonly refused: number;
  /** Chunks written, over all downloads. */
  readonly chunks: number;
  readonly largestChunkBytes: number;
  /** The most bytes the response held unsent at once: bounded by the chunk size, not the file size. */
  readonly peakBufferedBytes: number;
}

/** The path stays the same for a file; only the query is signed anew. */
export const mediaPath = ({ account, callId, kind }: MediaFile): string =>
  `/media/${encodeURIComponent(account)}/${String(callId)}/${kind}.mp3`;

const parseMediaPath = (pathname: string): MediaFile | undefined => {
  const match = /^\/media\/([^/]+)\/(\d+)\/(recording|voicemail)\.mp3$/.exec(pathname);
  if (match === null) return undefined;
  const [, account = '', callId = '', kind] = match;
  return {
    account: decodeURIComponent(account),
    callId,
    kind: kind === 'voicemail' ? 'voicemail' : 'recording',
  };
};

/** `yyyymmddThhmmssZ`, as `X-Amz-Date` writes it. */
export const amzDate = (seconds: number): string =>
  new Date(seconds * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

const parseAmzDate = (text: string): number | undefined => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0) / 1000;
};

export type LinkCheck = 'valid' | 'expired' | 'bad-signature';

export interface MediaLinksOptions {
  /** The scheme, host and port the links name. */
  readonly origin: () => string;
  /** Signs the links, so only the simulator's own are served. */
  readonly secret: Buffer;
  readonly expirySeconds: number;
}

/**
 * Links shaped like Aircall's presigned S3 ones. The signature is the simulator's own HMAC, written `sim-<hex>`
 * and with an EXAMPLE credential, so nothing that copies a link anywhere looks like a real AWS credential.
 */
export class MediaLinks {
  constructor(private readonly options: MediaLinksOptions) {}

  sign(file: MediaFile, signedAt: number): string {
    const path = mediaPath(file);
    const date = amzDate(signedAt);
    const expires = String(this.options.expirySeconds);
    return (
      `${this.options.origin()}${path}?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
      `&X-Amz-Credential=SIMULATOREXAMPLE%2F${date.slice(0, 8)}%2Fus-east-1%2Fs3%2Faws4_request` +
      `&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host` +
      `&X-Amz-Signature=${this.signature(path, date, expires)}`
    );
  }

  /** A wrong or missing signature is refused before the expiry is looked at, as S3 does. */
  check(path: string, query: URLSearchParams, nowSeconds: number): LinkCheck {
    const date = query.get('X-Amz-Date') ?? '';
    const expires = query.get('X-Amz-Expires') ?? '';
    const given = Buffer.from(query.get('X-Amz-Signature') ?? '');
    const expected = Buffer.from(this.signature(path, date, expires));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-signature';
    const signedAt = parseAmzDate(date);
    if (signedAt === undefined || !/^\d+$/.test(expires)) return 'bad-signature';
    return signedAt + Number(expires) < nowSeconds ? 'expired' : 'valid';
  }

  private signature(path: string, date: string, expires: string): string {
    const hmac = createHmac('sha256', this.options.secret).update(`${path}\n${date}\n${expires}`);
    return `sim-${hmac.digest('hex')}`;
  }
}

/** An ID3v2 header with no frames, then MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, 417 bytes each). */
const ID3 = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
const FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x90, 0x64]);
const FRAME_BYTES = 417;
export const MIN_MEDIA_BYTES = ID3.length + FRAME_HEADER.length;

/** The file's bytes, `chunkBytes` at a time: frame payloads from a keystream seeded by the file, so they repeat. */
export function* mediaChunks(
  seed: number,
  file: MediaFile,
  size: number,
  chunkBytes: number,
): Generator<Buffer> {
  const key = createHash('sha256')
    .update(`${seed}\n${mediaPath(file)}`)
    .digest()
    .subarray(0, 16);
  const keystream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let offset = 0; offset < size; offset += chunkBytes) {
    const length = Math.min(chunkBytes, size - offset);
    const chunk = keystream.update(Buffer.alloc(length));
    // Headers are laid over the keystream where they fall inside this chunk.
    const lay = (header: Buffer, at: number): void => {
      for (let i = 0; i < header.length; i += 1) {
        const position = at + i - offset;
        if (position >= 0 && position < length) chunk[position] = header[i] ?? 0;
      }
    };
    lay(ID3, 0);
    const first = Math.max(0, Math.floor((offset - ID3.length) / FRAME_BYTES));
    for (let at = ID3.length + first * FRAME_BYTES; at < offset + length; at += FRAME_BYTES)
      lay(FRAME_HEADER, at);
    yield chunk;
  }
}

export interface MediaServerDeps {
  readonly links: MediaLinks;
  /** True for a file some generated call carries a link to. */
  readonly exists: (file: MediaFile) => boolean;
  readonly sizeOf: (file: MediaFile) => number;
  readonly seed: number;
  readonly chunkBytes: number;
  /** UNIX seconds, the clock links expire by. */
  readonly nowSeconds: () => number;
}

const fileKey = (file: MediaFile): string => mediaPath(file);

const s3Error = (response: ServerResponse, status: number, code: string, message: string): void => {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>SIMULATOR</RequestId></Error>`;
  response
    .writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
    .end(body);
};

/** Resolves once the response wants more, or is gone. */
const drained = (response: ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });

/** Serves `/media/...`: S3's answers to a presigned GET, and counts what each file was served. */
export class MediaServer {
  private readonly counts = new Map<string, MediaDownloads>();

  constructor(private readonly deps: MediaServerDeps) {}

  /** SHA-256 (hex) and length of what a GET of the file returns. */
  bytes(file: MediaFile): { readonly sha256: string; readonly length: number } {
    const hash = createHash('sha256');
    let length = 0;
    for (const chunk of this.chunks(file)) {
      hash.update(chunk);
      length += chunk.length;
    }
    return { sha256: hash.digest('hex'), length };
  }

  downloads(file: MediaFile): MediaDownloads {
    return (
      this.counts.get(fileKey(file)) ?? {
        downloads: 0,
        refused: 0,
        chunks: 0,
        largestChunkBytes: 0,
        peakBufferedBytes: 0,
      }
    );
  }

  handle(request: IncomingMessage, response: ServerResponse, url: URL): void {
    try {
      this.answer(request, response, url);
    } catch (error) {
      // A `mediaSizeBytes` function that throws or answers a bad size must not take the server down.
      console.error('simulator media: unexpected error', error);
      if (!response.headersSent) s3Error(response, 500, 'InternalError', 'We encountered an internal error.');
      else response.destroy();
    }
  }

  private answer(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const file = parseMediaPath(url.pathname);
    if (request.method !== 'GET') {
      s3Error(
        response,
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      );
      return;
    }
    if (file === undefined || !this.deps.exists(file)) {
      s3Error(response, 404, 'NoSuchKey', 'The specified key does not exist.');
      return;
    }
    const verdict = this.deps.links.check(url.pathname, url.searchParams, this.deps.nowSeconds());
    if (verdict !== 'valid') {
      this.count(file, { refused: 1 });
      if (verdict === 'expired') s3Error(response, 403, 'AccessDenied', 'Request has expired');
      else {
        s3Error(
          response,
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        );
      }
      return;
    }
    this.count(file, { downloads: 1 });
    response.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': this.deps.sizeOf(file) });
    this.stream(file, response).catch((error: unknown) => {
      console.error('simulator media: streaming failed', error);
      response.destroy();
    });
  }

  private chunks(file: MediaFile): Generator<Buffer> {
    return mediaChunks(this.deps.seed, file, this.deps.sizeOf(file), this.deps.chunkBytes);
  }

  /** One chunk at a time, waiting for the socket to take it: a large file is never held whole. */
  private async stream(file: MediaFile, response: ServerResponse): Promise<void> {
    for (const chunk of this.chunks(file)) {
      if (response.destroyed) return;
      const ready = response.write(chunk);
      this.count(file, {
        chunks: 1,
        largestChunkBytes: chunk.length,
        peakBufferedBytes: response.writableLength,
      });
      if (!ready) await drained(response);
    }
    response.end();
  }

  /** Adds the counts, and keeps the larger of the peaks. */
  private count(file: MediaFile, add: Partial<MediaDownloads>): void {
    const current = this.downloads(file);
    this.counts.set(fileKey(file), {
      downloads: current.downloads + (add.downloads ?? 0),
      refused: current.refused + (add.refused ?? 0),
      chunks: current.chunks + (add.chunks ?? 0),
      largestChunkBytes: Math.max(current.largestChunkBytes, add.largestChunkBytes ?? 0),
      peakBufferedBytes: Math.max(current.peakBufferedBytes, add.peakBufferedBytes ?? 0),
    });
  }
}
