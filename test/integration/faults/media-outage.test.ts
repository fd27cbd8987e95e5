// S3 refusing the archive for a while, on a local stack whose retries come back within the lease: each failed
// attempt drops its lease, so its retry archives the file once S3 is back, and no job is lost.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientTarget } from '../../../local/clients.js';
import { type LocalSettings, readLocalSettings } from '../../../local/settings.js';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';
import { deliveryBody, type GeneratedEvent } from '../../../simulator/envelope.js';
import { randomCompany, type Simulator, startSimulator } from '../../../simulator/simulator.js';
import { type FaultProxy, isS3Request, startFaultProxy } from '../../support/fault-proxy.js';
import { post, TOKEN, waitFor } from '../../support/local.js';
import { filesOf, type MediaFile } from '../../support/media-files.js';
import { scanTable } from '../../support/tables.js';

const company = randomCompany('media-co');

describe('media archive with S3 failing for a while', () => {
  let simulator: Simulator;
  let media: FaultProxy;
  let sqs: FaultProxy | undefined;
  let stack: LocalStack;
  let documents: DynamoDBDocumentClient;
  let dataDir: string;
  let settings: LocalSettings;

  beforeAll(async () => {
    // The media host, behind a proxy the archive is allowed to download from: the links are rewritten to it.
    simulator = await startSimulator({ port: 0, companies: [company], duplicateRate: 0 });
    media = await startFaultProxy(simulator.url);
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-media-faults-'));
    settings = readLocalSettings({
      DATA_DIR: dataDir,
      LOCAL_WEBHOOK_TOKEN: TOKEN,
      PORT: '0',
      DYNAMODB_PORT: '0',
      SQS_PORT: '0',
      MEDIA_ALLOWED_ORIGINS: media.url,
    });
    stack = await startLocalStack({
      settings,
      logLevel: 'CRITICAL',
      visibilityTimeoutSeconds: 2,
      handlerEndpoints: async (emulators) => {
        sqs = await startFaultProxy(emulators.sqs);
        return { sqs: sqs.url };
      },
    });
    documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientTarget(stack.endpoints.dynamodb)));
  });

  afterAll(async () => {
    await stack?.stop();
    documents?.destroy();
    await sqs?.close();
    await media?.close();
    await simulator?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  /** Posts the events with their links pointed at the media proxy, and returns the files they link to. */
  const deliver = async (
    events: readonly GeneratedEvent[],
  ): Promise<{ files: MediaFile[]; answers: number[] }> => {
    const answers: number[] = [];
    for (const event of events) {
      const body = deliveryBody(event, TOKEN).split(simulator.url).join(media.url);
      answers.push(await post(stack.webhookUrl, body));
    }
    return { files: filesOf(events), answers };
  };

  const archivedOf = async (files: readonly MediaFile[]) => {
    const calls = new Map(
      (await scanTable(documents, settings.tables.calls)).map((call) => [Number(call.id), call]),
    );
    return files.filter((file) => calls.get(file.callId)?.[`${file.kind}_archive`] !== undefined);
  };

  it('keeps the jobs while S3 fails, and archives every one once S3 is back', async () => {
    const proxy = sqs;
    if (proxy === undefined) throw new Error('no proxy');
    proxy.fail(isS3Request, { status: 503, body: '<Error><Code>ServiceUnavailable</Code></Error>' });
    const { files, answers } = await deliver(simulator.generate(6));
    // Every file's job has been tried and refused by S3 at least once.
    await waitFor(() => (stack.activity.archiveFailed >= files.length ? true : undefined), 30_000);
    const refusedByS3 = proxy.counts.injected[503] ?? 0;
    proxy.heal();
    // Every job handled: none left in the media queue, in flight or waiting.
    await waitFor(() => (stack.mediaDepth().queue === 0 ? true : undefined), 60_000);
    expect(refusedByS3).toBeGreaterThan(0);
    expect({
      events: answers.length,
      answered200: answers.filter((status) => status === 200).length,
      files: files.length,
      archived: (await archivedOf(files)).length,
      mediaDeadLettered: stack.mediaDepth().deadLetterQueue,
    }).toEqual({
      events: answers.length,
      answered200: answers.length,
      files: files.length,
      archived: files.length,
      mediaDeadLettered: 0,
    });
  }, 120_000);
});
