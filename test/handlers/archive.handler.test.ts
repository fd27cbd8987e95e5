// The archive handler against the embedded emulators: dynalite's calls table, fauxqs's S3 bucket and queue, and the
// simulator serving signed media links and `GET /v1/calls/:id`.

import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3ObjectStore } from '../../lambdas/archive/adapters.js';
import { ARCHIVE_ENV, loadArchiveConfig } from '../../lambdas/archive/config.js';
import {
  type ArchiveHandler,
  archiveDependencies,
  createArchiveDeadLetterClient,
  createArchiveDynamoClient,
  createArchiveHandler,
  createArchiveS3Client,
} from '../../lambdas/archive/handler.js';
import type { MediaSource } from '../../lambdas/archive/ports.js';
import type { MediaJob, MediaKind } from '../../lib/definitions/media.js';
import { ARCHIVE_METRICS } from '../../lib/definitions/metrics.js';
import { DEAD_LETTER_ATTRIBUTES, ENV } from '../../lib/definitions/pipeline.js';
import { tableEnvName } from '../../lib/definitions/tables.js';
import type { GeneratedEvent } from '../../simulator/envelope.js';
import { type Simulator, startSimulator } from '../../simulator/simulator.js';
import { captureOutput } from '../support/capture.js';
import { lambdaContext, receiveAll, sqsEvent } from '../support/lambda-events.js';
import { startStack, type TestStack, testLogger } from '../support/stack.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const START_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const EXPIRY_SECONDS = 600;
const MB = 1_000_000;
const LARGE_BYTES = 60 * MB;

let stack: TestStack;
let simulator: Simulator;
let s3: S3Client;
let bucket: string;
let mediaDeadLetterQueueUrl: string;
/** The clock of the simulator and of the archive alike, which a test moves. */
let nowMs = START_MS;
/** Calls whose recording the simulator serves at LARGE_BYTES. */
const largeCalls = new Set<string>();
const stopped: { destroy(): void }[] = [];
/** Where the handlers keep their downloads until stored. */
const scratchRoot = mkdtempSync(join(tmpdir(), 'archive-handler-'));
const scratchDirectory = join(scratchRoot, 'scratch');

