// Generated traffic against the simulator's clock: nothing arrives before it happened, so `calls` shows it by default.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRange } from '../../cli/time.js';
import { isJsonObject } from '../../simulator/json.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';
import { type Received, type Receiver, startReceiver } from './support.js';

const ACME = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' };
const FLUSH = { timeoutMs: 8000 };
/** In order, exactly once: what arrives is what was generated. */
const STRICT: SimulatorOptions = { duplicateRate: 0, shuffleWindow: 1, concurrency: 4 };
const START_MS = Date.UTC(2025, 5, 2, 9, 30, 0);

/** The event's own timestamp and every time its call data carries, comments' included. */
const timesOf = (received: Received): number[] => {
  const { started_at, answered_at, ended_at, comments } = received.data;
  const posted = Array.isArray(comments) ? comments.map((c) => (isJsonObject(c) ? c.posted_at : null)) : [];
  return [received.timestamp, started_at, answered_at, ended_at, ...posted].filter(
    (t): t is number => typeof t === 'number',
  );
};

let clockMs = START_MS;
const clock = (): number => clockMs;
const clockSeconds = (): number => Math.floor(clockMs / 1000);

let simulator: Simulator | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await simulator?.stop();
  simulator = undefined;
  await receiver?.close();
  receiver = undefined;
  clockMs = START_MS;
});

/** A simulator on the test's clock with one webhook, whose receiver notes the clock reading at each arrival. */
const start = async (options: SimulatorOptions = {}) => {
  const arrivals: { readonly received: Received; readonly at: number }[] = [];
  receiver = await startReceiver((_, received) => {
    arrivals.push({ received, at: clockSeconds() });
    return 200;
  });
  simulator = await startSimulator({ companies: [ACME], seed: 5, now: clock, ...STRICT, ...options });
  const webhook = simulator.company(ACME.account).createWebhook({ url: receiver.url });
  return { sim: simulator, arrivals, webhookId: webhook.webhookId };
};

describe('simulator traffic on its clock', () => {
  it('delivers no event whose timestamp or call times are later than the clock when it arrives', async () => {
    const { sim, arrivals, webhookId } = await start();
    for (const step of [0, 1_000, 90_000]) {
      clockMs += step;
      sim.generate(8);
      await sim.flush(FLUSH);
    }

    expect(arrivals.length).toBe(sim.stats().generatedEvents);
    for (const { received, at } of arrivals)
      for (const t of timesOf(received)) expect(t).toBeLessThanOrEqual(at);
    // Each batch's last event is the one happening now, not one long gone.
    expect(Math.max(...arrivals.map((a) => a.received.timestamp))).toBe(clockSeconds());
    for (const delivered of sim.delivered(webhookId)) {
      expect(delivered.timestamp).toBeLessThanOrEqual(Math.floor(delivered.firstDeliveredAt / 1000));
    }
  });

  it('keeps to the clock with a fixed startTime that has caught up with it', async () => {
    const { sim, arrivals } = await start({ startTime: clockSeconds() - 60 });
    sim.generate(10);
    await sim.flush(FLUSH);

    expect(arrivals.length).toBeGreaterThan(0);
    for (const { received, at } of arrivals)
      for (const t of timesOf(received)) expect(t).toBeLessThanOrEqual(at);
  });

  it('keeps to the clock when it generates traffic on its own, buffered events included', async () => {
    const { sim, arrivals } = await start();
    // Only the traffic timer and its rate budget are faked; deliveries still run on real sockets.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    sim.startTraffic({ eventsPerSecond: 20 });
    for (let tick = 0; tick < 20; tick += 1) {
      clockMs += 100;
      vi.advanceTimersByTime(100);
      await sim.flush(FLUSH);
    }
    sim.stopTraffic();

    expect(arrivals.length).toBe(40);
    for (const { received, at } of arrivals)
      for (const t of timesOf(received)) expect(t).toBeLessThanOrEqual(at);
  });

  it("delivers calls that the calls command's default range, ending now, includes", async () => {
    const { sim, arrivals } = await start();
    sim.generate(5);
    await sim.flush(FLUSH);

    const range = parseRange(undefined, undefined, new Date(clock()));
    const calls = new Map(
      arrivals
        .filter((a) => a.received.resource === 'call')
        .map((a) => [a.received.data.id, a.received.data]),
    );
    expect(calls.size).toBe(5);
    for (const call of calls.values()) {
      expect(call.started_at).toBeGreaterThanOrEqual(range.from);
      expect(call.started_at).toBeLessThanOrEqual(range.to);
    }
  });
});
