// The project's Aircall client against the simulator: the same wire format, limits and pitfalls as Aircall.

import { afterEach, describe, expect, it } from 'vitest';
import {
  AircallAuthError,
  AircallNotFoundError,
  AircallRateLimitError,
} from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { ALL_EVENTS } from '../../simulator/events.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/simulator.js';

const COMPANY = { account: 'acme', apiId: 'acme-id', apiToken: 'acme-token' } as const;
const URL_HERE = 'https://hooks.example.com/aircall/webhook';

describe('AircallClient against the simulator', () => {
  let simulator: Simulator | undefined;
  const start = async (options: SimulatorOptions = {}) => {
    // URL_HERE stands for a deployed stack: remote delivery allowed.
    simulator = await startSimulator({ companies: [COMPANY], allowRemoteDelivery: true, ...options });
    return simulator;
  };
  afterEach(async () => {
    await simulator?.stop();
    simulator = undefined;
  });

  it('creates, reads, lists across pages, updates and deletes webhooks', async () => {
    const sim = await start({ rateLimitPerMinute: 1000 });
    const api = new AircallClient({ credentials: COMPANY, baseUrl: sim.apiUrl });
    const created = await api.createWebhook({ url: URL_HERE, customName: 'ours', events: ['call.ended'] });
    expect(created).toMatchObject({
      url: URL_HERE,
      customName: 'ours',
      active: true,
      events: ['call.ended'],
    });
    expect(created.token).toMatch(/^[0-9a-f]{32}$/);
    for (let i = 0; i < 59; i += 1) sim.company(COMPANY.account).createWebhook({ url: `${URL_HERE}/${i}` });

    const { webhooks: all, incomplete } = await api.listWebhooks();
    expect(incomplete).toBeUndefined();
    expect(all).toHaveLength(60);
    expect(new Set(all.map((w) => w.webhookId)).size).toBe(60);

    const paused = await api.updateWebhook(created.webhookId, { active: false, events: ['call.ended'] });
    expect(paused).toMatchObject({ active: false, events: ['call.ended'] });
    expect(await api.getWebhook(created.webhookId)).toMatchObject({ active: false });
    await api.deleteWebhook(created.webhookId);
    await expect(api.getWebhook(created.webhookId)).rejects.toThrow(AircallNotFoundError);
  });

  it('shows the pitfall the guardian avoids: a PUT without events resubscribes to all of them', async () => {
    const sim = await start();
    const api = new AircallClient({ credentials: COMPANY, baseUrl: sim.apiUrl });
    const hook = await api.createWebhook({ url: URL_HERE, events: ['call.ended'] });
    const after = await api.updateWebhook(hook.webhookId, { active: true });
    expect(after.events).toHaveLength(ALL_EVENTS.length);
  });

  it('reads the older is_active flag when that is what the API answers', async () => {
    const sim = await start({ activeFieldName: 'is_active' });
    const api = new AircallClient({ credentials: COMPANY, baseUrl: sim.apiUrl });
    const hook = await api.createWebhook({ url: URL_HERE, events: ['call.ended'] });
    expect(hook.active).toBe(true);
    await api.updateWebhook(hook.webhookId, { active: false, events: ['call.ended'] });
    expect((await api.getWebhook(hook.webhookId)).active).toBe(false);
  });

  it('refuses bad credentials with an error that does not repeat them', async () => {
    const sim = await start();
    const api = new AircallClient({
      credentials: { ...COMPANY, apiToken: 'wrong-token-123' },
      baseUrl: sim.apiUrl,
    });
    const error = await api.listWebhooks().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AircallAuthError);
    expect(String((error as Error).message)).not.toContain('wrong-token-123');
  });

  it.each(['seconds', 'milliseconds'] as const)(
    'waits for X-AircallApi-Reset given in %s, then gives up when the budget is spent',
    async (resetUnit) => {
      const sim = await start({ rateLimitPerMinute: 3, resetUnit });
      const waits: number[] = [];
      const api = new AircallClient({
        credentials: COMPANY,
        baseUrl: sim.apiUrl,
        maxRateLimitWaitMs: 90_000,
        // The simulator's window is real time; recording the waits instead of sleeping keeps the test instant.
        sleep: async (ms) => {
          waits.push(ms);
        },
      });
      for (let i = 0; i < 3; i += 1)
        await api.createWebhook({ url: `${URL_HERE}/${i}`, events: ['call.ended'] });
      await expect(api.listWebhooks()).rejects.toThrow(AircallRateLimitError);
      expect(waits.length).toBeGreaterThan(0);
      // The reset is at most a minute away (a second more once rounded to seconds): a wait read in the wrong unit would be 1000 times off.
      for (const wait of waits) {
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(61_000);
      }
    },
  );
});
