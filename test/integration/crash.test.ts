// The local stack killed with SIGKILL under load from another process, then started again on the same data:
// every event it answered 200 is stored once, and each call's state is what its stored events give in order.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { localClientTarget, localSqsClientConfig } from '../../local/clients.js';
import { sampleBody } from '../support/fixtures.js';
import { post, waitFor } from '../support/local.js';
import { type StackProcess, spawnLocalStack } from '../support/stack-process.js';
import { type Item, resourceIdOf, scanEvents, scanTable } from '../support/tables.js';

const TOKEN = 'crash-test-token';
const FIRST_ID = 3_000_000_000;
const SENDERS = 16;
const ACCEPTED_BEFORE_KILL = 1200;
/** A call's events in the order Aircall sends them; each later one carries the call's newer state. */
const LIFECYCLE = ['call.created', 'call.hungup', 'call.ended'] as const;
type LifecycleEvent = (typeof LIFECYCLE)[number];
const SAMPLES: Record<LifecycleEvent, Item & { data: Item }> = {
  'call.created': JSON.parse(sampleBody('captured-outbound-call.created')),
  'call.hungup': JSON.parse(sampleBody('captured-outbound-call.hungup')),
  'call.ended': JSON.parse(sampleBody('captured-outbound-call.ended')),
};
const lifecycleData = (event: LifecycleEvent, id: number): Item => ({ ...SAMPLES[event].data, id });
const lifecycleBody = (event: LifecycleEvent, id: number): string =>
  JSON.stringify({ ...SAMPLES[event], token: TOKEN, data: lifecycleData(event, id) });

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

  it('stores every event it answered 200 once, each call in the state its events give in order, once started again on the same DATA_DIR', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'aircall-crash-'));
    const env = { LOCAL_WEBHOOK_TOKEN: TOKEN };
    const first = await spawnLocalStack(dataDir, env);
    running.push(first);

    /** The call of each event answered 200. */
    const accepted: number[] = [];
    /** Per call, the events answered 200, and the one cut by the kill (which may or may not have been queued). */
    const acceptedEvents = new Map<number, string[]>();
    const attemptedEvents = new Map<number, string[]>();
    let next = FIRST_ID;
    let killed = false;
    // Each sender posts one call's lifecycle in order, then the next call's, until the stack dies under it; a
    // request cut by the kill is not counted as accepted.
    const sender = async (): Promise<void> => {
      while (!killed) {
        const id = next++;
        for (const event of LIFECYCLE) {
          attemptedEvents.set(id, [...(attemptedEvents.get(id) ?? []), event]);
          const status = await post(first.record.endpoints.webhookUrl, lifecycleBody(event, id)).catch(
            () => 0,
          );
          if (status === 200) {
            accepted.push(id);
            acceptedEvents.set(id, [...(acceptedEvents.get(id) ?? []), event]);
          } else if (status === 0) return;
          else break;
        }
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
    const secondSqs = new SQSClient(localSqsClientConfig(second.record.endpoints.sqs));
    try {
      /** Each stored event once as `<call id> <event>`, with how many rows it has. */
      const storedEvents = async (): Promise<Map<string, number>> => {
        const rows = await scanEvents(documents, second.record.tables.events);
        const counts = new Map<string, number>();
        for (const row of rows) {
          const key = `${resourceIdOf(row)} ${row.event}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        return counts;
      };
      const acceptedKeys = [...acceptedEvents].flatMap(([id, events]) =>
        events.map((event) => `${id} ${event}`),
      );
      const stored = await waitFor(async () => {
        const rows = await storedEvents();
        return acceptedKeys.every((key) => rows.has(key)) ? rows : undefined;
      }, 60_000).catch(async () => storedEvents());
      // Drained too, so that an event cut by the kill but queued is in the state compared below.
      await waitFor(async () => {
        const { Attributes = {} } = await secondSqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: second.record.queues.queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Number(Attributes.ApproximateNumberOfMessages ?? 0) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) ===
          0
          ? true
          : undefined;
      }, 60_000);
      const rows = await storedEvents();
      const calls = await scanTable(documents, second.record.tables.calls);
      const storedOfAccepted = acceptedKeys.filter((key) => stored.has(key));
      // The state each call has if its stored events are applied once each, in lifecycle order: its last one's.
      const expectedState = (id: number) => {
        const last = LIFECYCLE.filter((event) => rows.has(`${id} ${event}`)).at(-1);
        return last === undefined ? undefined : { last_event: last, data: lifecycleData(last, id) };
      };
      const callsMatching = calls.filter((call) => {
        const expected = expectedState(Number(call.id));
        return (
          expected !== undefined &&
          call.last_event === expected.last_event &&
          isDeepStrictEqual(call.data, expected.data)
        );
      });
      const neverAttempted = [...rows.keys()].filter((key) => {
        const [id, event] = key.split(' ');
        return !(attemptedEvents.get(Number(id)) ?? []).includes(event ?? '');
      });

      expect(accepted.length).toBeGreaterThanOrEqual(1000);
      // The second start found the first one's queue on disk, not an empty one.
      expect(second.record.queuedAtStart.queue).toBeGreaterThan(0);
      console.log(
        'DBG',
        JSON.stringify({
          accepted: accepted.length,
          rows: rows.size,
          calls: calls.length,
          matching: callsMatching.length,
          queued: second.record.queuedAtStart,
          released: second.record.released,
          lastEvents: [...new Set(calls.map((c) => c.last_event))],
        }),
      );
      expect({
        answered200: accepted.length,
        stored: storedOfAccepted.length,
        lost: accepted.length - storedOfAccepted.length,
        storedTwice: [...rows.values()].filter((n) => n > 1).length,
        storedNeverSent: neverAttempted.length,
        callsStored: calls.length,
        callsInTheInOrderState: callsMatching.length,
      }).toEqual({
        answered200: accepted.length,
        stored: accepted.length,
        lost: 0,
        storedTwice: 0,
        storedNeverSent: 0,
        callsStored: new Set([...rows.keys()].map((key) => key.split(' ')[0])).size,
        callsInTheInOrderState: calls.length,
      });
    } finally {
      secondSqs.destroy();
      documents.destroy();
    }
  }, 180_000);
});
