// The Aircall client against a scripted local server: auth, pagination, rate limits, retries, errors and secrecy.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AircallApiError,
  AircallAuthError,
  AircallBadRequestError,
  AircallNotFoundError,
  AircallRateLimitError,
  AircallServerError,
  AircallUnavailableError,
} from '../../lambdas/shared/aircall/aircall.js';
import { AircallClient, type AircallClientOptions } from '../../lambdas/shared/aircall/aircall-client.js';
import { captureOutput } from '../support/capture.js';
import {
  type FakeAircall,
  refusingBaseUrl,
  type ScriptedReply,
  startFakeAircall,
} from '../support/fake-aircall.js';

const API_TOKEN = 'api-token-SECRET-9f2c';
const BASIC = { account: 'acme', apiId: 'api-id-1', apiToken: API_TOKEN };
const START = 1_700_000_000_000;

const wireWebhook = (id: string, overrides: Record<string, unknown> = {}) => ({
  webhook_id: id,
  direct_link: `https://api.aircall.io/v1/webhooks/${id}`,
  created_at: '2025-01-02T03:04:05.000Z',
  custom_name: 'Guardian',
  url: 'https://hooks.example.com/aircall',
  active: true,
  token: `webhook-token-${id}`,
  events: ['call.ended', 'call.hungup'],
  ...overrides,
});

const ok = (json: unknown, headers?: Record<string, string>): ScriptedReply => ({
  status: 200,
  json,
  ...(headers === undefined ? {} : { headers }),
});
const tooMany = (headers: Record<string, string> = {}): ScriptedReply => ({
  status: 429,
  json: { error: 'Too many requests' },
  headers,
});
const page = (ids: string[], next: string | null) => ({
  webhooks: ids.map((id) => wireWebhook(id)),
  meta: { count: ids.length, total: 101, current_page: 1, per_page: 50, next_page_link: next },
});

/** A clock that moves only when the client sleeps, so waits are exact and instant. */
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

let fake: FakeAircall;

beforeEach(async () => {
  fake = await startFakeAircall();
});

afterEach(async () => {
  await fake.close();
});

const clientFor = (options: Partial<AircallClientOptions> = {}) => {
  const time = virtualTime();
  const client = new AircallClient({
    credentials: BASIC,
    baseUrl: fake.baseUrl,
    sleep: time.sleep,
    now: time.now,
    ...options,
  });
  return { client, time };
};

