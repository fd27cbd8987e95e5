// Recordings and voicemails end to end on the local stack: the simulator delivers calls with signed, expiring links,
// persist hands them to the archive, and the archive keeps each file once in the embedded S3.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { resolveTarget } from '../../cli/target.js';
import { DEAD_LETTER_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import { localClientTarget, localSqsClientConfig } from '../../local/clients.js';
import { amzDate } from '../../simulator/media.js';
import type { Simulator } from '../../simulator/simulator.js';
import { byteSink, recordingIo } from '../cli/io.js';
import { captureOutput } from '../support/capture.js';
import { sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';
import { filesOf, type MediaFile } from '../support/media-files.js';

const simulatorOf = (local: TestLocalStack): Simulator => {
  const linked = local.stack.simulator;
  if (linked === undefined) throw new Error('the stack runs no simulator');
  return linked.simulator;
};

const callItem = async (local: TestLocalStack, callId: number) =>
  (
    await local.documents.send(
      new GetCommand({ TableName: local.settings.tables.calls, Key: { id: callId } }),
    )
  ).Item;

/** Waits until every file is recorded on its call, and returns the archives. */
const archived = (local: TestLocalStack, files: readonly MediaFile[]) =>
  waitFor(async () => {
    const archives = [];
    for (const file of files) {
      const archive = (await callItem(local, file.callId))?.[`${file.kind}_archive`];
      if (archive === undefined) return undefined;
      archives.push({ file, archive: archive as Record<string, unknown> });
    }
    return archives;
  }, 60_000);

/** The CLI as a user runs it against this stack: found through the record in its DATA_DIR. */
const cli = async (local: TestLocalStack, argv: readonly string[]) => {
  const stdout = byteSink();
  const io = recordingIo({
    resolveTarget: resolveTarget({ DATA_DIR: local.settings.dataDir }),
    stdoutBytes: stdout,
  });
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err(), bytes: stdout.bytes() };
};

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

const objectDigest = async (s3: S3Client, bucket: string, key: string) => {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    length += chunk.length;
  }
  return { sha256: hash.digest('hex'), length };
};

