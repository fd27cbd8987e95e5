// SQS unreachable for ingest: the webhook answers 503 well inside Aircall's 5 s, nothing it answered 200 goes
// missing, and events are accepted again once SQS is back.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor } from '../../support/local.js';
import { scanTable } from '../../support/tables.js';
import { callCreated, type Sent, sendAll } from './traffic.js';

const FIRST_ID = 4_200_000_000;
const PER_PHASE = 12;
const CONCURRENCY = 4;
/** Aircall gives up on a delivery after 5 s; ingest's bounded retries answer in about 3.5 s at worst. */
const AIRCALL_TIMEOUT_MS = 5000;

const timedPost = async (url: string, body: string): Promise<{ status: number; ms: number }> => {
  const started = performance.now();
  const status = await post(url, body).catch(() => 0);
  return { status, ms: performance.now() - started };
};

describe('SQS unavailable to ingest', () => {
  let sqs: FaultProxy | undefined;
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({
      logLevel: 'CRITICAL',
      archiveMedia: false,
      handlerEndpoints: async (emulators) => {
        sqs = await startFaultProxy(emulators.sqs);
        return { sqs: sqs.url };
      },
    });
  });

  afterAll(async () => {
    await local?.dispose();
    await sqs?.close();
  });

  it('answers 503 inside 5 s while SQS refuses or hangs, stores only what it answered 200, and accepts again after', async () => {
    const proxy = sqs;
    if (proxy === undefined) throw new Error('no proxy');
    const url = local.stack.webhookUrl;
    let id = FIRST_ID;
    const phase = (): { id: number; body: string }[] =>
      Array.from({ length: PER_PHASE }, () => {
        const next = id++;
        return { id: next, body: callCreated(next) };
      });

    const before = await sendAll(url, phase(), CONCURRENCY);
    proxy.down();
    const refusedAt = proxy.counts.refused;
    const whileRefused = await Promise.all(
      phase().map(async (item) => ({ item, ...(await timedPost(url, item.body)) })),
    );
    const refusedRequests = proxy.counts.refused - refusedAt;
    // A queue that takes the connection and never answers: each attempt times out instead of failing at once.
    proxy.hang();
    const hungAt = proxy.counts.hung;
    const whileHung = await Promise.all(
      phase().map(async (item) => ({ item, ...(await timedPost(url, item.body)) })),
    );
    const hungRequests = proxy.counts.hung - hungAt;
    proxy.heal();
    const after = await sendAll(url, phase(), CONCURRENCY);

    const outage = [...whileRefused, ...whileHung];
    const answered: Sent[] = [
      ...before,
      ...outage.map(({ item, status }) => ({ id: item.id, status })),
      ...after,
    ];
    const accepted = answered.filter((a) => a.status === 200).map((a) => a.id);
    await waitFor(async () => {
      const calls = await scanTable(local.documents, local.settings.tables.calls);
      return calls.length >= accepted.length && local.stack.depth().queue === 0 ? true : undefined;
    }, 30_000);
    const storedIds = new Set(
      (await scanTable(local.documents, local.settings.tables.calls)).map((call) => Number(call.id)),
    );

    // Every outage request reached the proxy and was refused or left hanging, retries included (as many as the
    // SDK's retry quota allows).
    expect(refusedRequests).toBeGreaterThan(PER_PHASE);
    expect(hungRequests).toBeGreaterThan(PER_PHASE);
    expect(Math.max(...outage.map((o) => o.ms))).toBeLessThan(AIRCALL_TIMEOUT_MS);
    expect({
      sentBefore: before.length,
      acceptedBefore: before.filter((a) => a.status === 200).length,
      sentInOutage: outage.length,
      answered503InOutage: outage.filter((o) => o.status === 503).length,
      storedOfOutage: outage.filter((o) => storedIds.has(o.item.id)).length,
      sentAfter: after.length,
      acceptedAfter: after.filter((a) => a.status === 200).length,
      answered200NotStored: accepted.filter((a) => !storedIds.has(a)).length,
      stored: storedIds.size,
      deadLettered: local.stack.depth().deadLetterQueue,
    }).toEqual({
      sentBefore: PER_PHASE,
      acceptedBefore: PER_PHASE,
      sentInOutage: 2 * PER_PHASE,
      answered503InOutage: 2 * PER_PHASE,
      storedOfOutage: 0,
      sentAfter: PER_PHASE,
      acceptedAfter: PER_PHASE,
      answered200NotStored: 0,
      stored: 2 * PER_PHASE,
      deadLettered: 0,
    });
    expect(local.stack.activity.answers).toMatchObject({ 200: 2 * PER_PHASE, 503: 2 * PER_PHASE });
  }, 60_000);
});
