// A reconcile against an Aircall API answering 30 % of its requests 503 and 20 % 429: the client backs off, the
// run finishes, and every call is stored once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReconcileDeps, reconcile } from '../../../lambdas/reconcile/reconcile.js';
import { randomCompany, type Simulator, startSimulator } from '../../../simulator/simulator.js';
import { type FaultAnswer, type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { startTestLocalStack, type TestLocalStack, waitFor } from '../../support/local.js';
import { reconcileOnLocalStack } from '../../support/reconcile.js';
import { resourceIdOf, scanEvents } from '../../support/tables.js';
import { countItems, tally } from './traffic.js';

const CALLS = 1000;
const FROM = 1_780_000_000;
const TO = FROM + 5 * 86_400;
const RESET_AFTER_SECONDS = 2;
const company = randomCompany('stormy-co');
/** One clock for the simulator, the client and the proxy's reset header: waits move it, and cost no real time. */
let clock = FROM * 1000 + 6 * 86_400_000;

/**
 * Of every ten requests, three answered 503 and two 429, spread so that no request meets more 503s in a row than the
 * client retries (two): a storm it is meant to ride out, not an outage.
 */
const SLOTS_503 = [0, 3, 6];
const SLOTS_429 = [1, 8];
const stormAnswer = ({ seq }: { readonly seq: number }): FaultAnswer | undefined => {
  const slot = seq % 10;
  if (SLOTS_503.includes(slot)) return { status: 503, body: '{"error":"Service Unavailable"}' };
  if (SLOTS_429.includes(slot))
    return {
      status: 429,
      headers: { 'X-AircallApi-Reset': String(Math.ceil(clock / 1000) + RESET_AFTER_SECONDS) },
      body: '{"error":"Too Many Requests"}',
    };
  return undefined;
};

/** How many of the first `requests` requests fall in `slots`. */
const inSlots = (requests: number, slots: readonly number[]): number =>
  Array.from({ length: requests }, (_, seq) => seq % 10).filter((slot) => slots.includes(slot)).length;

describe('a reconcile through a storm of 503s and 429s', () => {
  let simulator: Simulator;
  let proxy: FaultProxy;
  let local: TestLocalStack;
  let closeReconcile: (() => void) | undefined;
  let deps: ReconcileDeps;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, companies: [company], now: () => clock });
    simulator.seedHistory(company.account, { calls: CALLS, from: FROM, to: TO });
    // The simulator's next_page_link is built from the Host it is sent, so it leads back through the proxy.
    proxy = await startFaultProxy(new URL(simulator.apiUrl).origin, { preserveHost: true });
    proxy.fail(() => true, stormAnswer);
    local = await startTestLocalStack({ logLevel: 'CRITICAL', archiveMedia: false });
    const wired = reconcileOnLocalStack(local, {
      credentials: { account: company.account, apiId: company.apiId, apiToken: company.apiToken },
      baseUrl: `${proxy.url}${new URL(simulator.apiUrl).pathname}`,
      clock: {
        now: () => clock,
        advance: (ms) => {
          clock += ms;
        },
      },
    });
    deps = wired.deps;
    closeReconcile = wired.close;
  });

  afterAll(async () => {
    closeReconcile?.();
    await local?.dispose();
    await proxy?.close();
    await simulator?.stop();
  });

  it('backs off, finishes, and stores every call once', async () => {
    const startedAt = clock;
    const report = await reconcile(
      { account: company.account, window: { from: FROM, to: TO }, resources: ['call'] },
      deps,
    );
    await waitFor(() => (local.stack.depth().queue === 0 ? true : undefined), 60_000);
    const { seen, forwarded, injected } = proxy.counts;
    const events = await scanEvents(local.documents, local.settings.tables.events);

    console.log(
      'DBG',
      JSON.stringify({ seen, forwarded, injected, pages: report.counts.pages, ms: clock - startedAt }),
    );
    expect(report).toMatchObject({ complete: true, counts: { fetched: CALLS, new: CALLS } });
    expect({
      requests: seen,
      answered503: injected[503] ?? 0,
      answered429: injected[429] ?? 0,
      answeredBySimulator: forwarded,
      pagesRead: report.counts.pages,
      calls: await countItems(local, 'calls'),
      events: events.length,
      callsWithOneEvent: [...tally(events.map((row) => resourceIdOf(row))).values()].filter((n) => n === 1)
        .length,
      deadLettered: local.stack.depth().deadLetterQueue,
    }).toEqual({
      requests: seen,
      answered503: inSlots(seen, SLOTS_503),
      answered429: inSlots(seen, SLOTS_429),
      answeredBySimulator: seen - inSlots(seen, SLOTS_503) - inSlots(seen, SLOTS_429),
      pagesRead: report.counts.pages,
      calls: CALLS,
      events: CALLS,
      callsWithOneEvent: CALLS,
      deadLettered: 0,
    });
    // Half the requests failed, and the pages still arrived: one page of 50 calls per forwarded listing request.
    expect(forwarded).toBeGreaterThanOrEqual(CALLS / 50);
    expect((injected[503] ?? 0) + (injected[429] ?? 0)).toBeGreaterThanOrEqual(forwarded);
    expect(injected[429]).toBeGreaterThan(0);
    // Each 429 held the client until its reset: the run took at least that long on the shared clock.
    expect(clock - startedAt).toBeGreaterThanOrEqual((injected[429] ?? 0) * (RESET_AFTER_SECONDS - 1) * 1000);
    expect(simulator.apiStats(company.account).rateLimited).toBe(0);
  }, 120_000);
});