describe('media archive on the local stack', () => {
  let local: TestLocalStack;
  let s3: S3Client;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'ERROR',
      // Many duplicate deliveries: each must still download its file once.
      simulator: { port: 0, eventsPerSecond: 0, behaviour: { duplicateRate: 0.5 } },
    });
    s3 = new S3Client({ ...localClientTarget(local.stack.endpoints.s3), forcePathStyle: true });
  }, 60_000);

  afterAll(async () => {
    s3?.destroy();
    await local?.dispose();
  });

  it('archives every recording and voicemail once, duplicates and re-signed links included', async () => {
    const simulator = simulatorOf(local);
    const events = simulator.generate(8);
    await simulator.flush({ timeoutMs: 30_000 });
    const files = filesOf(events);
    expect(files.map((f) => f.kind)).toEqual(expect.arrayContaining(['recording', 'voicemail']));
    expect(simulator.stats().totals.duplicates).toBeGreaterThan(0);

    const account = local.stack.simulator?.credentials.account ?? '';
    for (const { file, archive } of await archived(local, files)) {
      const served = simulator.mediaBytes(account, file.callId, file.kind);
      const key = `${account}/calls/${file.callId}/${file.kind}.mp3`;
      expect(archive).toMatchObject({
        key,
        bytes: served.length,
        content_type: 'audio/mpeg',
        sha256: served.sha256,
      });
      expect(await objectDigest(s3, local.stack.media.bucket, key)).toEqual(served);
      const head = await s3.send(new HeadObjectCommand({ Bucket: local.stack.media.bucket, Key: key }));
      expect(head).toMatchObject({ ContentType: 'audio/mpeg', Metadata: { sha256: served.sha256 } });
      expect(simulator.mediaDownloads(account, file.callId, file.kind)).toMatchObject({ downloads: 1 });

      const read = await cli(local, [
        'recording',
        String(file.callId),
        ...(file.kind === 'voicemail' ? ['--voicemail'] : []),
      ]);
      expect(read.err).toBe('');
      expect(read.code).toBe(0);
      expect({ sha256: sha256(read.bytes), length: read.bytes.length }).toEqual(served);
    }
    const [first] = files;
    if (first === undefined) throw new Error('no file');
    const shown = await cli(local, ['calls', String(first.callId)]);
    expect(shown.out).toContain(`archived: ${account}/calls/${first.callId}/${first.kind}.mp3`);
    // Later events of the same calls, re-signed links and all, leave the archives in place and add no job.
    await waitFor(() => (local.stack.mediaDepth().queue === 0 ? true : undefined), 30_000);
    expect(local.stack.mediaDepth()).toEqual({ queue: 0, deadLetterQueue: 0 });
  }, 120_000);

  it('sends the job of an expired link to the media dead-letter queue, with its reason, when no credentials can refresh it', async () => {
    const simulator = simulatorOf(local);
    const callId = 990_000_123;
    const signedAt = Math.floor(Date.now() / 1000) - 3 * 3600;
    const expired =
      `${simulator.url}/media/local/${callId}/recording.mp3?X-Amz-Date=${amzDate(signedAt)}` +
      '&X-Amz-Expires=600&X-Amz-Signature=sim-0';
    const ended = JSON.parse(sampleBody('captured-outbound-call.ended')) as { data: Record<string, unknown> };
    const body = withToken(
      JSON.stringify({ ...ended, data: { ...ended.data, id: callId, recording: expired } }),
    );
    // The dead letter is logged as an error, with the reason and the link without its query.
    const { result: answer, output } = await captureOutput(async () => {
      const status = await post(local.stack.webhookUrl, body);
      await waitFor(() => (local.stack.mediaDepth().deadLetterQueue === 1 ? true : undefined), 30_000);
      return status;
    });
    expect(answer).toBe(200);
    expect(output).toContain('"message":"media job sent to the dead-letter queue"');
    expect(output).not.toContain('X-Amz-Signature');
    const sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
    try {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: local.stack.media.queues.deadLetterQueueUrl,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      expect(Messages[0]?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]?.StringValue).toBe(
        `the link to the recording of call ${callId} has expired, and no Aircall credentials are configured for account local to refresh it`,
      );
      expect(JSON.parse(Messages[0]?.Body ?? '{}')).toMatchObject({
        account: 'local',
        callId: String(callId),
      });
    } finally {
      sqs.destroy();
    }
    expect((await callItem(local, callId))?.recording_archive).toBeUndefined();
  }, 60_000);
  it('fetches nothing from a link off the allow-list: an unlisted loopback origin, link-local or a private address', async () => {
    let requests = 0;
    const bait = createServer((_request, response) => {
      requests += 1;
      response.end('not audio');
    });
    await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
    const { port } = bait.address() as AddressInfo;
    const links = [
      `http://127.0.0.1:${port}/recording.mp3`,
      'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'https://10.0.0.7/recording.mp3',
    ];
    const ended = JSON.parse(sampleBody('captured-outbound-call.ended')) as { data: Record<string, unknown> };
    const before = local.stack.mediaDepth().deadLetterQueue;
    try {
      const { result: answers } = await captureOutput(async () => {
        const statuses: number[] = [];
        for (const [i, link] of links.entries()) {
          const data = { ...ended.data, id: 990_000_200 + i, recording: link };
          statuses.push(await post(local.stack.webhookUrl, withToken(JSON.stringify({ ...ended, data }))));
        }
        await waitFor(
          () => (local.stack.mediaDepth().deadLetterQueue === before + links.length ? true : undefined),
          30_000,
        );
        return statuses;
      });
      expect(answers).toEqual([200, 200, 200]);
      expect(requests).toBe(0);
      for (const i of links.keys())
        expect((await callItem(local, 990_000_200 + i))?.recording_archive).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => bait.close(() => resolve()));
    }
  }, 60_000);
});

describe('media archive on the local stack, links expired on arrival', () => {
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'ERROR',
      // Calls three hours old: every link they were delivered with has expired.
      simulator: {
        port: 0,
        eventsPerSecond: 0,
        behaviour: { startTime: Math.floor(Date.now() / 1000) - 3 * 3600, duplicateRate: 0 },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await local?.dispose();
  });

  it('refreshes each expired link through GET /v1/calls/:id and archives the file from the fresh one', async () => {
    const simulator = simulatorOf(local);
    const events = simulator.generate(3);
    await simulator.flush({ timeoutMs: 30_000 });
    const files = filesOf(events);
    expect(files.length).toBeGreaterThan(0);

    const account = local.stack.simulator?.credentials.account ?? '';
    for (const { file, archive } of await archived(local, files)) {
      expect(archive).toMatchObject({ sha256: simulator.mediaBytes(account, file.callId, file.kind).sha256 });
      // Known expired by the link's own date, so the old link was never tried.
      expect(simulator.mediaDownloads(account, file.callId, file.kind)).toMatchObject({
        downloads: 1,
        refused: 0,
      });
    }
    expect(local.stack.mediaDepth().deadLetterQueue).toBe(0);
  }, 120_000);
});
