// One company's pacing shared by several Aircall clients: spacing across them, and one client's 429 or used-up
// window holding the others.

import { describe, expect, it } from 'vitest';
import { AircallRateLimitError } from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient } from '../../lambdas/shared/aircall/aircall-client.js';
import { AircallRateLimiter, AircallRateLimiters } from '../../lambdas/shared/aircall/rate-limiter.js';
import { type FetchReply, scriptedFetch } from '../support/scripted-fetch.js';

const START = 1_700_000_000_000;
const BASIC = { account: 'acme', apiId: 'api-id-1', apiToken: 'api-token-1' };
const BASE_URL = 'https://api.aircall.test/v1';

const webhook = {
  webhook_id: 'w1',
  url: 'https://hooks.example.com/aircall',
  active: true,
  token: 'webhook-token-w1',
  events: ['call.ended'],
};
const ok = (headers?: Record<string, string>): FetchReply => ({
  status: 200,
  json: { webhook },
  ...(headers === undefined ? {} : { headers }),
});
const tooMany = (headers: Record<string, string>): FetchReply => ({
  status: 429,
  json: { error: 'Too many requests' },
  headers,
});

/** A clock that moves only when someone sleeps, so waits are exact and instant. */
const virtualTime = () => {
  let now = START;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
};

const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection, got a result');
};

/** Two clients of one company on one scripted fetch, sharing `limiter`. */
const twoClients = (limiter: (time: ReturnType<typeof virtualTime>) => AircallRateLimiter | undefined) => {
  const time = virtualTime();
  const wire = scriptedFetch(time.now);
  const shared = limiter(time);
  const client = (maxRateLimitWaitMs?: number) =>
    new AircallClient({
      credentials: BASIC,
      baseUrl: BASE_URL,
      fetch: wire.fetch,
      sleep: time.sleep,
      now: time.now,
      ...(shared === undefined ? { minIntervalMs: 500 } : { limiter: shared }),
      ...(maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWaitMs }),
    });
  return { time, wire, client };
};

const startsOf = (wire: ReturnType<typeof scriptedFetch>) => wire.requests.map(({ at }) => (at ?? 0) - START);

describe('AircallRateLimiter shared by clients', () => {
  it('keeps the spacing between the requests of two clients', async () => {
    const { wire, client } = twoClients(
      (time) => new AircallRateLimiter({ minIntervalMs: 500, sleep: time.sleep, now: time.now }),
    );
    const [first, second] = [client(), client()];
    wire.script(ok(), ok(), ok(), ok());
    await first.getWebhook('w1');
    await second.getWebhook('w1');
    await first.getWebhook('w1');
    await second.getWebhook('w1');
    expect(startsOf(wire)).toEqual([0, 500, 1000, 1500]);
  });

  it('keeps the spacing of each client alone when each has its own limiter, as by default', async () => {
    const { wire, client } = twoClients(() => undefined);
    const [first, second] = [client(), client()];
    wire.script(ok(), ok());
    await first.getWebhook('w1');
    await second.getWebhook('w1');
    expect(startsOf(wire)).toEqual([0, 0]);
  });

  it('holds the other client until the reset a 429 announced to one', async () => {
    const { wire, client, time } = twoClients(
      (clock) => new AircallRateLimiter({ sleep: clock.sleep, now: clock.now }),
    );
    const [first, second] = [client(0), client()];
    wire.script(tooMany({ 'X-AircallApi-Reset': String(START / 1000 + 60) }), ok());
    const error = await rejection(first.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallRateLimitError);
    expect(await second.getWebhook('w1')).toMatchObject({ webhookId: 'w1' });
    expect(time.waits).toEqual([60_000]);
    expect(startsOf(wire)).toEqual([0, 60_000]);
  });

  it('holds the other client after one read X-AircallApi-Remaining: 0, until the reset', async () => {
    const { wire, client } = twoClients(
      (time) => new AircallRateLimiter({ sleep: time.sleep, now: time.now }),
    );
    const [first, second] = [client(), client()];
    wire.script(ok({ 'X-AircallApi-Remaining': '0', 'X-AircallApi-Reset': String(START + 2000) }), ok());
    await first.getWebhook('w1');
    await second.getWebhook('w1');
    expect(startsOf(wire)).toEqual([0, 2000]);
  });

  it('keeps a 429 pause even when an answer sent before it says the window has room', async () => {
    const time = virtualTime();
    const limiter = new AircallRateLimiter({ sleep: time.sleep, now: time.now });
    limiter.backOff(new Headers({ 'x-aircallapi-reset': String(START + 3000) }), 0);
    limiter.observe(new Headers({ 'x-aircallapi-remaining': '57' }));
    await limiter.turn({ remainingMs: 60_000 });
    expect(time.waits).toEqual([3000]);
  });

  it('draws the pause from the caller budget and ends it when the budget is spent', async () => {
    const time = virtualTime();
    const limiter = new AircallRateLimiter({ sleep: time.sleep, now: time.now });
    limiter.pauseUntil(START + 10_000);
    const budget = { remainingMs: 4000 };
    await limiter.turn(budget);
    expect(time.waits).toEqual([4000]);
    expect(budget.remainingMs).toBe(0);
  });

  it('keeps the spacing between concurrent calls of two clients on the real clock', async () => {
    const wire = scriptedFetch(() => performance.now());
    const limiter = new AircallRateLimiter({ minIntervalMs: 100 });
    const client = () =>
      new AircallClient({ credentials: BASIC, baseUrl: BASE_URL, fetch: wire.fetch, limiter });
    wire.script(ok(), ok(), ok());
    await Promise.all([client().getWebhook('w1'), client().getWebhook('w1'), client().getWebhook('w1')]);
    const starts = wire.requests.map(({ at }) => at ?? 0);
    const gaps = starts.slice(1).map((start, index) => start - (starts[index] ?? 0));
    expect(gaps).toHaveLength(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
  });
});

describe('AircallRateLimiters', () => {
  it('gives one limiter per account, the same one every time', () => {
    const limiters = new AircallRateLimiters({ minIntervalMs: 500 });
    const acme = limiters.for('acme');
    expect(limiters.for('acme')).toBe(acme);
    expect(limiters.for('globex')).not.toBe(acme);
    expect(acme.minIntervalMs).toBe(500);
  });

  it('makes the clients of one account share the spacing and those of another not', async () => {
    const time = virtualTime();
    const wire = scriptedFetch(time.now);
    const limiters = new AircallRateLimiters({ minIntervalMs: 500, sleep: time.sleep, now: time.now });
    const client = (account: string) =>
      new AircallClient({
        credentials: { ...BASIC, account },
        baseUrl: BASE_URL,
        fetch: wire.fetch,
        sleep: time.sleep,
        limiter: limiters.for(account),
      });
    wire.script(ok(), ok(), ok());
    await client('acme').getWebhook('w1');
    await client('globex').getWebhook('w1');
    await client('acme').getWebhook('w1');
    expect(startsOf(wire)).toEqual([0, 0, 500]);
  });
});
