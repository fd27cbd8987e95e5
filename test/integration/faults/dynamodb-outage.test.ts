// DynamoDB unreachable for the handlers for a few seconds in the middle of steady traffic: what was answered 200 is
// stored once, the rest was never answered 200, and nothing reaches the dead-letter queue. A token ingest has not
// cached meanwhile is answered 503, so that Aircall retries, never 401.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_QUEUE } from '../../../lib/definitions/pipeline.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor } from '../../support/local.js';
import { resourceIdOf, scanEvents, scanTable } from '../../support/tables.js';
import { callCreated, sendAll, tally } from './traffic.js';

const EVENTS = 200;
const CONCURRENCY = 6;
const FIRST_ID = 4_100_000_000;
/** Short, so the records failed in the outage come back soon. */
const VISIBILITY_TIMEOUT_SECONDS = 2;
/** Well under the receives a record has before the dead-letter queue, times the visibility timeout. */
const OUTAGE_MS = 3000;

describe('DynamoDB unavailable to the handlers during steady traffic', () => {
  let dynamo: FaultProxy | undefined;
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'CRITICAL',
      archiveMedia: false,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      handlerEndpoints: async (emulators) => {
        dynamo = await startFaultProxy(emulators.dynamodb);
        return { dynamodb: dynamo.url };
      },
    });
  });

  afterAll(async () => {
    await local?.dispose();
    await dynamo?.close();
  });

  it('stores every event answered 200 exactly once, and only those, with none in the dead-letter queue', async () => {
    const proxy = dynamo;
    if (proxy === undefined) throw new Error('no proxy');
    expect(OUTAGE_MS).toBeLessThan((EVENTS_QUEUE.maxReceiveCount - 2) * VISIBILITY_TIMEOUT_SECONDS * 1000);
    const items = Array.from({ length: EVENTS }, (_, i) => ({
      id: FIRST_ID + i,
      body: callCreated(FIRST_ID + i),
    }));
    let outage: Promise<void> | undefined;
    let refusedInOutage = 0;
    const answers = await sendAll(local.stack.webhookUrl, items, CONCURRENCY, (index) => {
      if (index !== EVENTS / 4) return;
      // A quarter of the way in, DynamoDB goes away for a bounded time while the stream goes on.
      proxy.down();
      const before = proxy.counts.refused;
      outage = new Promise<void>((resolve) => setTimeout(resolve, OUTAGE_MS)).then(() => {
        refusedInOutage = proxy.counts.refused - before;
        proxy.heal();
      });
    });
    await outage;

    const accepted = answers.filter((a) => a.status === 200).map((a) => a.id);
    const notAccepted = answers.filter((a) => a.status !== 200);
    // Every record failed in the outage is retried until stored: the queue drains, nothing dead-lettered.
    await waitFor(() => {
      const { queue } = local.stack.depth();
      return queue === 0 ? true : undefined;
    }, 60_000);
    const calls = await scanTable(local.documents, local.settings.tables.calls);
    const events = await scanEvents(local.documents, local.settings.tables.events);
    const eventsPerCall = tally(events.map((row) => Number(resourceIdOf(row))));
    const storedIds = new Set(calls.map((call) => Number(call.id)));

    // Persist really was refused while the queue kept being fed.
    expect(refusedInOutage).toBeGreaterThan(0);
    expect(local.stack.activity.failed).toBeGreaterThan(0);
    expect({
      sent: answers.length,
      answered200: accepted.length,
      answeredOther: notAccepted.length,
      storedCalls: calls.length,
      storedEvents: events.length,
      acceptedStoredOnce: accepted.filter((id) => storedIds.has(id) && eventsPerCall.get(id) === 1).length,
      storedNotAccepted: notAccepted.filter((a) => storedIds.has(a.id)).length,
      deadLettered: local.stack.depth().deadLetterQueue,
    }).toEqual({
      sent: EVENTS,
      answered200: accepted.length,
      answeredOther: EVENTS - accepted.length,
      storedCalls: accepted.length,
      storedEvents: accepted.length,
      acceptedStoredOnce: accepted.length,
      storedNotAccepted: 0,
      deadLettered: 0,
    });
    // Ingest's token look-up is cached, so the outage costs it nothing: it kept answering 200.
    expect(notAccepted.map((a) => a.status)).toEqual([]);
  }, 90_000);

  it('answers 503 within 5 s, not 401, to a token it has not cached while the registry is unreachable, and queues nothing', async () => {
    const proxy = dynamo;
    if (proxy === undefined) throw new Error('no proxy');
    const queuedBefore = local.stack.depth().queue;
    const persistedBefore = local.stack.activity.persisted;
    // A token this ingest has never looked up: only the registry can say whether it is known.
    const body = JSON.stringify({ ...JSON.parse(callCreated(FIRST_ID + EVENTS)), token: 'never-looked-up' });
    proxy.down();
    const started = performance.now();
    const status = await post(local.stack.webhookUrl, body);
    const ms = performance.now() - started;
    const refused = proxy.counts.refused;
    proxy.heal();
    const afterwards = await post(local.stack.webhookUrl, body);

    expect({ status, afterwards, refusedLookups: refused > 0 }).toEqual({
      status: 503,
      afterwards: 401,
      refusedLookups: true,
    });
    // Aircall's 5 s, with a wide margin for a slow machine: ingest's own bound is about 3.5 s.
    expect(ms).toBeLessThan(5000);
    expect(local.stack.depth().queue).toBe(queuedBefore);
    expect(local.stack.activity.persisted).toBe(persistedBefore);
  }, 30_000);
});
