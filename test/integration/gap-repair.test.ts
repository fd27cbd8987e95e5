// Gap repair end to end: the stack goes down, the simulator gives up on deliveries and deactivates the webhook,
// the stack comes back, and its guardian re-enables the webhook and reads the gap from the Public API.

import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GapRepair } from '../../lambdas/reconcile/gap.js';
import type { JsonObject } from '../../lambdas/shared/envelope.js';
import type { GeneratedEvent } from '../../simulator/envelope.js';
import { randomCompany, type Simulator, startSimulator } from '../../simulator/simulator.js';
import { captureOutput } from '../support/capture.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../support/local.js';

const company = randomCompany('gap-co');
/** The simulator's clock: moved on by the test to run out the retry window. */
let simulatorNow = Date.now();

/** Each call's final data, as the simulator last described it. */
const finalCalls = (events: readonly GeneratedEvent[]): Map<number, JsonObject> => {
  const calls = new Map<number, JsonObject>();
  for (const event of events) if (event.resource === 'call') calls.set(Number(event.data.id), event.data);
  return calls;
};

const nestedId = (value: unknown): number | undefined =>
  typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'number'
    ? value.id
    : undefined;

describe('gap repair on the local stack', () => {
  let simulator: Simulator;
  let local: TestLocalStack;
  const repairs: GapRepair[] = [];

  beforeAll(async () => {
    simulator = await startSimulator({
      port: 0,
      companies: [company],
      now: () => simulatorNow,
      duplicateRate: 0,
      retryDelayMs: 10,
      deactivateAfterFailures: 3,
      retryWindowMs: 60_000,
    });
    local = await startTestLocalStack({
      logLevel: 'ERROR',
      guardian: {
        credentials: { account: company.account, apiId: company.apiId, apiToken: company.apiToken },
        apiUrl: simulator.apiUrl,
        // The test runs each pass itself.
        intervalMs: 3_600_000,
      },
      onGapRepair: (repair) => repairs.push(repair),
    });
  }, 60_000);

  afterAll(async () => {
    await local?.dispose();
    await simulator?.stop();
  });

  const callItem = async (id: number) =>
    (await local.documents.send(new GetCommand({ TableName: local.settings.tables.calls, Key: { id } })))
      .Item;

  it('stores every call of the gap with its final status, duration and user once the webhook is back', async () => {
    const webhook = simulator.company(company.account).createWebhook({ url: local.stack.webhookUrl });
    const guardian = () => {
      const running = local.stack.guardian;
      if (running === undefined) throw new Error('the stack runs no guardian');
      return running.runOnce();
    };
    // The first pass registers the webhook's token: deliveries are accepted from here on.
    expect((await guardian()).webhooks).toMatchObject([{ action: 'active' }]);

    const before = simulator.generate(4, company.account);
    await simulator.flush({ timeoutMs: 30_000 });
    const beforeCalls = finalCalls(before);
    await waitFor(async () => {
      for (const id of beforeCalls.keys())
        if ((await callItem(id))?.last_event === undefined) return undefined;
      return true;
    }, 30_000);

    // Down: deliveries fail, the webhook is deactivated, and once the retry window is over the events are dropped.
    await local.stack.stop();
    const during = simulator.generate(6, company.account);
    const duringCalls = finalCalls(during);
    await waitFor(() => (simulator.stats().totals.deactivations > 0 ? true : undefined), 30_000);
    simulatorNow += 61_000;
    await simulator.flush({ timeoutMs: 30_000 });
    const abandoned = simulator.abandoned(webhook.webhookId);
    expect(abandoned.length).toBeGreaterThan(0);

    // Back: the guardian re-enables the webhook and reads the gap.
    await local.restart();
    const { result: report } = await captureOutput(() => guardian());
    expect(report.webhooks).toMatchObject([{ action: 'reenabled' }]);
    const repair = repairs.at(-1);
    expect(repair).toMatchObject({ opened: 'reenabled', report: { complete: true } });
    expect(repair?.report?.counts.fetched).toBeGreaterThanOrEqual(duringCalls.size);

    await waitFor(async () => {
      if (local.stack.depth().queue > 0) return undefined;
      for (const id of duringCalls.keys()) if ((await callItem(id))?.status !== 'done') return undefined;
      return true;
    }, 30_000);

    const all = new Map([...beforeCalls, ...duringCalls]);
    expect(all.size).toBe(10);
    for (const [id, truth] of all) {
      const item = await callItem(id);
      expect(item).toMatchObject({ status: 'done', duration: truth.duration });
      expect(item?.user_id).toBe(nestedId(truth.user));
    }
    // A call no webhook delivered anything of came from the API alone, and its event-log row says so.
    const delivered = new Set(
      simulator
        .delivered(webhook.webhookId)
        .filter((e) => e.resource === 'call')
        .map((e) => Number(e.id)),
    );
    const unseen = [...duringCalls.keys()].filter((id) => !delivered.has(id));
    expect(unseen.length).toBeGreaterThan(0);
    for (const id of unseen) {
      expect((await callItem(id))?.last_event).toBe('call.fetched');
      const { Items = [] } = await local.documents.send(
        new QueryCommand({
          TableName: local.settings.tables.events,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `call#${id}` },
        }),
      );
      expect(Items.map((row) => [row.event, row.source])).toEqual([['call.fetched', 'api']]);
    }
  }, 120_000);
});
