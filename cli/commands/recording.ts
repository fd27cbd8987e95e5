// `recording <call id>`: a call's archived recording or voicemail, from the media bucket to a file, stdout or a link.

import { createHash, randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaArchive } from '../../lambdas/archive/ports.js';
import { archiveAttribute, MEDIA_OUTPUTS, type MediaKind } from '../../lib/definitions/media.js';
import {
  type ByteOutput,
  type Command,
  JSON_OPTION,
  PROGRAM,
  parseCommandArgs,
  parseId,
  TARGET_HELP,
  TARGET_OPTIONS,
  targetOptions,
} from '../command.js';
import { CommandFailedError, NotFoundError, TargetError, UsageError } from '../errors.js';
import { formatJson, printable } from '../format.js';
import type { MediaBucket } from '../media.js';
import { getCall, type Item, mediaFile } from '../queries.js';
import { requireTable } from '../target.js';
import { isoSeconds } from '../time.js';

/** How long a link from --url works: long enough to start a download or a player, short for a credential. */
export const URL_EXPIRY_SECONDS = 3600;

const OPTIONS = {
  ...TARGET_OPTIONS,
  ...JSON_OPTION,
  voicemail: { type: 'boolean' },
  output: { type: 'string' },
  url: { type: 'boolean' },
} as const;

const usage = `Usage: ${PROGRAM} recording <call id> [--voicemail] [--output <file> | --url] [--json]`;

const help = `${usage}

A call's recording (with --voicemail, its voicemail) as the media archive keeps it in the stack's media
bucket, checked against the SHA-256 recorded on the call. It is written to --output, or to stdout when
stdout is a pipe or a file, never to a terminal.

  --voicemail            the call's voicemail instead of its recording
  --output <file>        write the file there; it is downloaded beside it under a temporary name and
                         renamed into place once its SHA-256 matches, so a broken download leaves no
                         partial file
  --url                  print a presigned GET link to the file instead, valid for one hour; anyone who
                         holds the link can download the file until then
  --json                 with --output or --url: the call's archive record, with the path or the link

A file whose bytes do not match the recorded SHA-256 is not kept, and the command exits 1. Bytes written
to stdout cannot be taken back: there the exit code alone says whether they were the archived file.

The media bucket is the local stack's, or a deployed stack's ${MEDIA_OUTPUTS.bucket} output.

${TARGET_HELP}
`;

/** Where the file goes. */
export type Destination =
  | { readonly to: 'file'; readonly path: string }
  | { readonly to: 'stdout'; readonly output: ByteOutput }
  | { readonly to: 'url' };

export interface RecordingRequest {
  readonly callId: number;
  readonly kind: MediaKind;
  readonly destination: Destination;
}

/** What the use case needs from the target: the call's item and the bucket. */
export interface RecordingDeps {
  /** The target, for messages. */
  readonly label: string;
  /** Whether the target is the local stack, which says how a missing bucket is mended. */
  readonly local: boolean;
  readonly readCall: (id: number) => Promise<Item | undefined>;
  /** Absent when the target names no media bucket. */
  readonly media: MediaBucket | undefined;
  readonly now: () => Date;
}

export interface RecordingResult {
  readonly bucket: string;
  readonly archive: MediaArchive;
  /** With --url: the link and when it stops working (UNIX seconds). */
  readonly url?: { readonly url: string; readonly expiresAt: number };
}

interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Copies `source` to `sink`, hashing and counting what passes; the sink is ended only when `end` says so. */
const copyHashed = async (source: Readable, sink: Writable, end: boolean): Promise<Digest> => {
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(source, hashing, sink, { end });
  return { bytes, sha256: hash.digest('hex') };
};

const matches = (digest: Digest, archive: MediaArchive): boolean =>
  digest.sha256 === archive.sha256.toLowerCase() && digest.bytes === archive.bytes;

const mismatch = (where: string, digest: Digest, archive: MediaArchive, outcome: string) =>
  new CommandFailedError(
    `The bytes of ${where} are not the archived file: SHA-256 ${digest.sha256} (${digest.bytes} bytes), the call records ${archive.sha256} (${archive.bytes} bytes); ${outcome}`,
  );

/**
 * Writes the body to a new file beside `path` and renames it into place once it is whole and matches the
 * archive: the name never holds a partial or a wrong file, and a failure leaves nothing behind.
 */
const saveVerified = async (
  body: Readable,
  path: string,
  archive: MediaArchive,
  where: string,
): Promise<void> => {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.part`);
  // Created here, before any byte arrives, so that the clean-up below always finds it; private, as a call
  // recording is personal data. `flush` syncs it to disk before the rename makes it visible.
  const handle = await open(temporary, 'wx', 0o600).catch((error: unknown) => {
    throw cannotWrite(path, error);
  });
  try {
    const digest = await copyHashed(body, handle.createWriteStream({ flush: true }), true);
    if (!matches(digest, archive)) throw mismatch(where, digest, archive, `${path} was not written`);
    await rename(temporary, path).catch((error: unknown) => {
      throw cannotWrite(path, error);
    });
  } catch (error) {
    // The stream closes the handle when it ends or breaks; closing it again only makes sure, so its error is moot.
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
};

const cannotWrite = (path: string, error: unknown): CommandFailedError =>
  new CommandFailedError(`Cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });

const missingBucket = (label: string, local: boolean): TargetError =>
  new TargetError(
    local
      ? `No media bucket known for ${label}: the running stack records none, so it predates the media archive; restart it with \`npm start\``
      : `No media bucket known for ${label}: pass --stack with a stack that publishes the ${MEDIA_OUTPUTS.bucket} output`,
  );

