// The operator tools end to end on the local stack: `redrive` moves dead letters back to the events queue, where
// persist stores them, and `replay` feeds the stored events back through persist, which changes nothing.

import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/run.js';
import { resolveTarget } from '../../cli/target.js';
import { DEAD_LETTER_ATTRIBUTES, MESSAGE_ATTRIBUTES } from '../../lib/definitions/pipeline.js';
import { STATE_TABLES } from '../../lib/definitions/tables.js';
import { localSqsClientConfig } from '../../local/clients.js';
import { recordingIo } from '../cli/io.js';
import { type SampleName, sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';
import { type Item, scanEvents, scanTable } from '../support/tables.js';

const SAMPLES: readonly SampleName[] = [
  'captured-outbound-call.created',
  'captured-outbound-call.hungup',
  'captured-outbound-call.ended',
  'captured-user.created',
  'captured-contact.created',
  'documented-number.closed',
];

/** The CLI as a user runs it against this stack: found through the record in its DATA_DIR. */
const cli = async (local: TestLocalStack, argv: readonly string[]) => {
  const io = recordingIo({
    resolveTarget: resolveTarget({ DATA_DIR: local.settings.dataDir }),
    now: new Date(),
  });
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err() };
};

const json = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

/** The body as ingest queues it: without its token. */
const queuedBody = (name: SampleName): string => {
  const { token: _token, ...envelope } = JSON.parse(sampleBody(name)) as Record<string, unknown>;
  return JSON.stringify(envelope);
};

const byKey = (items: readonly Item[]): Item[] =>
  [...items].sort((a, b) =>
    JSON.stringify([a.id, a.pk, a.sk]).localeCompare(JSON.stringify([b.id, b.pk, b.sk])),
  );

/** Every item of every state table, in a fixed order. */
const stateSnapshot = async (local: TestLocalStack) =>
  Object.fromEntries(
    await Promise.all(
      STATE_TABLES.map(
        async (table) =>
          [table, byKey(await scanTable(local.documents, local.settings.tables[table]))] as const,
      ),
    ),
  );

describe('redrive on the local stack', () => {
  let local: TestLocalStack;
  let sqs: SQSClient;

  beforeAll(async () => {
    // No archive: the samples link to recordings on hosts a test must not reach.
    local = await startTestLocalStack({ archiveMedia: false });
    sqs = new SQSClient(localSqsClientConfig(local.stack.endpoints.sqs));
  });

  afterAll(async () => {
    sqs.destroy();
    await local.dispose();
  });

  it('moves every dead letter back to the events queue, where persist stores it, and a second run moves none', async () => {
    const receivedAt = Date.now() - 60_000;
    for (const [index, name] of SAMPLES.entries()) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: local.stack.queues.deadLetterQueueUrl,
          MessageBody: queuedBody(name),
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.account]: { DataType: 'String', StringValue: local.settings.account },
            [MESSAGE_ATTRIBUTES.receivedAt]: { DataType: 'Number', StringValue: String(receivedAt + index) },
            [DEAD_LETTER_ATTRIBUTES.failureReason]: {
              DataType: 'String',
              StringValue: 'throttled, five times',
            },
            [DEAD_LETTER_ATTRIBUTES.failedAt]: { DataType: 'Number', StringValue: String(receivedAt + 1000) },
          },
        }),
      );
    }
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: SAMPLES.length });

    const first = await cli(local, ['redrive', '--json']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(json(first.out)).toMatchObject({
      queue: 'events',
      method: 'by-hand',
      moved: SAMPLES.length,
      left: 0,
      not_sent: {},
      not_deleted: 0,
    });
    expect(local.stack.depth().deadLetterQueue).toBe(0);

    // Persist stores each once; none comes back to the dead-letter queue.
    const events = await waitFor(async () => {
      const rows = await scanEvents(local.documents, local.settings.tables.events);
      return rows.length === SAMPLES.length && local.stack.depth().queue === 0 ? rows : undefined;
    }, 20_000);
    expect(events.map((row) => row.received_at).sort()).toEqual(
      SAMPLES.map((_, index) => receivedAt + index),
    );
    expect(events.every((row) => row.account === local.settings.account)).toBe(true);
    const calls = await scanTable(local.documents, local.settings.tables.calls);
    expect(calls.map((call) => call.last_event)).toEqual(['call.ended']);
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 0 });
    expect(local.stack.activity.failed).toBe(0);

    const second = await cli(local, ['redrive']);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/^moved +0$/m);
    expect(second.out).toMatch(/^left +0$/m);
  }, 60_000);

  it('says the media dead-letter queue is empty when nothing is in it', async () => {
    const result = await cli(local, ['redrive', '--media', '--json']);
    expect(result.code).toBe(0);
    expect(json(result.out)).toMatchObject({ queue: 'media', moved: 0, left: 0 });
  });
});

describe('replay on the local stack', () => {
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({ archiveMedia: false });
  });

  afterAll(async () => {
    await local.dispose();
  });

  it('sends every stored event back through persist, which adds no event and changes no item', async () => {
    for (const name of SAMPLES)
      expect(await post(local.stack.webhookUrl, withToken(sampleBody(name)))).toBe(200);
    const stored = await waitFor(async () => {
      const rows = await scanEvents(local.documents, local.settings.tables.events);
      return rows.length === SAMPLES.length && local.stack.depth().queue === 0 ? rows : undefined;
    }, 20_000);
    const before = await stateSnapshot(local);
    const persistedBefore = local.stack.activity.persisted;
    // The days the rows were received on, so that a run across midnight still covers them all.
    const days = stored.map((row) => new Date(Number(row.received_at)).toISOString().slice(0, 10)).sort();

    const result = await cli(local, ['replay', '--from', days[0] ?? '', '--to', days.at(-1) ?? '', '--json']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(json(result.out)).toMatchObject({
      dry_run: false,
      read: stored.length,
      sent: stored.length,
      missing: 0,
      unreadable: 0,
      accounts: { [local.settings.account]: { read: stored.length, sent: stored.length } },
    });

    await waitFor(
      () =>
        local.stack.depth().queue === 0 && local.stack.activity.persisted === persistedBefore + stored.length
          ? true
          : undefined,
      20_000,
    );
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 0 });
    expect(local.stack.activity.failed).toBe(0);
    expect(byKey(await scanEvents(local.documents, local.settings.tables.events))).toEqual(byKey(stored));
    expect(await stateSnapshot(local)).toEqual(before);
  }, 60_000);

  it('counts without sending on a dry run, and keeps to the account asked for', async () => {
    const persistedBefore = local.stack.activity.persisted;
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const weekAgo = new Date(now - 7 * 86_400_000).toISOString().slice(0, 10);
    const dry = await cli(local, ['replay', '--from', weekAgo, '--to', today, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(json(dry.out)).toMatchObject({
      dry_run: true,
      read: SAMPLES.length,
      sent: 0,
      would_send: SAMPLES.length,
    });
    const other = await cli(local, ['replay', '--from', weekAgo, '--to', today, '--account', 'nobody']);
    expect(other.code).toBe(0);
    expect(other.out).toMatch(/^read +0$/m);
    expect(local.stack.depth().queue).toBe(0);
    expect(local.stack.activity.persisted).toBe(persistedBefore);
  });
});
