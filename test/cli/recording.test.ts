// The `recording` command with fakes: what it refuses before reading anything, what it says of a file it cannot
// give, and that a file on disk is whole and verified or not there at all.

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type Destination,
  fetchRecording,
  type RecordingDeps,
  URL_EXPIRY_SECONDS,
} from '../../cli/commands/recording.js';
import { CommandFailedError, NotFoundError, TargetError } from '../../cli/errors.js';
import type { MediaBucket } from '../../cli/media.js';
import { s3MediaBucket } from '../../cli/media.js';
import type { Item } from '../../cli/queries.js';
import { run } from '../../cli/run.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/clients.js';
import { byteSink, recordingIo } from './io.js';

const CALL_ID = 780836699;
const KEY = 'acme/calls/780836699/recording.mp3';
const BYTES = Buffer.from('ID3 the archived recording, in a few chunks');
const NOW = new Date('2026-01-15T12:00:00Z');

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const archiveOf = (bytes: Buffer) => ({
  key: KEY,
  bytes: bytes.length,
  content_type: 'audio/mpeg',
  sha256: sha256(bytes),
  archived_at: 1768478400,
});

/** A call as persist and the archive leave it: Aircall's link, and the record of its copy. */
const archivedCall: Item = {
  id: CALL_ID,
  account: 'acme',
  recording: 'https://media.example/recording.mp3?signature=s3cret',
  recording_archive: archiveOf(BYTES),
};

interface FakeBucket extends MediaBucket {
  readonly presigned: { key: string; expiresInSeconds: number }[];
}

/** A bucket in memory whose objects arrive in small chunks; `body` replaces what a key streams. */
const fakeBucket = (
  objects: Readonly<Record<string, Buffer>>,
  body?: () => Readable,
  deadLetterQueueUrl?: string,
): FakeBucket => {
  const presigned: { key: string; expiresInSeconds: number }[] = [];
  return {
    name: 'media-bucket',
    deadLetterQueueUrl,
    presigned,
    read: async (key) => {
      const bytes = objects[key];
      if (bytes === undefined) throw new Error(`no object ${key}`);
      const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 17), bytes.subarray(17)];
      return body?.() ?? Readable.from(chunks);
    },
    presign: async (key, expiresInSeconds) => {
      presigned.push({ key, expiresInSeconds });
      return `https://media-bucket.s3.example/${key}?X-Amz-Signature=abc`;
    },
    close: () => undefined,
  };
};

const depsWith = (call: Item | undefined, media: MediaBucket | undefined, local = false): RecordingDeps => ({
  label: 'stack Prod',
  local,
  readCall: async (id) => (id === call?.id ? call : undefined),
  media,
  now: () => NOW,
});

const emptyDir = () => mkdtemp(join(tmpdir(), 'aircall-recording-'));

const toFile = (path: string): Destination => ({ to: 'file', path });

