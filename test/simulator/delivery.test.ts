// Delivery of generated events to registered webhooks: headers and token, subscriptions, failures, deactivation, quirks.

import { afterEach, describe, expect, it } from 'vitest';
import type { GeneratedEvent } from '../../simulator/envelope.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { basic, callApi, type Receiver, startReceiver, webhookOf } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const GLOBEX = { account: 'globex', apiId: 'globex-id', apiToken: 'globex-token' };
const AUTH = basic(ACME.apiId, ACME.apiToken);
/** In order, exactly once, one at a time: the quirks are turned on only where a test wants them. */
const STRICT: SimulatorOptions = { duplicateRate: 0, shuffleWindow: 1, concurrency: 1, retryDelayMs: 5 };
const FLUSH = { timeoutMs: 8000 };

let simulator: Simulator | undefined;
const receivers: Receiver[] = [];
const start = async (options: SimulatorOptions = {}): Promise<Simulator> => {
  simulator = await startSimulator({ companies: [ACME, GLOBEX], seed: 42, ...STRICT, ...options });
  return simulator;
};
const receiver = async (...args: Parameters<typeof startReceiver>): Promise<Receiver> => {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
};
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const register = async (
  sim: Simulator,
  url: string,
  events?: string[],
): Promise<{ id: string; token: string }> => {
  const webhook = webhookOf(
    await callApi(sim, '/webhooks', {
      method: 'POST',
      authorization: AUTH,
      body: { url, ...(events === undefined ? {} : { events }) },
    }),
  );
  return { id: String(webhook.webhook_id), token: String(webhook.token) };
};

const keysOf = (events: readonly { key: string }[]): string[] => events.map((e) => e.key);
const only = (events: readonly GeneratedEvent[], names: readonly string[]) =>
  events.filter((e) => names.includes(e.event));