describe('AircallClient authentication', () => {
  it('sends Basic base64(api_id:api_token)', async () => {
    fake.script(ok({ webhook: wireWebhook('w1') }));
    await clientFor().client.getWebhook('w1');
    expect(fake.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('api-id-1:api-token-SECRET-9f2c').toString('base64')}`,
    );
  });

  it('sends Bearer with the OAuth access token', async () => {
    fake.script(ok({ webhook: wireWebhook('w1') }));
    await clientFor({ credentials: { account: 'acme', accessToken: 'oauth-abc' } }).client.getWebhook('w1');
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer oauth-abc');
  });
});

describe('AircallClient.listWebhooks', () => {
  it('follows next_page_link across three pages and returns every webhook', async () => {
    const ids = Array.from({ length: 101 }, (_, index) => `w${index}`);
    fake.script(
      ok(page(ids.slice(0, 50), `${fake.baseUrl}/webhooks?page=2&per_page=50`)),
      ok(page(ids.slice(50, 100), `${fake.baseUrl}/webhooks?page=3&per_page=50`)),
      ok(page(ids.slice(100), null)),
    );
    const { webhooks, incomplete } = await clientFor().client.listWebhooks();
    expect(webhooks.map((webhook) => webhook.webhookId)).toEqual(ids);
    expect(incomplete).toBeUndefined();
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /v1/webhooks?per_page=50',
      'GET /v1/webhooks?page=2&per_page=50',
      'GET /v1/webhooks?page=3&per_page=50',
    ]);
  });

  it('refuses a next_page_link to another origin and sends it nothing', async () => {
    const elsewhere = await startFakeAircall();
    try {
      fake.script(ok(page(['w1'], `${elsewhere.baseUrl}/webhooks?page=2`)));
      const error = await rejection(clientFor().client.listWebhooks());
      expect(error).toBeInstanceOf(AircallApiError);
      expect(error.message).toContain(`Refused to follow next_page_link to ${elsewhere.origin}`);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('stops when a next_page_link comes back to a page already read', async () => {
    fake.script(ok(page(['w1'], `${fake.baseUrl}/webhooks?per_page=50`)));
    const error = await rejection(clientFor().client.listWebhooks());
    expect(error.message).toContain('did not end');
    expect(fake.requests).toHaveLength(1);
  });

  it('says a listing is incomplete when its pages hold fewer webhooks than their total', async () => {
    fake.script(ok(page(['w1'], null)));
    expect(await clientFor().client.listWebhooks()).toMatchObject({
      webhooks: [{ webhookId: 'w1' }],
      incomplete: 'the webhook list held 1 of 101 webhooks',
    });
  });

  it('says a listing is incomplete when a webhook comes back on two pages, and keeps it once', async () => {
    const withTotal = (ids: string[], next: string | null) => ({
      ...page(ids, next),
      meta: { total: 2, next_page_link: next },
    });
    fake.script(
      ok(withTotal(['w1', 'w2'], `${fake.baseUrl}/webhooks?page=2&per_page=50`)),
      ok(withTotal(['w2'], null)),
    );
    const listing = await clientFor().client.listWebhooks();
    expect(listing.webhooks.map((webhook) => webhook.webhookId)).toEqual(['w1', 'w2']);
    expect(listing.incomplete).toBe('the webhook list changed while it was read (1 read twice)');
  });

  it('trusts a listing without a total, as a single page without meta reads', async () => {
    fake.script(ok({ webhooks: [wireWebhook('w1')] }));
    expect(await clientFor().client.listWebhooks()).toEqual({
      webhooks: [expect.objectContaining({ webhookId: 'w1' })],
    });
  });

  it('tolerates a trailing slash on the base URL', async () => {
    fake.script(ok(page(['w1'], null)));
    await clientFor({ baseUrl: `${fake.baseUrl}/` }).client.listWebhooks();
    expect(fake.requests[0]?.path).toBe('/v1/webhooks?per_page=50');
  });
});

describe('AircallClient webhook reads', () => {
  it('maps the wire object, reading is_active when active is absent', async () => {
    const { active: _dropped, ...legacy } = wireWebhook('w1', { is_active: false });
    fake.script(ok({ webhook: legacy }));
    expect(await clientFor().client.getWebhook('w1')).toEqual({
      webhookId: 'w1',
      url: 'https://hooks.example.com/aircall',
      customName: 'Guardian',
      active: false,
      events: ['call.ended', 'call.hungup'],
      token: 'webhook-token-w1',
      createdAt: '2025-01-02T03:04:05.000Z',
    });
  });

  it('turns a numeric id into a string and defaults a missing name to Webhook', async () => {
    const { custom_name: _dropped, ...unnamed } = wireWebhook('w1', { webhook_id: 4242 });
    fake.script(ok({ webhook: unnamed }));
    const webhook = await clientFor().client.getWebhook('4242');
    expect(webhook).toMatchObject({ webhookId: '4242', customName: 'Webhook' });
  });

  it('encodes the id in the path', async () => {
    fake.script(ok({ webhook: wireWebhook('a/b c') }));
    await clientFor().client.getWebhook('a/b c');
    expect(fake.requests[0]?.path).toBe('/v1/webhooks/a%2Fb%20c');
  });
});

describe('AircallClient webhook writes', () => {
  it('creates with POST {url, custom_name, events} and reads the 201 answer', async () => {
    fake.script({ status: 201, json: { webhook: wireWebhook('w9') } });
    const created = await clientFor().client.createWebhook({
      url: 'https://hooks.example.com/aircall',
      customName: 'Guardian',
      events: ['call.ended'],
    });
    expect(created.token).toBe('webhook-token-w9');
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/v1/webhooks' });
    expect(fake.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(fake.requests[0]?.body ?? '')).toEqual({
      url: 'https://hooks.example.com/aircall',
      custom_name: 'Guardian',
      events: ['call.ended'],
    });
  });

  it('updates with PUT sending active and the given events, never is_active', async () => {
    fake.script(ok({ webhook: wireWebhook('w1') }));
    await clientFor().client.updateWebhook('w1', { active: true, events: ['call.ended', 'call.hungup'] });
    expect(fake.requests[0]).toMatchObject({ method: 'PUT', path: '/v1/webhooks/w1' });
    expect(JSON.parse(fake.requests[0]?.body ?? '')).toEqual({
      active: true,
      events: ['call.ended', 'call.hungup'],
    });
  });

  it('deletes with DELETE and accepts the 204', async () => {
    fake.script({ status: 204 });
    await expect(clientFor().client.deleteWebhook('w1')).resolves.toBeUndefined();
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /v1/webhooks/w1',
    ]);
  });
});

describe('AircallClient rate limiting', () => {
  it('waits until an X-AircallApi-Reset given in seconds, then succeeds', async () => {
    fake.script(
      tooMany({ 'X-AircallApi-Reset': String(START / 1000 + 3), 'X-AircallApi-Remaining': '0' }),
      ok({ webhook: wireWebhook('w1') }),
    );
    const { client, time } = clientFor();
    expect((await client.getWebhook('w1')).webhookId).toBe('w1');
    expect(time.waits).toEqual([3000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('waits until an X-AircallApi-Reset given in milliseconds, then succeeds', async () => {
    fake.script(tooMany({ 'X-AircallApi-Reset': String(START + 1500) }), ok({ webhook: wireWebhook('w1') }));
    const { client, time } = clientFor();
    await client.getWebhook('w1');
    expect(time.waits).toEqual([1500]);
  });

  it('waits at least 250 ms when the reset is due almost at once', async () => {
    fake.script(tooMany({ 'X-AircallApi-Reset': String(START + 10) }), ok({ webhook: wireWebhook('w1') }));
    const { client, time } = clientFor();
    await client.getWebhook('w1');
    expect(time.waits).toEqual([250]);
  });

  it('backs off from about a second, doubling, when there is no usable reset', async () => {
    fake.script(tooMany(), tooMany({ 'X-AircallApi-Reset': 'soon' }), ok({ webhook: wireWebhook('w1') }));
    const { client, time } = clientFor();
    await client.getWebhook('w1');
    const [first = 0, second = 0] = time.waits;
    expect(time.waits).toHaveLength(2);
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1000);
    expect(second).toBeGreaterThanOrEqual(1000);
    expect(second).toBeLessThanOrEqual(2000);
  });

  it('gives up with AircallRateLimitError once the wait budget is spent', async () => {
    const reset = { 'X-AircallApi-Reset': String(START / 1000 + 60) };
    fake.script(tooMany(reset), tooMany(reset), tooMany(reset));
    const { client, time } = clientFor({ maxRateLimitWaitMs: 5000 });
    const error = await rejection(client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallRateLimitError);
    expect((error as AircallRateLimitError).status).toBe(429);
    expect(time.waits).toEqual([5000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('counts the waits of every page of a list against one budget', async () => {
    const reset = { 'X-AircallApi-Reset': String(START + 3000) };
    fake.script(
      tooMany(reset),
      ok(page(['w1'], `${fake.baseUrl}/webhooks?page=2&per_page=50`)),
      tooMany({ 'X-AircallApi-Reset': String(START + 9000) }),
      tooMany(reset),
    );
    const { client, time } = clientFor({ maxRateLimitWaitMs: 4000 });
    const error = await rejection(client.listWebhooks());
    expect(error).toBeInstanceOf(AircallRateLimitError);
    expect(time.waits).toEqual([3000, 1000]);
  });

  it('pauses before the next request when X-AircallApi-Remaining reached 0', async () => {
    fake.script(
      ok(
        { webhook: wireWebhook('w1') },
        { 'X-AircallApi-Remaining': '0', 'X-AircallApi-Reset': String(START + 2000) },
      ),
      ok({ webhook: wireWebhook('w1') }, { 'X-AircallApi-Remaining': '119' }),
      ok({ webhook: wireWebhook('w1') }),
    );
    const { client, time } = clientFor();
    await client.getWebhook('w1');
    expect(time.waits).toEqual([]);
    await client.getWebhook('w1');
    await client.getWebhook('w1');
    expect(time.waits).toEqual([2000]);
  });

  it('spaces request starts by minIntervalMs', async () => {
    fake.script(...Array.from({ length: 3 }, () => ok({ webhook: wireWebhook('w1') })));
    const time = virtualTime();
    const starts: number[] = [];
    const client = new AircallClient({
      credentials: BASIC,
      baseUrl: fake.baseUrl,
      minIntervalMs: 500,
      sleep: time.sleep,
      now: time.now,
      fetch: (input, init) => {
        starts.push(time.now() - START);
        return fetch(input, init);
      },
    });
    for (let call = 0; call < 3; call++) await client.getWebhook('w1');
    expect(starts).toEqual([0, 500, 1000]);
  });

  it('keeps the spacing between concurrent calls on the real clock', async () => {
    fake.script(...Array.from({ length: 3 }, () => ok({ webhook: wireWebhook('w1') })));
    const starts: number[] = [];
    const client = new AircallClient({
      credentials: BASIC,
      baseUrl: fake.baseUrl,
      minIntervalMs: 100,
      fetch: (input, init) => {
        starts.push(performance.now());
        return fetch(input, init);
      },
    });
    await Promise.all([client.getWebhook('w1'), client.getWebhook('w1'), client.getWebhook('w1')]);
    const gaps = starts.slice(1).map((start, index) => start - (starts[index] ?? 0));
    expect(gaps).toHaveLength(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
  });
});

describe('AircallClient retries', () => {
  it('retries a GET after a 500 and returns the webhook', async () => {
    fake.script({ status: 500, json: { error: 'Internal error' } }, ok({ webhook: wireWebhook('w1') }));
    const { client, time } = clientFor();
    expect((await client.getWebhook('w1')).webhookId).toBe('w1');
    expect(fake.requests).toHaveLength(2);
    expect(time.waits).toHaveLength(1);
  });

  it('gives a PUT three tries in all, then throws AircallServerError', async () => {
    fake.script(...Array.from({ length: 3 }, () => ({ status: 503, json: { error: 'Unavailable' } })));
    const error = await rejection(clientFor().client.updateWebhook('w1', { active: true }));
    expect(error).toBeInstanceOf(AircallServerError);
    expect(error.message).toContain('(503): Unavailable');
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry a POST that got a 500', async () => {
    fake.script(
      { status: 500, json: { error: 'Internal error' } },
      { status: 201, json: { webhook: wireWebhook('w2') } },
    );
    const error = await rejection(
      clientFor().client.createWebhook({ url: 'https://hooks.example.com/aircall' }),
    );
    expect(error).toBeInstanceOf(AircallServerError);
    expect(fake.requests).toHaveLength(1);
  });

  it('throws AircallUnavailableError within about the timeout when the server never answers a POST', async () => {
    fake.script({ hang: true });
    const started = performance.now();
    const error = await rejection(
      clientFor({ timeoutMs: 200 }).client.createWebhook({ url: 'https://hooks.example.com/aircall' }),
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(AircallUnavailableError);
    expect(error.message).toContain('within 200 ms');
    expect(error.message).toContain('may have been created');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    expect(fake.requests).toHaveLength(1);
  });

  it('tries a silent GET three times, each within the timeout', async () => {
    fake.script({ hang: true }, { hang: true }, { hang: true });
    const started = performance.now();
    const error = await rejection(clientFor({ timeoutMs: 100 }).client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallUnavailableError);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(fake.requests).toHaveLength(3);
  });

  it('throws AircallUnavailableError naming the refused connection', async () => {
    const error = await rejection(clientFor({ baseUrl: await refusingBaseUrl() }).client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallUnavailableError);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('AircallClient errors', () => {
  const troubleshoot = { error: 'Nope', troubleshoot: 'Check the docs at https://developer.aircall.io' };

  it.each([
    [400, AircallBadRequestError],
    [401, AircallAuthError],
    [403, AircallAuthError],
    [404, AircallNotFoundError],
  ])('maps %i to its error class with the troubleshoot text', async (status, errorClass) => {
    fake.script({ status, json: troubleshoot });
    const error = await rejection(clientFor().client.getWebhook('w1'));
    expect(error).toBeInstanceOf(errorClass);
    expect((error as AircallApiError).status).toBe(status);
    expect(error.message).toContain(`(${status}): Nope: Check the docs at https://developer.aircall.io`);
    expect(fake.requests).toHaveLength(1);
  });

  it('throws AircallApiError on a body that is not JSON', async () => {
    fake.script({ status: 200, text: '<html>gateway</html>' });
    const error = await rejection(clientFor().client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallApiError);
    expect(error.message).toBe('Aircall answered GET /v1/webhooks/w1 with a body that is not JSON');
  });

  it('throws AircallApiError naming the field when the webhook has the wrong shape', async () => {
    fake.script(ok({ webhook: wireWebhook('w1', { events: 'all' }) }));
    const error = await rejection(clientFor().client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallApiError);
    expect(error.message).toContain('webhook.events is not a list of names');
  });

  it('does not follow a redirect', async () => {
    fake.script({ status: 302, headers: { location: 'http://example.com/steal' } });
    const error = await rejection(clientFor().client.getWebhook('w1'));
    expect(error).toBeInstanceOf(AircallApiError);
    expect((error as AircallApiError).status).toBe(302);
    expect(fake.requests).toHaveLength(1);
  });

  it('never puts the api_token or a webhook token in a message, and logs nothing', async () => {
    const webhookToken = 'webhook-token-w1';
    const { client } = clientFor({ maxRateLimitWaitMs: 0 });
    fake.script(
      { status: 200, text: `{"webhook": {"token": "${webhookToken}", "url": 1` },
      ok({ webhook: wireWebhook('w1', { url: null }) }),
      ok({ webhooks: [wireWebhook('w1', { active: 'yes' })] }),
      { status: 400, json: { error: `bad token ${API_TOKEN}`, troubleshoot: 'Use a valid token' } },
      { status: 401, json: { error: 'Unauthorized' } },
      tooMany(),
    );
    const { result: errors, output } = await captureOutput(async () => [
      await rejection(client.getWebhook('w1')),
      await rejection(client.getWebhook('w1')),
      await rejection(client.listWebhooks()),
      await rejection(client.updateWebhook('w1', { active: true })),
      await rejection(client.deleteWebhook('w1')),
      await rejection(client.getWebhook('w1')),
    ]);
    expect(errors.map((error) => error.constructor)).toEqual([
      AircallApiError,
      AircallApiError,
      AircallApiError,
      AircallBadRequestError,
      AircallAuthError,
      AircallRateLimitError,
    ]);
    for (const error of errors) {
      expect(error.stack).not.toContain(API_TOKEN);
      expect(error.message).not.toContain(API_TOKEN);
      expect(error.message).not.toContain(webhookToken);
    }
    expect(errors[3]?.message).toContain('[redacted]');
    expect(output).toBe('');
  });
});