describe('fetchRecording', () => {
  it('writes the archived bytes to a file only its owner reads, and leaves nothing else beside it', async () => {
    const dir = await emptyDir();
    const path = join(dir, 'call.mp3');

    const result = await fetchRecording(
      { callId: CALL_ID, kind: 'recording', destination: toFile(path) },
      depsWith(archivedCall, fakeBucket({ [KEY]: BYTES })),
    );

    expect(await readFile(path)).toEqual(BYTES);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['call.mp3']);
    expect(result).toEqual({ bucket: 'media-bucket', archive: archiveOf(BYTES) });
  });

  it('refuses a call it does not hold', async () => {
    await expect(
      fetchRecording(
        { callId: 42, kind: 'recording', destination: { to: 'url' } },
        depsWith(archivedCall, fakeBucket({})),
      ),
    ).rejects.toThrow(new NotFoundError('No call 42 in stack Prod'));
  });

  it('says the call has no such file when it has neither a link nor an archive', async () => {
    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'voicemail', destination: { to: 'url' } },
        depsWith(archivedCall, fakeBucket({})),
      ),
    ).rejects.toThrow(new NotFoundError(`Call ${CALL_ID} has no voicemail`));
  });

  it('says a linked file is not archived yet and points at the media dead-letter queue, never at the link', async () => {
    const linked: Item = { id: CALL_ID, recording: 'https://media.example/r.mp3?signature=s3cret' };
    const rejection = fetchRecording(
      { callId: CALL_ID, kind: 'recording', destination: { to: 'url' } },
      depsWith(linked, fakeBucket({}, undefined, 'https://sqs.eu-west-1.amazonaws.com/1/media-dlq')),
    );

    await expect(rejection).rejects.toBeInstanceOf(NotFoundError);
    await expect(rejection).rejects.toThrow(
      `Call ${CALL_ID}'s recording is not archived yet: the call carries Aircall's link, but no copy is recorded.`,
    );
    await expect(rejection).rejects.toThrow(
      'look for the job in the media dead-letter queue, https://sqs.eu-west-1.amazonaws.com/1/media-dlq',
    );
    await expect(rejection).rejects.not.toThrow('s3cret');
  });

  it('names where to find the dead-letter queue when the target does not know its URL', async () => {
    const request = { callId: CALL_ID, kind: 'voicemail', destination: { to: 'url' } } as const;
    const linked = { id: CALL_ID, voicemail: 'https://media.example/v' };

    await expect(fetchRecording(request, depsWith(linked, undefined))).rejects.toThrow(
      "look for the job in the media dead-letter queue (the stack's MediaDeadLetterQueueUrl output)",
    );
    await expect(fetchRecording(request, depsWith(linked, undefined, true))).rejects.toThrow(
      "look for the job in the local stack's media dead-letter queue",
    );
  });

  it('says how to mend a target without a media bucket, deployed or local', async () => {
    const request = { callId: CALL_ID, kind: 'recording', destination: { to: 'url' } } as const;

    await expect(fetchRecording(request, depsWith(archivedCall, undefined))).rejects.toThrow(
      new TargetError(
        'No media bucket known for stack Prod: pass --stack with a stack that publishes the MediaBucketName output',
      ),
    );
    await expect(fetchRecording(request, depsWith(archivedCall, undefined, true))).rejects.toThrow(
      /^No media bucket known for stack Prod: the running stack records none, .* restart it with `npm start`$/,
    );
  });

  it('refuses an archive attribute that is not an archive record', async () => {
    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'recording', destination: { to: 'url' } },
        depsWith({ id: CALL_ID, recording_archive: { key: KEY } }, fakeBucket({ [KEY]: BYTES })),
      ),
    ).rejects.toThrow(CommandFailedError);
  });

  it('leaves no file, not even its temporary one, when the bytes do not match the recorded SHA-256', async () => {
    const dir = await emptyDir();
    const path = join(dir, 'call.mp3');
    const tampered = Buffer.from(BYTES);
    tampered[3] = 0x21;

    const rejection = fetchRecording(
      { callId: CALL_ID, kind: 'recording', destination: toFile(path) },
      depsWith(archivedCall, fakeBucket({ [KEY]: tampered })),
    );

    await expect(rejection).rejects.toBeInstanceOf(CommandFailedError);
    await expect(rejection).rejects.toThrow(
      `The bytes of s3://media-bucket/${KEY} are not the archived file: SHA-256 ${sha256(tampered)}`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a file already at the path when the new one does not match', async () => {
    const dir = await emptyDir();
    const path = join(dir, 'call.mp3');
    await writeFile(path, 'an earlier download');

    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'recording', destination: toFile(path) },
        depsWith(archivedCall, fakeBucket({ [KEY]: BYTES.subarray(1) })),
      ),
    ).rejects.toThrow(CommandFailedError);

    expect(await readFile(path, 'utf8')).toBe('an earlier download');
    expect(await readdir(dir)).toEqual(['call.mp3']);
  });

  it('leaves no file when the download breaks off midway', async () => {
    const dir = await emptyDir();
    const broken = () =>
      new Readable({
        read() {
          this.push(BYTES.subarray(0, 10));
          this.destroy(new Error('socket hang up'));
        },
      });

    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'recording', destination: toFile(join(dir, 'call.mp3')) },
        depsWith(archivedCall, fakeBucket({ [KEY]: BYTES }, broken)),
      ),
    ).rejects.toThrow('socket hang up');
    expect(await readdir(dir)).toEqual([]);
  });

  it('says it cannot write a file into a directory that does not exist', async () => {
    const path = join(await emptyDir(), 'missing', 'call.mp3');

    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'recording', destination: toFile(path) },
        depsWith(archivedCall, fakeBucket({ [KEY]: BYTES })),
      ),
    ).rejects.toThrow(`Cannot write ${path}: ENOENT`);
  });

  it('streams the bytes to stdout and leaves it open for the process', async () => {
    const sink = byteSink();

    await fetchRecording(
      { callId: CALL_ID, kind: 'recording', destination: { to: 'stdout', output: sink } },
      depsWith(archivedCall, fakeBucket({ [KEY]: BYTES })),
    );

    expect(sink.bytes()).toEqual(BYTES);
    expect(sink.stream.writableEnded).toBe(false);
  });

  it('says stdout was closed when its reader stops early', async () => {
    const closed = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });

    await expect(
      fetchRecording(
        {
          callId: CALL_ID,
          kind: 'recording',
          destination: { to: 'stdout', output: { stream: closed, isTty: false } },
        },
        depsWith(archivedCall, fakeBucket({ [KEY]: BYTES })),
      ),
    ).rejects.toThrow(
      new CommandFailedError(`stdout was closed before all of s3://media-bucket/${KEY} was written`),
    );
  });

  it('fails after writing to stdout bytes that do not match, saying so', async () => {
    await expect(
      fetchRecording(
        { callId: CALL_ID, kind: 'recording', destination: { to: 'stdout', output: byteSink() } },
        depsWith(archivedCall, fakeBucket({ [KEY]: Buffer.from('other bytes') })),
      ),
    ).rejects.toThrow('what was written to stdout is not the recording');
  });

  it('presigns a GET of the archived key for one hour and says when the link stops working', async () => {
    const bucket = fakeBucket({ [KEY]: BYTES });

    const result = await fetchRecording(
      { callId: CALL_ID, kind: 'recording', destination: { to: 'url' } },
      depsWith(archivedCall, bucket),
    );

    expect(bucket.presigned).toEqual([{ key: KEY, expiresInSeconds: 3600 }]);
    expect(result.url).toEqual({
      url: `https://media-bucket.s3.example/${KEY}?X-Amz-Signature=abc`,
      expiresAt: NOW.getTime() / 1000 + URL_EXPIRY_SECONDS,
    });
  });
});