describe('simulator delivery', () => {
  it("posts each event once with Aircall's headers and the webhook's token, and books it as delivered", async () => {
    const sim = await start();
    const inbox = await receiver();
    const { id, token } = await register(sim, inbox.url);
    const generated = sim.generate(5, 'acme');
    await sim.flush(FLUSH);

    expect(keysOf(inbox.received)).toEqual(keysOf(generated));
    for (const delivery of inbox.received) {
      expect(delivery.token).toBe(token);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['user-agent']).toMatch(/^axios\/1\./);
      expect(delivery.headers['aircall-origin']).toBe('webhooks');
    }
    expect(inbox.received[0]?.data).toEqual(generated[0]?.data);
    const delivered = sim.delivered(id);
    expect(keysOf(delivered)).toEqual(keysOf(generated));
    expect(delivered.map((d) => d.digest)).toEqual(generated.map((e) => e.digest));
    expect(sim.stats().webhooks).toEqual([
      expect.objectContaining({ webhookId: id, delivered: generated.length, failures: 0, pending: 0 }),
    ]);
  });

  it("delivers only the events a webhook subscribes to, and only its own company's", async () => {
    const sim = await start();
    const endedInbox = await receiver();
    const userInbox = await receiver();
    await register(sim, endedInbox.url, ['call.ended']);
    await register(sim, userInbox.url, ['user.connected', 'user.opened']);
    const generated = sim.generate(10, 'acme');
    sim.generate(10, 'globex');
    await sim.flush(FLUSH);

    expect(keysOf(endedInbox.received)).toEqual(keysOf(only(generated, ['call.ended'])));
    expect(keysOf(userInbox.received)).toEqual(keysOf(only(generated, ['user.connected', 'user.opened'])));
    expect(userInbox.received.length).toBeGreaterThan(0);
  });

  it('deactivates a webhook after ten failed deliveries, then delivers what waited once it is re-enabled', async () => {
    const sim = await start({ deactivateAfterFailures: 10 });
    const inbox = await receiver(() => 500);
    const events = ['call.created', 'call.ended'];
    const { id } = await register(sim, inbox.url, events);
    const waiting = only(sim.generate(4, 'acme'), events);
    await sim.flush(FLUSH);

    expect(inbox.received).toHaveLength(10);
    const read = await callApi(sim, `/webhooks/${id}`, { authorization: AUTH });
    expect(webhookOf(read)).toMatchObject({ active: false, events });
    expect(sim.stats().webhooks[0]).toMatchObject({
      active: false,
      failures: 10,
      deactivations: 1,
      pending: waiting.length,
      delivered: 0,
    });

    // What happens while it is inactive is never sent to it, as with Aircall.
    const missed = only(sim.generate(1, 'acme'), events);
    inbox.behave(() => 200);
    const reenabled = await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: true, events },
    });
    expect(webhookOf(reenabled)).toMatchObject({ active: true, events });
    await sim.flush(FLUSH);

    expect(sim.stats().webhooks[0]).toMatchObject({
      active: true,
      delivered: waiting.length,
      pending: 0,
      failures: 10,
      deactivations: 1,
      skippedInactive: missed.length,
    });
    expect(keysOf(sim.delivered(id)).sort()).toEqual(keysOf(waiting).sort());
  });

  it('counts an answer slower than the timeout as a failure and sends the event again', async () => {
    const sim = await start({ deliveryTimeoutMs: 150 });
    const inbox = await receiver((n) => (n === 1 ? 'hang' : 200));
    const { id } = await register(sim, inbox.url, ['call.ended']);
    const generated = only(sim.generate(2, 'acme'), ['call.ended']);
    await sim.flush(FLUSH);

    expect(sim.stats().webhooks[0]).toMatchObject({
      failures: 1,
      lastFailure: 'timeout',
      delivered: generated.length,
      pending: 0,
    });
    const hung = inbox.received[0]?.key;
    expect(inbox.received.filter((r) => r.key === hung)).toHaveLength(2);
    expect(keysOf(sim.delivered(id)).sort()).toEqual(keysOf(generated).sort());
  });

  it('sends some events twice with duplicateRate, and counts each distinct event once', async () => {
    const sim = await start({ duplicateRate: 0.5 });
    const inbox = await receiver();
    const { id } = await register(sim, inbox.url);
    const generated = sim.generate(10, 'acme');
    await sim.flush(FLUSH);

    const distinct = new Set(keysOf(inbox.received));
    expect(inbox.received.length).toBeGreaterThan(distinct.size);
    expect([...distinct].sort()).toEqual(keysOf(generated).sort());
    expect(sim.stats().webhooks[0]).toMatchObject({
      delivered: generated.length,
      duplicates: inbox.received.length - distinct.size,
    });
    expect(sim.delivered(id).some((d) => d.deliveries === 2)).toBe(true);
  });

  it('delivers out of timestamp order within a shuffle window, and in order without one', async () => {
    const shuffled = await start({ shuffleWindow: 8 });
    const shuffledInbox = await receiver();
    await register(shuffled, shuffledInbox.url);
    shuffled.generate(10, 'acme');
    await shuffled.flush(FLUSH);
    const timestamps = shuffledInbox.received.map((r) => r.timestamp);
    expect(timestamps.some((t, i) => i > 0 && t < (timestamps[i - 1] ?? 0))).toBe(true);
    await shuffled.stop();

    const ordered = await start({ shuffleWindow: 1 });
    const orderedInbox = await receiver();
    await register(ordered, orderedInbox.url);
    const generated = ordered.generate(10, 'acme');
    await ordered.flush(FLUSH);
    expect(keysOf(orderedInbox.received)).toEqual(keysOf(generated));
  });

  it('drops what was queued for a webhook once it is deleted', async () => {
    const sim = await start();
    const inbox = await receiver(() => 500);
    const { id } = await register(sim, inbox.url, ['call.ended']);
    sim.generate(3, 'acme');
    await callApi(sim, `/webhooks/${id}`, { method: 'DELETE', authorization: AUTH });
    await sim.flush(FLUSH);
    expect(sim.stats().webhooks[0]).toMatchObject({ webhookId: id, deleted: true, pending: 0 });
  });

  it('generates traffic on its own at the given rate until stopped', async () => {
    const sim = await start();
    const inbox = await receiver();
    await register(sim, inbox.url);
    sim.startTraffic({ eventsPerSecond: 50 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    sim.stopTraffic();
    await sim.flush(FLUSH);
    const { generatedEvents } = sim.stats();
    expect(generatedEvents).toBeGreaterThanOrEqual(10);
    expect(generatedEvents).toBeLessThanOrEqual(40);
    // Both companies take turns; only acme's events reach acme's webhook.
    expect(inbox.received.length).toBeGreaterThan(0);
    expect(inbox.received.length).toBeLessThan(generatedEvents);
  });
});

