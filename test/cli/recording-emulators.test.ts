// The `recording` command and `calls <id>` against the embedded emulators: dynalite's calls table holding the
// archive record, fauxqs's S3 holding the file it names.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { localTarget, type ResolveTarget } from '../../cli/target.js';
import { mediaObjectKey } from '../../lib/definitions/media.js';
import { TABLE_NAMES, type TableName } from '../../lib/definitions/tables.js';
import { localClientTarget } from '../../local/clients.js';
import { type RunningEmulator, startDynamo, startSqs } from '../../local/emulators.js';
import { createTables } from '../../local/provision.js';
import { byteSink, recordingIo } from './io.js';

const ACCOUNT = 'acme';
const ARCHIVED = 780836699;
const LINKED = 780836754;
/** More than one MiB, so that the body comes in many chunks. */
const BYTES = randomBytes(1024 * 1024 + 4321);
const SHA256 = createHash('sha256').update(BYTES).digest('hex');
const KEY = mediaObjectKey(ACCOUNT, ARCHIVED, 'recording', 'audio/mpeg');
const ARCHIVE = {
  key: KEY,
  bytes: BYTES.length,
  content_type: 'audio/mpeg',
  sha256: SHA256,
  archived_at: 1768478400,
};

describe('recording against the emulators', () => {
  const emulators: RunningEmulator[] = [];
  const clients: { destroy(): void }[] = [];
  let target: ResolveTarget;

  const cli = async (argv: readonly string[], stdout = byteSink()) => {
    const io = recordingIo({ resolveTarget: target, stdoutBytes: stdout });
    const code = await run(argv, io);
    return { code, out: io.out(), err: io.err(), bytes: stdout.bytes() };
  };

  beforeAll(async () => {
    const [dynamo, sqs] = await Promise.all([startDynamo({ port: 0 }), startSqs({ port: 0 })]);
    emulators.push(dynamo, sqs);
    const dynamoClient = new DynamoDBClient(localClientTarget(dynamo.endpoint));
    const documents = DynamoDBDocumentClient.from(dynamoClient);
    const s3 = new S3Client({ ...localClientTarget(sqs.endpoint), forcePathStyle: true });
    clients.push(dynamoClient, s3);

    const prefix = `cli-${randomUUID().slice(0, 8)}`;
    const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, `${prefix}-${name}`])) as Record<
      TableName,
      string
    >;
    const bucket = `${prefix}-media`;
    await createTables(dynamoClient, tables);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: KEY,
        Body: BYTES,
        ContentType: 'audio/mpeg',
        Metadata: { sha256: SHA256 },
      }),
    );
    await documents.send(
      new PutCommand({
        TableName: tables.calls,
        Item: {
          id: ARCHIVED,
          account: ACCOUNT,
          recording: 'https://media.example/recording.mp3?signature=s3cret',
          recording_archive: ARCHIVE,
        },
      }),
    );
    await documents.send(
      new PutCommand({
        TableName: tables.calls,
        Item: {
          id: LINKED,
          account: ACCOUNT,
          voicemail: 'https://media.example/voicemail.mp3?signature=s3cret',
        },
      }),
    );

    target = async (options) =>
      localTarget({
        dynamoEndpoint: dynamo.endpoint,
        tables: { ...tables, ...options.tables },
        media: { bucket, s3Endpoint: sqs.endpoint },
      });
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await Promise.all(emulators.map((emulator) => emulator.stop()));
  });

  it('writes the archived file to --output, byte for byte, and says what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aircall-recording-'));
    const path = join(dir, 'call.mp3');

    const { code, out, err, bytes } = await cli(['recording', String(ARCHIVED), '--output', path]);

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(
      createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    ).toBe(SHA256);
    expect(await readdir(dir)).toEqual(['call.mp3']);
    expect(out).toBe(`Wrote ${BYTES.length} bytes (audio/mpeg, SHA-256 ${SHA256}) to ${path}\n`);
    expect(bytes.length).toBe(0);
  });

  it('writes the file to a stdout that is no terminal, and nothing else there', async () => {
    const { code, out, err, bytes } = await cli(['recording', String(ARCHIVED)]);

    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(bytes.equals(BYTES)).toBe(true);
  });

  it('prints the archive record and the path as JSON with --output and --json', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'aircall-recording-')), 'call.mp3');

    const { code, out } = await cli(['recording', String(ARCHIVED), '--output', path, '--json']);

    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      call_id: ARCHIVED,
      kind: 'recording',
      bucket: expect.stringMatching(/-media$/),
      archive: ARCHIVE,
      path,
    });
  });

  it('prints a link on the local endpoint that serves the same bytes', async () => {
    const { code, out, err } = await cli(['recording', String(ARCHIVED), '--url']);

    expect(code).toBe(0);
    expect(err).toBe('Valid until 2022-03-05T13:00:00Z.\n');
    const url = out.trim();
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(BYTES)).toBe(true);
  });

  it('exits 1 for a voicemail that is linked but not archived yet, writing nothing', async () => {
    const { code, out, err, bytes } = await cli(['recording', String(LINKED), '--voicemail']);

    expect(code).toBe(1);
    expect(out).toBe('');
    expect(bytes.length).toBe(0);
    expect(err).toContain(`Call ${LINKED}'s voicemail is not archived yet`);
    expect(err).not.toContain('s3cret');
  });

  it('exits 1 for a call it does not hold', async () => {
    const { code, err } = await cli(['recording', '42']);

    expect(code).toBe(1);
    expect(err).toMatch(/^No call 42 in local stack at http:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it('shows in calls <id> which file is archived and which is only linked', async () => {
    const archived = await cli(['calls', String(ARCHIVED)]);
    const linked = await cli(['calls', String(LINKED)]);

    expect(archived.out).toMatch(
      new RegExp(`^recording +archived: ${KEY}, ${BYTES.length} bytes, 2026-01-15T12:00:00Z$`, 'm'),
    );
    expect(archived.out).toMatch(/^voicemail +-$/m);
    expect(linked.out).toMatch(/^voicemail +link only, not archived$/m);
  });
});