describe('s3MediaBucket', () => {
  it('presigns a path-style GET of the key on the local endpoint, valid for the seconds asked', async () => {
    const bucket = s3MediaBucket({
      name: 'media',
      client: {
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        endpoint: 'http://127.0.0.1:9324',
        forcePathStyle: true,
      },
    });

    const url = new URL(await bucket.presign(KEY, URL_EXPIRY_SECONDS));
    bucket.close();

    expect(`${url.origin}${url.pathname}`).toBe(`http://127.0.0.1:9324/media/${KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('recording: arguments', () => {
  it.each([
    ['no call id', ['recording'], 'recording takes exactly one call id'],
    ['two call ids', ['recording', '1', '2'], 'recording takes exactly one call id'],
    ['a call id that is not a number', ['recording', 'abc'], 'call id must be a number'],
    [
      '--url with --output',
      ['recording', '1', '--url', '--output', 'x.mp3'],
      'give --url or --output, not both',
    ],
    ['an empty --output', ['recording', '1', '--output', ''], '--output needs a file name'],
    ['--json to stdout', ['recording', '1', '--json'], '--json needs --output or --url'],
  ])('exits 2 for %s, opening no target', async (_case, argv, message) => {
    const io = recordingIo({ stdoutBytes: byteSink() });

    expect(await run(argv, io)).toBe(2);

    expect(io.err()).toContain(message);
    expect(io.err()).toContain('Usage: aircall-webhook-stack recording <call id>');
    expect(io.resolutions()).toBe(0);
  });

  it('refuses to write the file to a terminal, telling to use --output or a pipe', async () => {
    const sink = byteSink(true);
    const io = recordingIo({ stdoutBytes: sink });

    expect(await run(['recording', String(CALL_ID)], io)).toBe(2);

    expect(io.err()).toContain(
      'stdout is a terminal, which the file would garble: use --output <file>, or pipe stdout to a file or a player',
    );
    expect(sink.bytes().length).toBe(0);
    expect(io.resolutions()).toBe(0);
  });

  it('refuses stdout where the run has none for bytes', async () => {
    const io = recordingIo();

    expect(await run(['recording', String(CALL_ID)], io)).toBe(2);

    expect(io.err()).toContain('there is no stdout to write the file to: use --output <file>');
  });

  it('is listed in the global help', async () => {
    const io = recordingIo();

    expect(await run(['--help'], io)).toBe(0);

    expect(io.out()).toMatch(/^ {2}recording {2}a call's archived recording or voicemail/m);
  });
});