describe('simulator delivery retry window', () => {
  const WINDOW_MS = 60_000;
  let nowMs = 1_700_000_000_000;
  const clock = { now: () => nowMs };

  it('gives up on events still failing once retryWindowMs is over, leaving a gap later events do not fill', async () => {
    const sim = await start({ now: clock.now, retryWindowMs: WINDOW_MS, deactivateAfterFailures: 1000 });
    // The receiver is down, and each failed attempt takes the clock past the window.
    const inbox = await receiver(() => {
      nowMs += WINDOW_MS + 1;
      return 503;
    });
    const events = ['call.ended'];
    const { id } = await register(sim, inbox.url, events);
    const lost = only(sim.generate(3, 'acme'), events);
    await sim.flush(FLUSH);

    expect(sim.stats().webhooks[0]).toMatchObject({
      active: true,
      abandoned: lost.length,
      pending: 0,
      delivered: 0,
    });
    expect(sim.stats().totals.abandoned).toBe(lost.length);
    expect(keysOf(sim.abandoned(id)).sort()).toEqual(keysOf(lost).sort());
    // The first failure took the clock past every event's window, so the others were given up on untried.
    expect(inbox.received).toHaveLength(1);
    expect(sim.abandoned(id).map((a) => [a.attempts, a.lastFailure, a.abandonedAt])).toEqual([
      [1, 'status 503', nowMs],
      ...lost.slice(1).map(() => [0, undefined, nowMs]),
    ]);

    inbox.behave(() => 200);
    const later = only(sim.generate(2, 'acme'), events);
    await sim.flush(FLUSH);
    expect(keysOf(sim.delivered(id))).toEqual(keysOf(later));
    expect(sim.stats().webhooks[0]).toMatchObject({ abandoned: lost.length, delivered: later.length });
  });

  it('retries within the window and delivers once the receiver is back', async () => {
    const sim = await start({ now: clock.now, retryWindowMs: WINDOW_MS, deactivateAfterFailures: 1000 });
    const inbox = await receiver((n) => (n <= 3 ? 500 : 200));
    const { id } = await register(sim, inbox.url, ['call.ended']);
    const generated = only(sim.generate(2, 'acme'), ['call.ended']);
    await sim.flush(FLUSH);
    expect(sim.stats().webhooks[0]).toMatchObject({ failures: 3, abandoned: 0, delivered: generated.length });
    expect(sim.abandoned(id)).toEqual([]);
  });

  it('gives up on what waited on a deactivated webhook once the window is over, and sends none of it on re-enable', async () => {
    const sim = await start({ now: clock.now, retryWindowMs: WINDOW_MS, deactivateAfterFailures: 2 });
    const inbox = await receiver(() => 500);
    const events = ['call.created', 'call.ended'];
    const { id } = await register(sim, inbox.url, events);
    const waiting = only(sim.generate(3, 'acme'), events);
    await sim.flush(FLUSH);
    expect(sim.stats().webhooks[0]).toMatchObject({ active: false, pending: waiting.length, abandoned: 0 });

    nowMs += WINDOW_MS;
    expect(sim.stats().webhooks[0]).toMatchObject({ pending: 0, abandoned: waiting.length });
    inbox.behave(() => 200);
    await callApi(sim, `/webhooks/${id}`, {
      method: 'PUT',
      authorization: AUTH,
      body: { active: true, events },
    });
    await sim.flush(FLUSH);
    expect(inbox.received).toHaveLength(2);
    expect(sim.delivered(id)).toEqual([]);
    expect(
      sim
        .abandoned(id)
        .map((a) => a.attempts)
        .sort(),
    ).toEqual([...Array.from({ length: waiting.length - 2 }, () => 0), 1, 1]);
  });

  it('keeps retrying for 12 hours by default', async () => {
    const sim = await start({ now: clock.now, deactivateAfterFailures: 1000 });
    const inbox = await receiver((n) => {
      if (n === 1) nowMs += 11 * 3_600_000;
      return n <= 2 ? 500 : 200;
    });
    const { id } = await register(sim, inbox.url, ['call.ended']);
    const generated = only(sim.generate(1, 'acme'), ['call.ended']);
    await sim.flush(FLUSH);
    expect(keysOf(sim.delivered(id))).toEqual(keysOf(generated));

    inbox.behave(() => {
      nowMs += 12 * 3_600_000;
      return 500;
    });
    const lost = only(sim.generate(1, 'acme'), ['call.ended']);
    await sim.flush(FLUSH);
    expect(keysOf(sim.abandoned(id))).toEqual(keysOf(lost));
  });
});
