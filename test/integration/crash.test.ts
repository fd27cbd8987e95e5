// The local stack killed with SIGKILL under load from another process, then started again on the same data:
// every event it answered 200 is stored.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { localClientTarget, localSqsClientConfig } from '../../local/clients.js';
import { sampleBody } from '../support/fixtures.js';
import { post, waitFor } from '../support/local.js';
import { type StackProcess, spawnLocalStack } from '../support/stack-process.js';
import { type Item, scanTable } from '../support/tables.js';

const TOKEN = 'crash-test-token';
const FIRST_ID = 3_000_000_000;
const SENDERS = 16;
const ACCEPTED_BEFORE_KILL = 1200;

describe('local stack killed with SIGKILL', () => {
  const running: StackProcess[] = [];
  let dataDir: string | undefined;

  afterAll(async () => {
    for (const stack of running) {
      if (stack.child.exitCode === null && stack.child.signalCode === null) {
        stack.child.kill('SIGTERM');
        await stack.exited;
      }
    }
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('stores every event it answered 200 once started again on the same DATA_DIR', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-crash-'));
    const env = { LOCAL_WEBHOOK_TOKEN: TOKEN };
    const first = await spawnLocalStack(dataDir, env);
    running.push(first);

    const base = JSON.parse(sampleBody('captured-outbound-call.created')) as Item & { data: Item };
    const accepted: number[] = [];
    let next = FIRST_ID;
    let killed = false;
    // Each sender posts distinct calls until the stack dies under it; a request cut by the kill is not counted.
    const sender = async (): Promise<void> => {
      while (!killed) {
        const id = next++;
        const body = JSON.stringify({ ...base, token: TOKEN, data: { ...base.data, id } });
        const status = await post(first.record.endpoints.webhookUrl, body).catch(() => 0);
        if (status === 200) accepted.push(id);
        else if (status === 0) return;
      }
    };
    const traffic = Promise.all(Array.from({ length: SENDERS }, sender));
    // Killed with events still in the queue, so that the restart has something to bring back.
    const sqs = new SQSClient(localSqsClientConfig(first.record.endpoints.sqs));
    await waitFor(async () => {
      if (accepted.length < ACCEPTED_BEFORE_KILL) return undefined;
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: first.record.queues.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const held =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      return held > 0 ? true : undefined;
    }, 60_000);
    sqs.destroy();
    first.child.kill('SIGKILL');
    killed = true;
    expect(await first.exited).toBe('SIGKILL');
    await traffic;

    const second = await spawnLocalStack(dataDir, env);
    running.push(second);
    const documents = DynamoDBDocumentClient.from(
      new DynamoDBClient(localClientTarget(second.record.endpoints.dynamodb)),
    );
    try {
      const storedIds = async (): Promise<Set<unknown>> =>
        new Set((await scanTable(documents, second.record.tables.calls)).map((call) => call.id));
      const stored = await waitFor(async () => {
        const ids = await storedIds();
        return accepted.every((id) => ids.has(id)) ? ids : undefined;
      }, 60_000).catch(async () => storedIds());
      const storedOfAccepted = accepted.filter((id) => stored.has(id));

      expect(accepted.length).toBeGreaterThanOrEqual(1000);
      // The second start found the first one's queue on disk, not an empty one.
      expect(second.record.queuedAtStart.queue).toBeGreaterThan(0);
      expect({
        answered200: accepted.length,
        stored: storedOfAccepted.length,
        lost: accepted.length - storedOfAccepted.length,
      }).toEqual({
        answered200: accepted.length,
        stored: accepted.length,
        lost: 0,
      });
    } finally {
      documents.destroy();
    }
  }, 180_000);
});