/** Finds the call's file in the bucket and sends it where the request says; throws a CliError for the user. */
export const fetchRecording = async (
  request: RecordingRequest,
  deps: RecordingDeps,
): Promise<RecordingResult> => {
  const { callId, kind, destination } = request;
  const call = await deps.readCall(callId);
  if (call === undefined) throw new NotFoundError(`No call ${callId} in ${deps.label}`);
  const file = mediaFile(call, kind);
  if (file.state === 'absent') throw new NotFoundError(`Call ${callId} has no ${kind}`);
  if (file.state === 'unreadable') {
    throw new CommandFailedError(
      `Call ${callId}'s ${archiveAttribute(kind)} is not an archive record (key, bytes, content_type, sha256, archived_at)`,
    );
  }
  const { media } = deps;
  if (file.state === 'link-only') {
    const url = media?.deadLetterQueueUrl;
    const queue =
      url !== undefined
        ? `the media dead-letter queue, ${url}`
        : deps.local
          ? "the local stack's media dead-letter queue"
          : `the media dead-letter queue (the stack's ${MEDIA_OUTPUTS.deadLetterQueue} output)`;
    throw new NotFoundError(
      `Call ${callId}'s ${kind} is not archived yet: the call carries Aircall's link, but no copy is recorded. The archive may still be at work; if it stays so, look for the job in ${queue}`,
    );
  }
  if (media === undefined) throw missingBucket(deps.label, deps.local);
  const { archive } = file;
  const where = `s3://${media.name}/${archive.key}`;

  if (destination.to === 'url') {
    const url = await media.presign(archive.key, URL_EXPIRY_SECONDS);
    const expiresAt = Math.floor(deps.now().getTime() / 1000) + URL_EXPIRY_SECONDS;
    return { bucket: media.name, archive, url: { url, expiresAt } };
  }
  const body = await media.read(archive.key);
  if (destination.to === 'file') {
    await saveVerified(body, destination.path, archive, where);
  } else {
    // The process's stdout stays open for whatever it prints next; bytes already written cannot be recalled.
    const digest = await copyHashed(body, destination.output.stream, false).catch((error: unknown) => {
      // The reader went away early, e.g. `| head` or a player that was closed.
      if (error instanceof Error && 'code' in error && error.code === 'EPIPE') {
        throw new CommandFailedError(`stdout was closed before all of ${where} was written`, {
          cause: error,
        });
      }
      throw error;
    });
    if (!matches(digest, archive)) {
      throw mismatch(where, digest, archive, 'what was written to stdout is not the recording');
    }
  }
  return { bucket: media.name, archive };
};

const destinationOf = (
  values: {
    readonly output?: string | undefined;
    readonly url?: boolean | undefined;
    readonly json?: boolean;
  },
  stdoutBytes: ByteOutput | undefined,
): Destination => {
  if (values.url === true && values.output !== undefined)
    throw new UsageError('give --url or --output, not both');
  if (values.url === true) return { to: 'url' };
  if (values.output !== undefined) {
    if (values.output === '') throw new UsageError('--output needs a file name');
    return { to: 'file', path: values.output };
  }
  if (values.json === true) {
    throw new UsageError('--json needs --output or --url: without them stdout carries the file itself');
  }
  if (stdoutBytes === undefined)
    throw new UsageError('there is no stdout to write the file to: use --output <file>');
  if (stdoutBytes.isTty) {
    throw new UsageError(
      'stdout is a terminal, which the file would garble: use --output <file>, or pipe stdout to a file or a player',
    );
  }
  return { to: 'stdout', output: stdoutBytes };
};

export const recordingCommand: Command = {
  name: 'recording',
  summary: "a call's archived recording or voicemail: to a file, stdout, or a link",
  usage,
  help,
  async run(args, { io, target: open }) {
    const { values, positionals } = parseCommandArgs(args, OPTIONS);
    const [idText, ...rest] = positionals;
    if (idText === undefined || rest.length > 0) throw new UsageError('recording takes exactly one call id');
    const callId = parseId(idText, 'call id');
    const kind: MediaKind = values.voicemail === true ? 'voicemail' : 'recording';
    // Settled before any stack is looked up, so that a refusal costs no connection.
    const destination = destinationOf(values, io.stdoutBytes);

    const target = await open(targetOptions(values));
    const calls = requireTable(target, 'calls');
    const result = await fetchRecording(
      { callId, kind, destination },
      {
        label: target.label,
        local: target.localEndpoint !== undefined,
        readCall: (id) => getCall(target.documents, calls, id),
        media: target.media,
        now: io.now,
      },
    );

    const { archive, url } = result;
    if (values.json === true) {
      io.stdout(
        formatJson({
          call_id: callId,
          kind,
          bucket: result.bucket,
          archive,
          ...(destination.to === 'file' ? { path: destination.path } : {}),
          ...(url === undefined ? {} : { url: url.url, expires_at: url.expiresAt }),
        }),
      );
    } else if (url !== undefined) {
      // The link alone on stdout, for `curl "$(...)"`; how long it works on stderr.
      io.stdout(`${url.url}\n`);
      io.stderr(`Valid until ${isoSeconds(url.expiresAt)}.\n`);
    } else if (destination.to === 'file') {
      io.stdout(
        `${printable(`Wrote ${archive.bytes} bytes (${archive.content_type}, SHA-256 ${archive.sha256}) to ${destination.path}`)}\n`,
      );
    }
    return 0;
  },
};
