// The media host failing for some files: every file is archived once, or its job ends in the media dead-letter queue
// with its reason; none is lost.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lib/definitions/pipeline.js';
import { localClientTarget, localSqsClientConfig } from '../../../local/clients.js';
import { type LocalSettings, readLocalSettings } from '../../../local/settings.js';
import { type LocalStack, startLocalStack } from '../../../local/stack.js';
import { deliveryBody, type GeneratedEvent } from '../../../simulator/envelope.js';
import { randomCompany, type Simulator, startSimulator } from '../../../simulator/simulator.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { post, TOKEN, waitFor } from '../../support/local.js';
import { filesOf, type MediaFile } from '../../support/media-files.js';
import { scanTable } from '../../support/tables.js';

const company = randomCompany('media-co');

describe('media archive with the media host failing', () => {
  let simulator: Simulator;
  let media: FaultProxy;
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
      // The queues' own visibility timeouts: no job here is meant to come back for a retry.
    });
    documents = DynamoDBDocumentClient.from(new DynamoDBClient(localClientTarget(stack.endpoints.dynamodb)));
  });

  afterAll(async () => {
    await stack?.stop();
    documents?.destroy();
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

  /** The files archived with the bytes the media host serves for them. */
  const matchingSource = async (files: readonly MediaFile[]) => {
    const calls = new Map(
      (await scanTable(documents, settings.tables.calls)).map((call) => [Number(call.id), call]),
    );
    return files.filter((file) => {
      const archive = calls.get(file.callId)?.[`${file.kind}_archive`] as { sha256?: string } | undefined;
      return archive?.sha256 === simulator.mediaBytes(company.account, file.callId, file.kind).sha256;
    });
  };

  /** The jobs in the media dead-letter queue, read and left there. */
  const deadLetters = async () => {
    const client = new SQSClient(localSqsClientConfig(stack.endpoints.sqs));
    try {
      const letters: { callId: number; kind: string; reason: string | undefined }[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.media.queues.deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ['All'],
            VisibilityTimeout: 60,
          }),
        );
        if (Messages.length === 0) return letters;
        for (const message of Messages) {
          const job = JSON.parse(message.Body ?? '{}') as { callId?: string; kind?: string };
          letters.push({
            callId: Number(job.callId),
            kind: String(job.kind),
            reason: message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.failureReason]?.StringValue,
          });
        }
      }
    } finally {
      client.destroy();
    }
  };

  const archivedOf = async (files: readonly MediaFile[]) => {
    const calls = new Map(
      (await scanTable(documents, settings.tables.calls)).map((call) => [Number(call.id), call]),
    );
    return files.filter((file) => calls.get(file.callId)?.[`${file.kind}_archive`] !== undefined);
  };

  it('sends the job of a file the media host no longer has to the media dead-letter queue with its reason, and archives the rest', async () => {
    const events = simulator.generate(6);
    const files = filesOf(events);
    // The host answers 404 to every second file; the others download as usual.
    const gone = new Set(files.filter((_, i) => i % 2 === 0).map((f) => `/${f.callId}/${f.kind}.`));
    const isGone = ({ path }: { readonly path: string }) => [...gone].some((part) => path.includes(part));
    media.fail(isGone, { status: 404, body: '<Error><Code>NoSuchKey</Code></Error>' });
    const { answers } = await deliver(events);
    await waitFor(
      () =>
        stack.mediaDepth().queue === 0 && stack.mediaDepth().deadLetterQueue >= gone.size ? true : undefined,
      60_000,
    );
    media.heal();
    const letters = await deadLetters();
    const deadFiles = new Set(letters.map((l) => `${l.callId}/${l.kind}`));
    const archived = new Set((await archivedOf(files)).map((f) => `${f.callId}/${f.kind}`));

    expect({
      events: answers.length,
      answered200: answers.filter((status) => status === 200).length,
      files: files.length,
      goneAtTheHost: gone.size,
      archived: archived.size,
      archivedMatchingTheSource: (await matchingSource(files)).length,
      deadLetteredFiles: deadFiles.size,
      bothOrNeither: files.filter(
        (f) => archived.has(`${f.callId}/${f.kind}`) === deadFiles.has(`${f.callId}/${f.kind}`),
      ).length,
      refusedByTheHost: media.counts.injected[404],
    }).toEqual({
      events: answers.length,
      answered200: answers.length,
      files: files.length,
      goneAtTheHost: gone.size,
      archived: files.length - gone.size,
      archivedMatchingTheSource: files.length - gone.size,
      deadLetteredFiles: gone.size,
      bothOrNeither: 0,
      refusedByTheHost: letters.length,
    });
    for (const letter of letters)
      expect(letter.reason).toMatch(
        new RegExp(`^the ${letter.kind} of call ${letter.callId} cannot be downloaded: 404`),
      );
  }, 120_000);
});
