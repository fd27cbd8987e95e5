// A backfill over more than 10,000 calls, end to end on the local stack: Aircall's listing cap split around, its
// rate limit kept, every call stored once, and a second run over the same window sending nothing.

import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReconcileDeps, reconcile } from '../../lambdas/reconcile/reconcile.js';
import { RECEIPT_PK_PREFIX } from '../../lib/definitions/receipts.js';
import { randomCompany, type Simulator, startSimulator } from '../../simulator/simulator.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../support/local.js';
import { reconcileOnLocalStack } from '../support/reconcile.js';

const CALLS = 10_200;
const FROM = 1_780_000_000;
const TO = FROM + 7 * 86_400;
const company = randomCompany('big-co');
/** One clock for the simulator and the client: the client's waits move it, so the rate limit costs no real time. */
let clock = FROM * 1000 + 8 * 86_400_000;

/** The calls, or the event rows (the receipts that share their table left out). */
const count = async (local: TestLocalStack, table: 'calls' | 'events'): Promise<number> => {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  const rowsOnly =
    table === 'events'
      ? {
          FilterExpression: 'NOT begins_with(pk, :receipt)',
          ExpressionAttributeValues: { ':receipt': RECEIPT_PK_PREFIX },
        }
      : {};
  do {
    const page = await local.documents.send(
      new ScanCommand({
        TableName: local.settings.tables[table],
        Select: 'COUNT',
        ExclusiveStartKey: start,
        ...rowsOnly,
      }),
    );
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return total;
};

describe('a backfill past the listing cap', () => {
  let simulator: Simulator;
  let local: TestLocalStack;
  let closeReconcile: (() => void) | undefined;
  let deps: ReconcileDeps;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, companies: [company], now: () => clock });
    simulator.seedHistory(company.account, { calls: CALLS, from: FROM, to: TO });
    // The recordings of ten thousand seeded calls are not what this test is about.
    local = await startTestLocalStack({ logLevel: 'ERROR', archiveMedia: false });
    const wired = reconcileOnLocalStack(local, {
      credentials: { account: company.account, apiId: company.apiId, apiToken: company.apiToken },
      baseUrl: simulator.apiUrl,
      clock: {
        now: () => clock,
        advance: (ms) => {
          clock += ms;
        },
      },
    });
    deps = wired.deps;
    closeReconcile = wired.close;
  }, 60_000);

  afterAll(async () => {
    closeReconcile?.();
    await local?.dispose();
    await simulator?.stop();
  });

  it('splits the window, keeps to 120 requests a minute, and stores every call once', async () => {
    const report = await reconcile(
      { account: company.account, window: { from: FROM, to: TO }, resources: ['call'] },
      deps,
    );
    expect(report).toMatchObject({ complete: true, counts: { fetched: CALLS, new: CALLS, unchanged: 0 } });
    expect(report.counts.splits).toBeGreaterThanOrEqual(1);
    const usage = simulator.apiStats(company.account);
    expect(usage.rateLimited).toBe(0);
    expect(usage.peakRequestsPerMinute).toBeLessThanOrEqual(120);

    await waitFor(async () => (local.stack.depth().queue === 0 ? true : undefined), 240_000);
    expect(await count(local, 'calls')).toBe(CALLS);
    expect(await count(local, 'events')).toBe(CALLS);
  }, 300_000);

  it('sends nothing on a second run over the same window, and no row or item changes', async () => {
    const persistedBefore = local.stack.activity.persisted;
    const again = await reconcile(
      { account: company.account, window: { from: FROM, to: TO }, resources: ['call'] },
      deps,
    );
    expect(again.counts).toMatchObject({ fetched: CALLS, new: 0, updated: 0, unchanged: CALLS });
    expect(local.stack.depth()).toEqual({ queue: 0, deadLetterQueue: 0 });
    expect(local.stack.activity.persisted).toBe(persistedBefore);
    expect(await count(local, 'events')).toBe(CALLS);
  }, 120_000);
});