beforeAll(async () => {
  stack = await startStack();
  simulator = await startSimulator({
    companies: [ACME],
    now: () => nowMs,
    mediaLinkExpirySeconds: EXPIRY_SECONDS,
    mediaSizeBytes: (file) => (largeCalls.has(String(file.callId)) ? LARGE_BYTES : 49_152),
  });
  s3 = createArchiveS3Client(stack.targets.sqs, { forcePathStyle: true });
  stopped.push(s3);
  bucket = `media-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { QueueUrl } = await stack.sqs.send(
    new CreateQueueCommand({ QueueName: `media-dlq-${randomUUID().slice(0, 8)}` }),
  );
  if (QueueUrl === undefined) throw new Error('no media dead-letter queue');
  mediaDeadLetterQueueUrl = QueueUrl;
});

afterAll(async () => {
  for (const client of stopped) client.destroy();
  await simulator?.stop();
  await stack?.stop();
  rmSync(scratchRoot, { recursive: true, force: true });
});

/** Bytes of the downloads on scratch disk right now. */
const bytesOnScratch = (): number =>
  existsSync(scratchDirectory)
    ? readdirSync(scratchDirectory).reduce(
        (total, folder) =>
          total +
          readdirSync(join(scratchDirectory, folder)).reduce(
            (sum, file) => sum + statSync(join(scratchDirectory, folder, file)).size,
            0,
          ),
        0,
      )
    : 0;

interface HandlerOptions {
  /** @default true */
  readonly credentials?: boolean;
  /** Wraps the media source, to watch what it hands on. */
  readonly media?: (source: MediaSource) => MediaSource;
}

/** An archive handler on this stack, wired as the deployed one, its Aircall secret read from memory. */
const archiveHandler = (options: HandlerOptions = {}) => {
  const config = loadArchiveConfig({
    [ARCHIVE_ENV.mediaBucket]: bucket,
    [tableEnvName('calls')]: stack.tables.calls,
    [ARCHIVE_ENV.mediaDeadLetterQueueUrl]: mediaDeadLetterQueueUrl,
    // The simulator's own origin: an exact entry, so its loopback address may be reached.
    [ARCHIVE_ENV.allowedOrigins]: simulator.url,
    [ENV.aircallApiUrl]: simulator.apiUrl,
    ...(options.credentials === false ? {} : { [ENV.aircallSecretId]: 'aircall-credentials' }),
  });
  const clients = {
    dynamo: createArchiveDynamoClient(stack.targets.dynamo),
    s3: createArchiveS3Client(stack.targets.sqs, { forcePathStyle: true }),
    deadLetters: createArchiveDeadLetterClient(stack.targets.sqs),
  };
  stopped.push(clients.dynamo, clients.s3, clients.deadLetters);
  const deps = archiveDependencies(config, {
    clients,
    scratchDirectory,
    readSecret: async () =>
      JSON.stringify([{ account: ACME.account, api_id: ACME.apiId, api_token: ACME.apiToken }]),
    now: () => nowMs,
  });
  const handler: ArchiveHandler = createArchiveHandler({
    ...deps,
    ...(options.media === undefined ? {} : { media: options.media(deps.media) }),
    logger: testLogger('archive'),
    metrics: new Metrics(ARCHIVE_METRICS.options),
  });
  return { handler, clients, objects: deps.objects as S3ObjectStore };
};

/** A generated call event carrying a recording link, its call stored as persist would have stored it. */
const storedCall = async (kind: MediaKind = 'recording'): Promise<GeneratedEvent> => {
  nowMs += 60_000;
  const event = simulator
    .generate(20, ACME.account)
    .find((e) => e.resource === 'call' && typeof e.data[kind] === 'string');
  if (event === undefined) throw new Error(`no ${kind} in the generated events`);
  await stack.documents.send(
    new PutCommand({
      TableName: stack.tables.calls,
      Item: { id: Number(event.data.id), account: ACME.account, status: 'done', last_event: event.event },
    }),
  );
  return event;
};

const jobOf = (event: GeneratedEvent, kind: MediaKind = 'recording'): MediaJob => ({
  account: ACME.account,
  callId: String(event.data.id),
  kind,
  url: String(event.data[kind]),
});

const recordOf = (job: MediaJob): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: randomUUID(),
  body: JSON.stringify(job),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(nowMs),
    SenderId: 'persist',
    ApproximateFirstReceiveTimestamp: String(nowMs),
  },
  messageAttributes: {},
  md5OfBody: createHash('md5').update(JSON.stringify(job)).digest('hex'),
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:media',
  awsRegion: 'us-east-1',
});

const run = (handler: ArchiveHandler, jobs: readonly MediaJob[]) =>
  captureOutput(() => handler(sqsEvent(jobs.map(recordOf)), lambdaContext('archive')));

const callItem = async (callId: string) =>
  (await stack.documents.send(new GetCommand({ TableName: stack.tables.calls, Key: { id: Number(callId) } })))
    .Item;

const objectDigest = async (key: string) => {
  const { Body, ContentType } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (Body === undefined) throw new Error(`no body for ${key}`);
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    length += chunk.length;
  }
  return { sha256: hash.digest('hex'), length, contentType: ContentType };
};

describe('archive handler', () => {
  it('archives a recording into the bucket and records it on the call, other attributes untouched', async () => {
    const { handler } = archiveHandler();
    const event = await storedCall();
    const job = jobOf(event);
    const { result, output } = await run(handler, [job]);

    expect(result.batchItemFailures).toEqual([]);
    const served = simulator.mediaBytes(ACME.account, Number(event.data.id), 'recording');
    const key = `acme/calls/${job.callId}/recording.mp3`;
    expect(await objectDigest(key)).toEqual({ ...served, contentType: 'audio/mpeg' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.Metadata).toEqual({ sha256: served.sha256 });
    expect(await callItem(job.callId)).toEqual({
      id: Number(job.callId),
      account: ACME.account,
      status: 'done',
      last_event: event.event,
      recording_archive: {
        key,
        bytes: served.length,
        content_type: 'audio/mpeg',
        sha256: served.sha256,
        archived_at: Math.floor(nowMs / 1000),
      },
    });
    // The link's query string is a credential: no log line carries it.
    expect(output).not.toContain('X-Amz-Signature');
    expect(output).toContain(`/media/acme/${job.callId}/recording.mp3`);
  });

  it('downloads nothing for a second job of the same file, even with a freshly signed link', async () => {
    const { handler } = archiveHandler();
    const event = await storedCall();
    const job = jobOf(event);
    await run(handler, [job]);
    const fresh = new URL(job.url);
    fresh.searchParams.set('X-Amz-Signature', 'another-signature');
    const { result } = await run(handler, [job, { ...job, url: fresh.href }]);

    expect(result.batchItemFailures).toEqual([]);
    expect(simulator.mediaDownloads(ACME.account, Number(event.data.id), 'recording')).toMatchObject({
      downloads: 1,
      refused: 0,
    });
  });

  it('downloads a file once when two jobs of it arrive in one batch, one link re-signed', async () => {
    const { handler } = archiveHandler();
    const event = await storedCall();
    const job = jobOf(event);
    const resigned = new URL(job.url);
    resigned.searchParams.set('X-Amz-Signature', 'resigned');
    const { result } = await run(handler, [job, { ...job, url: resigned.href }]);

    // When the two ran side by side, the one that found the lease taken is handed back for a retry, which finds
    // the file archived and downloads nothing.
    expect(result.batchItemFailures.length).toBeLessThanOrEqual(1);
    if (result.batchItemFailures.length === 1) {
      const again = await run(handler, [{ ...job, url: resigned.href }]);
      expect(again.result.batchItemFailures).toEqual([]);
    }
    expect(simulator.mediaDownloads(ACME.account, Number(event.data.id), 'recording').downloads).toBe(1);
    const item = await callItem(job.callId);
    expect(item?.recording_archive).toMatchObject({ key: `acme/calls/${job.callId}/recording.mp3` });
    expect(item?.recording_archive_lease).toBeUndefined();
  });

  it('refreshes an expired link through GET /v1/calls/:id and archives from the fresh one', async () => {
    const { handler } = archiveHandler();
    const event = await storedCall();
    const job = jobOf(event);
    nowMs = (event.timestamp + EXPIRY_SECONDS + 60) * 1000;
    const { result, output } = await run(handler, [job]);

    expect(result.batchItemFailures).toEqual([]);
    const served = simulator.mediaBytes(ACME.account, Number(event.data.id), 'recording');
    expect((await callItem(job.callId))?.recording_archive).toMatchObject({ sha256: served.sha256 });
    // Known expired by the clock, so the old link was never tried.
    expect(simulator.mediaDownloads(ACME.account, Number(event.data.id), 'recording')).toMatchObject({
      downloads: 1,
      refused: 0,
    });
    expect(output).toContain('"refreshed":true');
  });

  it('sends an expired link without credentials to refresh it to the media dead-letter queue, with its reason', async () => {
    const { handler } = archiveHandler({ credentials: false });
    const event = await storedCall();
    const job = jobOf(event);
    nowMs = (event.timestamp + EXPIRY_SECONDS + 60) * 1000;
    const { result } = await run(handler, [job]);

    expect(result.batchItemFailures).toEqual([]);
    const letters = await receiveAll(stack.sqs, mediaDeadLetterQueueUrl);
    const letter = letters.find((m) => m.Body === JSON.stringify(job));
    expect(letter?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]?.StringValue).toBe(
      `the link to the recording of call ${job.callId} has expired, and no Aircall credentials are configured for account acme to refresh it`,
    );
    expect((await callItem(job.callId))?.recording_archive).toBeUndefined();
    expect(simulator.mediaDownloads(ACME.account, Number(event.data.id), 'recording').downloads).toBe(0);
  });

  it('archives a 60 MB recording while holding a bounded part of it, never the whole file', async () => {
    let downloaded = 0;
    let uploaded = 0;
    let mostHeld = 0;
    /** Counts what the download hands on; what is not on scratch disk yet is held by the function. */
    const counting = (source: MediaSource): MediaSource => ({
      download: async (url) => {
        const download = await source.download(url);
        const tap = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            downloaded += chunk.length;
            mostHeld = Math.max(mostHeld, downloaded - bytesOnScratch());
            callback(null, chunk);
          },
        });
        download.body.on('error', (error) => tap.destroy(error));
        return { ...download, body: download.body.pipe(tap) };
      },
    });
    const { handler, clients, objects } = archiveHandler({ media: counting });
    // Bytes count as uploaded once S3 has taken the part that holds them.
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const answer = await next(args);
        const body = (args.input as { Body?: unknown }).Body;
        if (context.commandName === 'UploadPartCommand' && body instanceof Uint8Array)
          uploaded += body.byteLength;
        return answer;
      },
      { step: 'initialize', name: 'countUploadedBytes' },
    );
    const event = await storedCall();
    const job = jobOf(event);
    largeCalls.add(job.callId);
    const { result } = await run(handler, [job]);

    expect(result.batchItemFailures).toEqual([]);
    const served = simulator.mediaBytes(ACME.account, Number(event.data.id), 'recording');
    expect(served.length).toBe(LARGE_BYTES);
    expect((await callItem(job.callId))?.recording_archive).toMatchObject({
      bytes: LARGE_BYTES,
      sha256: served.sha256,
    });
    expect(await objectDigest(`acme/calls/${job.callId}/recording.mp3`)).toMatchObject(served);
    // The uploader holds at most its queue of parts and the one filling; the rest is stream buffers.
    expect(objects.partSize * (objects.queueSize + 1)).toBeLessThan(25 * MB);
    expect(downloaded).toBe(LARGE_BYTES);
    expect(mostHeld).toBeLessThan(25 * MB);
    expect(uploaded).toBe(LARGE_BYTES);
    // The scratch file went with the upload.
    expect(bytesOnScratch()).toBe(0);
    // The simulator wrote as the archive read: it never had to hold more than a few chunks unsent either.
    expect(
      simulator.mediaDownloads(ACME.account, Number(event.data.id), 'recording').peakBufferedBytes,
    ).toBeLessThan(2 * MB);
  }, 120_000);
});
